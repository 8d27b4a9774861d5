import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hospitalA } from '../fixtures/tenants.js';
import { HANG_BACKSTOP_MS } from '../helpers/backstop.js';
import { compiledEntry } from '../helpers/test-build.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const ROOT = new URL('../../', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'fhirgate-cli-'));
const tenant = hospitalA();

// A dedicated read-only user whose password is a canary: it must never show up in any output.
const user = `fgcli_${randomBytes(4).toString('hex')}`;
const password = `ZZPW-${randomBytes(12).toString('hex')}`;
const wrongPassword = `ZZPW-${randomBytes(12).toString('hex')}`;
const HOSTS = ['%', 'localhost'];

let db: TestDatabase;
let url: string;
let wrongUrl: string;
const files = {
  good: join(dir, 'good.json'),
  broken: join(dir, 'broken.json'),
  invalid: join(dir, 'invalid.json'),
  missing: join(dir, 'missing.json'),
  urlFile: join(dir, 'database-url'),
};

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const results: CliResult[] = [];

/**
 * Runs the CLI compiled, as the installed binary does (see test-build.ts), or through the bin
 * shim on the sources; with an empty environment.
 */
function cli(args: string[], entry: 'main' | 'bin' = 'main'): Promise<CliResult> {
  const argv =
    entry === 'main' ? [compiledEntry('cli/main'), ...args] : ['bin/fhirgate.js', ...args];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      argv,
      { cwd: ROOT, env: {}, timeout: HANG_BACKSTOP_MS },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        const result = { code, stdout, stderr };
        results.push(result);
        resolve(result);
      },
    );
  });
}

beforeAll(async () => {
  db = await createTestDatabase('cli');
  for (const ddl of tenant.ddl) {
    await db.exec(ddl);
  }
  for (const host of HOSTS) {
    await db.exec('CREATE USER ?@? IDENTIFIED BY ?', [user, host, password]);
    await db.exec(`GRANT SELECT ON \`${db.name}\`.* TO ?@?`, [user, host]);
  }
  url = `mysql://${user}:${password}@${db.host}:${db.port}/${db.name}`;
  wrongUrl = `mysql://${user}:${wrongPassword}@${db.host}:${db.port}/${db.name}`;

  const broken = structuredClone(tenant.mapping) as {
    resources: { Patient: { table: string; elements: Record<string, unknown> } };
  };
  broken.resources.Patient.elements['name[0].prefix[0]'] = 'titulo';
  broken.resources.Patient.elements['multipleBirthInteger'] = 'rut_pac';
  writeFileSync(files.good, JSON.stringify(tenant.mapping, null, 2));
  writeFileSync(files.broken, JSON.stringify(broken, null, 2));
  writeFileSync(files.invalid, '{\n  "formatVersion": 1,\n  "resources": {,}\n}\n');
  writeFileSync(files.urlFile, `${url}\n`);
});

afterAll(async () => {
  for (const host of HOSTS) {
    await db?.exec('DROP USER IF EXISTS ?@?', [user, host]);
  }
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
  // Every output of every run: neither password, nor the URL, ever.
  for (const { stdout, stderr } of results) {
    for (const secret of [password, wrongPassword, 'ZZPW-']) {
      expect(stdout).not.toContain(secret);
      expect(stderr).not.toContain(secret);
    }
  }
});

function expectNoSecrets(result: CliResult): void {
  const out = result.stdout + result.stderr;
  expect(out).not.toContain(password);
  expect(out).not.toContain(wrongPassword);
  expect(out).not.toContain(url);
}

describe.concurrent('fhirgate mapping check', () => {
  it('exits 0 for a mapping that fits the database', async () => {
    const result = await cli(['mapping', 'check', files.good, '--database-url', url]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(
      /^OK: .*good\.json passes against mysql [^ ]+\/cli_[0-9a-f]{8}\.\n$/,
    );
    expectNoSecrets(result);
  });

  it('exits 1 and prints one line per problem, then a summary', async () => {
    const result = await cli(['mapping', 'check', files.broken, `--database-url=${url}`]);
    expect(result).toMatchObject({ code: 1, stderr: '' });
    expect(result.stdout.split('\n')).toEqual([
      'Patient name[0].prefix[0] titulo: column "titulo" does not exist in table "pacientes"',
      expect.stringMatching(
        /^Patient multipleBirthInteger rut_pac: an integer element needs a "number" transform to read column "rut_pac", which is varchar\(12\)$/,
      ),
      expect.stringMatching(
        /^2 errors in .*broken\.json against mysql .*; it would not be activated\.$/,
      ),
      '',
    ]);
    expectNoSecrets(result);
  });

  it('reads the URL from --database-url-file, through the installed bin shim', async () => {
    const result = await cli(
      ['mapping', 'check', files.good, '--database-url-file', files.urlFile],
      'bin',
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^OK: /);
    expectNoSecrets(result);
  });

  it('exits 2 on a wrong password, naming the failure but not the password', async () => {
    const result = await cli(['mapping', 'check', files.good, '--database-url', wrongUrl]);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(
      /^fhirgate mapping check: cannot connect to mysql [^ ]+\/cli_[0-9a-f]{8}: access denied \(check the user and password\)\.\n$/,
    );
    expect(result.stderr).not.toContain(user);
    expectNoSecrets(result);
  });

  it('exits 2 when the database cannot be reached', async () => {
    const result = await cli([
      'mapping',
      'check',
      files.good,
      '--database-url',
      `mysql://${user}:${password}@127.0.0.1:1/${db.name}`,
    ]);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(
      /cannot connect to mysql 127\.0\.0\.1:1\/cli_[0-9a-f]{8}: connection refused\.\n$/,
    );
    expectNoSecrets(result);
  });

  it('exits 2 on a URL the parser rejects, without quoting it', async () => {
    const result = await cli(['mapping', 'check', files.good, '--database-url', `${url}?ssl=1`]);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe(
      'fhirgate mapping check: database URL rejected: query parameters are not allowed.\n',
    );
    expectNoSecrets(result);
  });

  it('exits 2 on an unreadable file or invalid JSON', async () => {
    const missing = await cli(['mapping', 'check', files.missing, '--database-url', url]);
    expect(missing).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'fhirgate mapping check: cannot read the mapping file (ENOENT).\n',
    });
    const invalid = await cli(['mapping', 'check', files.invalid, '--database-url', url]);
    expect(invalid).toMatchObject({ code: 2, stdout: '' });
    expect(invalid.stderr).toMatch(/^fhirgate mapping check: the mapping file is not valid JSON/);
    expectNoSecrets(missing);
    expectNoSecrets(invalid);
  });

  it('exits 2 on bad usage, never echoing a misplaced URL', async () => {
    const misplaced = await cli(['mapping', 'check', files.good, url]);
    expect(misplaced).toMatchObject({ code: 2, stdout: '' });
    expect(misplaced.stderr).toMatch(/expected exactly one mapping file/);
    expectNoSecrets(misplaced);

    const noUrl = await cli(['mapping', 'check', files.good]);
    expect(noUrl).toMatchObject({ code: 2, stdout: '' });
    expect(noUrl.stderr).toMatch(/--database-url \(or --database-url-file\) is required/);

    const unknownOption = await cli(['mapping', 'check', files.good, `--url=${url}`]);
    expect(unknownOption).toMatchObject({ code: 2, stdout: '' });
    expect(unknownOption.stderr).toMatch(/unknown option "--url"/);
    expectNoSecrets(unknownOption);

    const twice = await cli([
      'mapping',
      'check',
      files.good,
      '--database-url',
      url,
      '--database-url',
      url,
    ]);
    expect(twice).toMatchObject({ code: 2, stdout: '' });
    expectNoSecrets(twice);
  });
});

describe.concurrent('fhirgate', () => {
  it('prints help on stdout and exits 0', async () => {
    const help = await cli(['help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: fhirgate <command>/);
    expect(help.stdout).toMatch(
      /^ {2}mapping +check, preview, activate, list, show, diff or roll back/m,
    );
    expect(help.stdout).toMatch(
      /^ {2}token +get an access token: from an OpenID provider, or the demo issuer/m,
    );
    expect(help.stdout).toMatch(
      /^ {2}tenant +add, update, remove, list, show, disable or enable tenants/m,
    );
    expect(help.stdout).toMatch(/^ {2}keys +re-seal every tenant database URL/m);

    const mappingHelp = await cli(['help', 'mapping']);
    expect(mappingHelp).toMatchObject({ code: 0, stderr: '' });
    expect(mappingHelp.stdout).toMatch(/fhirgate mapping check <file> --database-url <url>/);

    const checkHelp = await cli(['mapping', 'check', '--help']);
    expect(checkHelp.stdout).toBe(mappingHelp.stdout);
  });

  it('prints usage on stderr and exits 2 for no command or an unknown one', async () => {
    const none = await cli([]);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toMatch(/^Usage: fhirgate <command>/);

    const unknown = await cli(['tenants', 'add']);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/^fhirgate: unknown command "tenants"\.\n\nUsage: fhirgate/);

    const pasted = await cli([url]);
    expect(pasted).toMatchObject({ code: 2, stdout: '' });
    expect(pasted.stderr).toMatch(/^fhirgate: unknown command\.\n/);
    expectNoSecrets(pasted);

    const unknownSub = await cli(['mapping', 'publish']);
    expect(unknownSub).toMatchObject({ code: 2, stdout: '' });
    expect(unknownSub.stderr).toMatch(/^fhirgate mapping: unknown subcommand "publish"\./);
  });

  it('delegates token to src/cli/token.ts, keeping its output and exit codes', async () => {
    const help = await cli(['token', '--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: npm run -s token -- --tenant <client-id>/);

    const minted = await cli(['token', '--tenant', 'hospital-a', '--data-dir', dir]);
    expect(minted).toMatchObject({ code: 0, stderr: '' });
    expect(minted.stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);

    const bad = await cli(['token']);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toMatch(/--tenant is required/);
  });
});
