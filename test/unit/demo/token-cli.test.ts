import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { HANG_BACKSTOP_MS } from '../../helpers/backstop.js';

const ROOT = new URL('../../../', import.meta.url);
const dataDir = mkdtempSync(join(tmpdir(), 'fhirgate-token-cli-'));

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `src/cli/token.ts` the way `npm run token` does, with only `env` as its environment (no
 * FHIRGATE_* from the shell; node is started by absolute path, so no PATH is needed).
 */
function token(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/token.ts', ...args],
      { cwd: ROOT, env: { ...env }, timeout: HANG_BACKSTOP_MS },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const JWT_LINE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/;

// Every test starts a cold `tsx` process, all at once: on a busy machine that is several seconds.
describe.concurrent('npm run token', { timeout: HANG_BACKSTOP_MS }, () => {
  it('prints exactly one line, the token, and nothing on stderr', async () => {
    const result = await token([
      '--tenant',
      'hospital-b',
      '--roles',
      'fhir-read,fhir-write',
      '--subject',
      'dr-rojas',
      '--lifetime',
      '900',
      '--data-dir',
      dataDir,
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(JWT_LINE);
    const claims = decodeJwt(result.stdout.trim());
    expect(claims).toMatchObject({
      azp: 'hospital-b',
      sub: 'dr-rojas',
      resource_access: { 'hospital-b': { roles: ['fhir-read', 'fhir-write'] } },
    });
    expect(claims.exp! - claims.iat!).toBe(900);
  });

  it('reads the data dir from FHIRGATE_DATA_DIR and defaults to fhir-read', async () => {
    const result = await token(['--tenant', 'hospital-a'], { FHIRGATE_DATA_DIR: dataDir });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(decodeJwt(result.stdout.trim())).toMatchObject({
      resource_access: { 'hospital-a': { roles: ['fhir-read'] } },
    });
  });

  it('warns about a tenant that is not a demo hospital, and still mints', async () => {
    const result = await token(['--tenant', 'hospital-z', '--data-dir', dataDir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(JWT_LINE);
    expect(result.stderr).toMatch(/warning: "hospital-z" is not a demo hospital.*UNKNOWN_TENANT/);
  });

  it.each<[string, string[], RegExp]>([
    ['no --tenant', ['--data-dir', dataDir], /--tenant is required/],
    [
      'an unknown role',
      ['--tenant', 'hospital-a', '--roles', 'fhir-read,admin'],
      /unknown role "admin"/,
    ],
    ['an empty role list', ['--tenant', 'hospital-a', '--roles', ','], /--roles is empty/],
    ['a lifetime over an hour', ['--tenant', 'hospital-a', '--lifetime', '3601'], /--lifetime/],
    [
      'a lifetime that is not a number',
      ['--tenant', 'hospital-a', '--lifetime', '1h'],
      /--lifetime/,
    ],
    ['an unknown option', ['--tenant', 'hospital-a', '--tennant', 'x'], /--tennant/],
    ['a stray argument', ['hospital-a'], /hospital-a/],
    ['--tenant without a value', ['--tenant'], /--tenant/],
  ])('exits 2 on %s, saying what is wrong on stderr only', async (_name, args, message) => {
    const result = await token([
      ...args,
      ...(args.includes('--data-dir') ? [] : ['--data-dir', dataDir]),
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  it('explains a bad environment instead of minting with it', async () => {
    const result = await token(['--tenant', 'hospital-a'], { FHIRGATE_DATA_DIR: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/FHIRGATE_DATA_DIR/);
  });

  it('prints usage on --help', async () => {
    const result = await token(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run -s token -- --tenant/);
  });
});
