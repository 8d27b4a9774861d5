import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgTenantUser } from '../helpers/pg-tenant-user.js';
import type { TenantUser } from '../helpers/tenant-user.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { createTestPgDatabase, type TestPgDatabase } from '../helpers/test-pg-database.js';

/**
 * `fhirgate tenant add`, `update`, `list` and `show` with PostgreSQL URLs (child processes
 * against a MariaDB registry). No output holds a URL or a password.
 */
const ROOT = new URL('../../', import.meta.url);
const KEY = randomBytes(32).toString('base64');

let registryDb: TestDatabase;
let first: TestPgDatabase;
let second: TestPgDatabase;
let user: TenantUser;
const outputs: string[] = [];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env['PATH'] ?? '',
    FHIRGATE_REGISTRY_URL: registryDb.url,
    FHIRGATE_ENCRYPTION_KEY: KEY,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env, timeout: 60_000 },
      (err, stdout, stderr) => {
        outputs.push(stdout, stderr);
        resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  registryDb = await createTestDatabase('reg');
  first = await createTestPgDatabase('pgcli');
  second = await createTestPgDatabase('pgcli');
  user = await createPgTenantUser(first);
});

afterAll(async () => {
  await registryDb?.drop();
  await first?.drop();
  await second?.drop();
  await user?.drop();
});

describe('fhirgate tenant with a PostgreSQL URL', () => {
  it('adds, lists, shows and updates a PostgreSQL tenant', async () => {
    const added = await cli(['tenant', 'add', 'pg-cli', '--database-url', user.url]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);

    const list = await cli(['tenant', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/pg-cli\s.*postgres/);

    const shown = await cli(['tenant', 'show', 'pg-cli']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('postgres, TLS disable');

    const updated = await cli(['tenant', 'update', 'pg-cli', '--database-url', second.url]);
    expect(updated.stderr).toBe('');
    expect(updated.code).toBe(0);
  });

  it('refuses an unreachable server and a change of database type, naming why', async () => {
    const refused = await cli([
      'tenant',
      'add',
      'pg-down',
      '--database-url',
      `postgres://nobody:${encodeURIComponent(user.password)}@127.0.0.1:1/${first.name}`,
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('database unavailable (ECONNREFUSED)');

    const unknownDb = await cli([
      'tenant',
      'add',
      'pg-nodb',
      '--database-url',
      `postgres://${user.user}:${encodeURIComponent(user.password)}@127.0.0.1:${first.port}/no_such_db_zz`,
    ]);
    expect(unknownDb.code).toBe(2);
    expect(unknownDb.stderr).toContain('3D000');

    const toMysql = await cli(['tenant', 'update', 'pg-cli', '--database-url', registryDb.url]);
    expect(toMysql.code).not.toBe(0);
    expect(toMysql.stderr).toContain('the database type cannot change (postgres to mysql)');
  });

  it('never prints a URL or a password', () => {
    const all = outputs.join('\n');
    expect(all).not.toContain(user.password);
    expect(all).not.toContain('postgres://');
  });
});
