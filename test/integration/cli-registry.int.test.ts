import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantHash } from '../../src/logger.js';
import { openSecret, parseKeyring } from '../../src/tenancy/crypto.js';
import { parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import { createTenantRegistry, type TenantRegistry } from '../../src/tenancy/registry.js';
import { hospitalA } from '../fixtures/tenants.js';
import { HANG_BACKSTOP_MS } from '../helpers/backstop.js';
import { compiledEntry } from '../helpers/test-build.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * `fhirgate tenant ...` and `fhirgate keys rotate` as real child processes against a real
 * MariaDB registry. The tenant database user's password is a canary that must never appear in
 * any output.
 */

const ROOT = new URL('../../', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'fhirgate-cli-registry-'));
const tenant = hospitalA();
const user = `fgreg_${randomBytes(4).toString('hex')}`;
const password = `ZZPW-${randomBytes(12).toString('hex')}`;
const HOSTS = ['%', 'localhost'];
const key1 = randomBytes(32).toString('base64');
const key2 = randomBytes(32).toString('base64');

let tenantDb: TestDatabase;
let registryDb: TestDatabase;
let registry: TenantRegistry;
let url: string;
const files = {
  good: join(dir, 'good.json'),
  broken: join(dir, 'broken.json'),
  urlFile: join(dir, 'url.txt'),
};

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
const results: CliResult[] = [];

function baseEnv(): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    FHIRGATE_REGISTRY_URL: registryDb.url,
    FHIRGATE_ENCRYPTION_KEY: key1,
  };
}

/**
 * Runs the CLI compiled, as the installed binary does (`main`, see test-build.ts), through the bin
 * shim on the sources, or through npm itself.
 */
function cli(
  args: string[],
  env: Record<string, string> = baseEnv(),
  entry: 'main' | 'bin' | 'npm' = 'main',
): Promise<CliResult> {
  const [file, argv] =
    entry === 'npm'
      ? ['npm', ['run', '-s', 'fhirgate', '--', ...args]]
      : [
          process.execPath,
          entry === 'main' ? [compiledEntry('cli/main'), ...args] : ['bin/fhirgate.js', ...args],
        ];
  return new Promise((resolve) => {
    execFile(
      file as string,
      argv as string[],
      { cwd: ROOT, env, timeout: HANG_BACKSTOP_MS },
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
  tenantDb = await createTestDatabase('clit');
  for (const ddl of tenant.ddl) {
    await tenantDb.exec(ddl);
  }
  for (const host of HOSTS) {
    await tenantDb.exec('CREATE USER ?@? IDENTIFIED BY ?', [user, host, password]);
    await tenantDb.exec(`GRANT SELECT ON \`${tenantDb.name}\`.* TO ?@?`, [user, host]);
  }
  url = `mysql://${user}:${password}@${tenantDb.host}:${tenantDb.port}/${tenantDb.name}`;
  registryDb = await createTestDatabase('clireg');
  registry = createTenantRegistry(parseDatabaseUrl(registryDb.url));

  const broken = structuredClone(tenant.mapping) as {
    resources: { Patient: { elements: Record<string, unknown> } };
  };
  broken.resources.Patient.elements['name[0].prefix[0]'] = 'titulo';
  writeFileSync(files.good, JSON.stringify(tenant.mapping));
  writeFileSync(files.broken, JSON.stringify(broken));
  writeFileSync(files.urlFile, `${url}\n`);
});

afterAll(async () => {
  await registry?.close();
  for (const host of HOSTS) {
    await tenantDb?.exec('DROP USER IF EXISTS ?@?', [user, host]);
  }
  await Promise.allSettled([tenantDb?.drop(), registryDb?.drop()]);
  rmSync(dir, { recursive: true, force: true });
  for (const { stdout, stderr } of results) {
    for (const secret of [password, 'ZZPW-', url, key1, key2]) {
      expect(stdout).not.toContain(secret);
      expect(stderr).not.toContain(secret);
    }
  }
});

describe.sequential('fhirgate tenant and keys against a real registry', () => {
  it('tenant add checks the mapping, seals the URL and activates version 1', async () => {
    const result = await cli([
      'tenant',
      'add',
      'hospital-a',
      '--database-url',
      url,
      '--mapping',
      files.good,
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(
      'Added tenant "hospital-a" (mysql, TLS disable, URL sealed with key k1); mapping version 1 active.\n',
    );
    const found = await registry.findTenant('hospital-a');
    expect(found?.tenant).toMatchObject({ dbType: 'mysql', status: 'active' });
    expect(found?.mapping?.version).toBe(1);
    expect(found?.tenant.sealedUrl).toMatch(/^v1\.k1\./);
    expect(found?.tenant.sealedUrl).not.toContain(password);
    expect(
      openSecret(parseKeyring({ primaryKey: key1 }), 'hospital-a', found?.tenant.sealedUrl ?? ''),
    ).toBe(url);
  });

  it('tenant add refuses a client id that is taken (exit 1) and changes nothing', async () => {
    const before = (await registry.findTenant('hospital-a'))?.tenant.sealedUrl;
    const result = await cli(['tenant', 'add', 'hospital-a', '--database-url-file', files.urlFile]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(
      'fhirgate tenant add: tenant "hospital-a" already exists; nothing was changed.\n',
    );
    expect((await registry.findTenant('hospital-a'))?.tenant.sealedUrl).toBe(before);
  });

  it('tenant add with a mapping that has problems prints them, exits 1, adds nothing', async () => {
    const result = await cli([
      'tenant',
      'add',
      'hospital-x',
      '--database-url-file',
      files.urlFile,
      '--mapping',
      files.broken,
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      'Patient name[0].prefix[0] titulo: column "titulo" does not exist in table "pacientes"\n',
    );
    expect(result.stderr).toBe(
      'fhirgate tenant add: the mapping has 1 problem; the tenant was not added.\n',
    );
    expect(await registry.findTenant('hospital-x')).toBeUndefined();
  });

  it('tenant add without a mapping registers the tenant with none active', async () => {
    const result = await cli([
      'tenant',
      'add',
      'hospital-b',
      '--database-url-file',
      files.urlFile,
      '--name',
      'Hospital B',
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('no mapping yet');
    const found = await registry.findTenant('hospital-b');
    expect(found?.tenant.displayName).toBe('Hospital B');
    expect(found?.mapping).toBeUndefined();
  });

  it('rejects bad input with exit 2 and a message that quotes no URL', async () => {
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [
        ['tenant', 'add', 'hospital-c', '--database-url', `${url}?multipleStatements=true`],
        /the database URL is invalid: .*query parameters/,
      ],
      [
        ['tenant', 'add', 'hospital-c', '--database-url', `sqlserver://${user}:${password}@db/x`],
        /the database URL is invalid/,
      ],
      [['tenant', 'add', 'hospital-c'], /--database-url \(or --database-url-file\) is required/],
      [['tenant', 'add', '--database-url', url], /the client id is required/],
      [['tenant', 'add', 'a', 'b', '--database-url', url], /expected one client id/],
      [
        ['tenant', 'add', 'hospital-c', '--database-url', url, '--color'],
        /unknown option "--color"/,
      ],
      [
        ['tenant', 'add', 'hospital-c', '--mapping', join(dir, 'nope.json'), '--database-url', url],
        /cannot read the mapping file \(ENOENT\)/,
      ],
      [['tenant', 'disable'], /the client id is required/],
      [['tenant', 'frob'], /unknown subcommand "frob"/],
      [['tenant'], /a subcommand is required/],
      [['keys', 'spin'], /unknown subcommand "spin"/],
      [['keys', 'rotate', 'now'], /keys rotate takes no arguments/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['tenant', 'list'], /FHIRGATE_REGISTRY_URL is not set/, { PATH: process.env['PATH'] ?? '' }],
      [
        ['tenant', 'add', 'hospital-c', '--database-url', url],
        /FHIRGATE_ENCRYPTION_KEY is missing/,
        { PATH: process.env['PATH'] ?? '', FHIRGATE_REGISTRY_URL: registryDb.url },
      ],
      [
        ['tenant', 'add', 'hospital-c', '--database-url', url],
        /FHIRGATE_ENCRYPTION_KEY decodes to 3 bytes/,
        { ...baseEnv(), FHIRGATE_ENCRYPTION_KEY: 'AAAA' },
      ],
    ];
    // Four at a time: a loaded CI machine runs out of time with sixteen at once.
    const outcomes: CliResult[] = [];
    for (let i = 0; i < cases.length; i += 4) {
      outcomes.push(
        ...(await Promise.all(cases.slice(i, i + 4).map(([args, , env]) => cli(args, env)))),
      );
    }
    outcomes.forEach((result, i) => {
      const [args, pattern] = cases[i] as [string[], RegExp];
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(pattern);
    });
    expect(await registry.findTenant('hospital-c')).toBeUndefined();
  });

  it('tenant list prints ids, status, type, key id and mapping version, never a URL', async () => {
    const result = await cli(['tenant', 'list']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    // The log hash is what gateway log lines and metrics name the tenant by.
    expect(result.stdout.split('\n')).toEqual([
      'CLIENT_ID   LOG_HASH      STATUS  DB     KEY  MAPPING',
      `hospital-a  ${tenantHash('hospital-a')}  active  mysql  k1   v1`,
      `hospital-b  ${tenantHash('hospital-b')}  active  mysql  k1   -`,
      '2 tenants.',
      '',
    ]);
    expect(result.stdout).not.toContain(tenantDb.name);
    expect(result.stdout).not.toContain(user);
  });

  it('tenant disable and enable flip the status; an unknown tenant is exit 1', async () => {
    const unknown = await cli(['tenant', 'disable', 'hospital-zz']);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toBe('fhirgate tenant disable: unknown tenant "hospital-zz".\n');

    const disabled = await cli(['tenant', 'disable', 'hospital-b']);
    expect(disabled).toMatchObject({ code: 0, stderr: '' });
    expect(disabled.stdout).toMatch(
      /^Tenant "hospital-b" disabled; running gateways apply it within/,
    );
    expect((await registry.findTenant('hospital-b'))?.tenant.status).toBe('disabled');

    const enabled = await cli(['tenant', 'enable', 'hospital-b'], baseEnv(), 'bin');
    expect(enabled).toMatchObject({ code: 0, stderr: '' });
    expect((await registry.findTenant('hospital-b'))?.tenant.status).toBe('active');
  });

  it('tenant disable with REDIS_URL publishes the client id on the reload channel', async () => {
    const channel = `fhirgate-test:${randomBytes(6).toString('hex')}`;
    const subscriber = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    try {
      await subscriber.connect();
      const messages: string[] = [];
      subscriber.on('message', (_ch: string, message: string) => messages.push(message));
      await subscriber.subscribe(channel);
      const result = await cli(['tenant', 'disable', 'hospital-b'], {
        ...baseEnv(),
        REDIS_URL: 'redis://127.0.0.1:6379',
        FHIRGATE_RELOAD_CHANNEL: channel,
      });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toBe(
        'Tenant "hospital-b" disabled; running gateways were told through Redis.\n',
      );
      await expect.poll(() => messages, { timeout: HANG_BACKSTOP_MS }).toEqual(['hospital-b']);
    } finally {
      subscriber.disconnect();
    }
  });

  it('keys rotate re-seals every row under the new key and prints counts only', async () => {
    const rotateEnv = {
      ...baseEnv(),
      FHIRGATE_ENCRYPTION_KEY: key2,
      FHIRGATE_ENCRYPTION_KEY_ID: 'k2',
      FHIRGATE_ENCRYPTION_OLD_KEYS: `k1:${key1}`,
    };
    // Without the old key nothing can be opened: exit 1 naming the tenants, every row left as
    // it is.
    const withoutOld = await cli(['keys', 'rotate'], {
      ...rotateEnv,
      FHIRGATE_ENCRYPTION_OLD_KEYS: '',
    });
    expect(withoutOld).toMatchObject({ code: 1, stdout: '' });
    expect(withoutOld.stderr).toContain(
      'cannot open the sealed URL of 2 tenants ("hospital-a", "hospital-b")',
    );
    for (const t of await registry.listTenants()) {
      expect(t.sealedUrl).toMatch(/^v1\.k1\./);
    }

    const result = await cli(['keys', 'rotate'], rotateEnv, 'npm');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(
      'Before: 2 tenant URLs (k1=2).\n' +
        'Re-sealed 2 under key k2; 0 already under it; 0 could not be opened with any configured key; 0 changed concurrently.\n',
    );
    // Every row now opens with k2 alone: k1 can be removed.
    const k2Only = parseKeyring({ primaryKey: key2, primaryKeyId: 'k2' });
    for (const t of await registry.listTenants()) {
      expect(t.sealedUrl).toMatch(/^v1\.k2\./);
      expect(openSecret(k2Only, t.clientId, t.sealedUrl)).toBe(url);
    }
    const again = await cli(['keys', 'rotate'], rotateEnv);
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toContain('Before: 2 tenant URLs (k2=2).');
    expect(again.stdout).toContain('Re-sealed 0 under key k2; 2 already under it;');
    // The mapping survives rotation untouched.
    expect((await registry.findTenant('hospital-a'))?.mapping?.version).toBe(1);
  });
});
