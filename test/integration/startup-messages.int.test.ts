/**
 * What a user reads when the gateway or the CLI cannot start: the message says what is wrong and
 * what to do, names no secret, and a mistyped registry path leaves no empty file behind.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMain } from '../helpers/main-process.js';
import { compiledEntry } from '../helpers/test-build.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const key = randomBytes(32).toString('base64');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fhirgate-startup-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function production(registryFile: string): Record<string, string> {
  return {
    FHIRGATE_REGISTRY_URL: `sqlite:${registryFile}`,
    FHIRGATE_ENCRYPTION_KEY: key,
    FHIRGATE_OIDC_ISSUER: 'https://keycloak.invalid/realms/hospitals',
    PORT: '0',
    LOG_LEVEL: 'warn',
  };
}

async function boot(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const run = startMain(env);
  const { code } = await run.exited;
  return { code, out: run.output() };
}

function cli(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [compiledEntry('cli/main'), ...args],
      { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env } },
      (err, _stdout, stderr) => {
        resolve({ code: err === null ? 0 : Number(err.code ?? -1), stderr });
      },
    );
  });
}

describe('the gateway at boot', () => {
  it('names the port that is in use and the setting that moves it', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()));
    const { port } = holder.address() as { port: number };
    try {
      const { code, out } = await boot({
        FHIRGATE_DATA_DIR: join(dir, 'demo'),
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
      });
      expect(code).toBe(1);
      expect(out).toContain(`fhirgate: port ${port} on 127.0.0.1 is already in use (EADDRINUSE)`);
      expect(out).toContain('set PORT to a free port');
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('stops on a registry file that does not exist, and creates none', async () => {
    const missing = join(dir, 'no-such-registry.db');
    const { code, out } = await boot(production(missing));
    expect(code).toBe(1);
    expect(out).toContain('the registry file that FHIRGATE_REGISTRY_URL names does not exist');
    expect(out).toContain('`fhirgate tenant add` creates it');
    expect(out).not.toContain(missing);
    expect(existsSync(missing)).toBe(false);
  });

  it('stops on an empty registry file, saying how to create the tables', async () => {
    const empty = join(dir, 'empty-registry.db');
    writeFileSync(empty, '');
    const { code, out } = await boot(production(empty));
    expect(code).toBe(1);
    expect(out).toContain('the registry database has no fhirgate tables');
    expect(out).not.toContain('SQLITE_ERROR');
  });

  it('says how to make an encryption key when none is set', async () => {
    const env = production(join(dir, 'unused.db'));
    delete env['FHIRGATE_ENCRYPTION_KEY'];
    const { code, out } = await boot(env);
    expect(code).toBe(1);
    expect(out).toContain('FHIRGATE_ENCRYPTION_KEY: required');
    expect(out).toContain('`openssl rand -base64 32`');
  });
});

describe('the CLI on a registry that is not there', () => {
  it('reports a missing registry file for tenant list and leaves no file behind', async () => {
    const missing = join(dir, 'cli-missing.db');
    const before = readdirSync(dir);
    const result = await cli(['tenant', 'list'], production(missing));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'fhirgate tenant list: the registry file that FHIRGATE_REGISTRY_URL names does not exist',
    );
    expect(existsSync(missing)).toBe(false);
    expect(readdirSync(dir)).toEqual(before);
  });

  it('reports an empty registry file instead of a statement failure', async () => {
    const empty = join(dir, 'cli-empty.db');
    writeFileSync(empty, '');
    for (const args of [
      ['tenant', 'list'],
      ['tenant', 'disable', 'hospital-a'],
      ['keys', 'rotate'],
    ]) {
      const result = await cli(args, production(empty));
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('the registry database has no fhirgate tables');
      expect(result.stderr).not.toContain('SQLITE_ERROR');
    }
  });

  it('says how to make a key when tenant add has none', async () => {
    const env = production(join(dir, 'cli-add.db'));
    delete env['FHIRGATE_ENCRYPTION_KEY'];
    const urlFile = join(dir, 'tenant-url');
    writeFileSync(urlFile, `sqlite:${join(dir, 'tenant.db')}\n`);
    const result = await cli(['tenant', 'add', 'hospital-a', '--database-url-file', urlFile], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('`openssl rand -base64 32`');
  });
});
