import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPgTenantUser } from '../helpers/pg-tenant-user.js';
import { insertRows } from '../helpers/seed-rows.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import {
  createTestPgDatabase,
  pgClientConfig,
  pgServer,
  type TestPgDatabase,
} from '../helpers/test-pg-database.js';

const created: Array<TestPgDatabase | TestDatabase> = [];

afterAll(async () => {
  await Promise.all(created.map((db) => db.drop()));
});

async function track(prefix?: string): Promise<TestPgDatabase> {
  const db = await createTestPgDatabase(prefix);
  created.push(db);
  return db;
}

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client(pgClientConfig(pgServer()));
  await client.connect();
  try {
    const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rows.length === 1;
  } finally {
    await client.end();
  }
}

describe('createTestPgDatabase', () => {
  it('creates a UTF8 database that can be written and read over TCP', async () => {
    const db = await track();
    expect(db.name).toMatch(/^t_[0-9a-f]{8}$/);
    expect(db.engine).toBe('postgres');
    expect(db.url).toBe(
      `postgres://${encodeURIComponent(db.user)}:${encodeURIComponent(db.password)}@${db.host}:${db.port}/${db.name}`,
    );
    await db.exec(`
      CREATE TABLE patient (id INT PRIMARY KEY, family VARCHAR(64) NOT NULL);
      INSERT INTO patient (id, family) VALUES (1, 'Müller'), (2, '山田');
    `);
    await db.exec('INSERT INTO patient (id, family) VALUES ($1, $2)', [3, 'Ölçer 🙂']);
    expect(await db.exec('SELECT id, family FROM patient ORDER BY id')).toEqual([
      { id: 1, family: 'Müller' },
      { id: 2, family: '山田' },
      { id: 3, family: 'Ölçer 🙂' },
    ]);
    expect(
      await db.exec(
        'SELECT current_database() AS db, pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = current_database()',
      ),
    ).toEqual([{ db: db.name, encoding: 'UTF8' }]);
  });

  it('gives each call its own name, with the given prefix, and refuses other prefixes', async () => {
    const [a, b] = await Promise.all([track('t'), track('reg')]);
    expect(a.name).not.toBe(b.name);
    expect(b.name).toMatch(/^reg_[0-9a-f]{8}$/);
    await a.exec('CREATE TABLE only_in_a (id INT)');
    expect(await b.exec("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).toEqual([]);
    await expect(createTestPgDatabase('x"; DROP DATABASE postgres; --')).rejects.toThrow(/prefix/);
  });

  it('drop() removes the database even with its shared session open, and is idempotent', async () => {
    const db = await createTestPgDatabase('drop');
    await db.exec('CREATE TABLE t (id INT)');
    expect(await databaseExists(db.name)).toBe(true);
    await db.drop();
    await db.drop();
    expect(await databaseExists(db.name)).toBe(false);
    await expect(db.exec('SELECT 1')).rejects.toThrow(/was dropped/);
  });
});

describe('insertRows', () => {
  it('writes the same rows on PostgreSQL and MariaDB, mixed-case columns included', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => [i + 1, `N${i}`, i % 2 === 0 ? null : i]);
    const onPg = await track();
    await onPg.exec('CREATE TABLE p (id INT PRIMARY KEY, "DOB" VARCHAR(10), n INT)');
    await insertRows(onPg, 'p', 'id, DOB, n', rows);
    const onMaria = await createTestDatabase('seed');
    created.push(onMaria);
    await onMaria.exec('CREATE TABLE p (id INT PRIMARY KEY, DOB VARCHAR(10), n INT)');
    await insertRows(onMaria, 'p', 'id, DOB, n', rows);
    const expected = rows.map(([id, dob, n]) => ({ id, DOB: dob, n }));
    expect(await onPg.exec('SELECT id, "DOB", n FROM p ORDER BY id')).toEqual(expected);
    expect(
      (await onMaria.exec<Record<string, unknown>[]>('SELECT id, DOB, n FROM p ORDER BY id')).map(
        (r) => ({ ...r }),
      ),
    ).toEqual(expected);
  });
});

describe('createPgTenantUser', () => {
  it('may read its own tables and cannot connect to another tenant database', async () => {
    const [own, other] = await Promise.all([track('ten'), track('ten')]);
    await own.exec('CREATE TABLE t (id INT); INSERT INTO t VALUES (7)');
    const user = await createPgTenantUser(own);
    expect(user.url).toMatch(/^postgres:\/\/fgt_[0-9a-f]{12}:ZZPW-/);
    const connect = async (database: string) => {
      const client = new pg.Client({ ...pgClientConfig(own, database), user: user.user });
      client.on('error', () => {});
      await client.connect();
      return client;
    };
    const mine = await connect(own.name);
    try {
      expect((await mine.query('SELECT id FROM t')).rows).toEqual([{ id: 7 }]);
      await expect(mine.query('INSERT INTO t VALUES (8)')).rejects.toMatchObject({
        code: '42501',
      });
    } finally {
      await mine.end();
    }
    await expect(connect(other.name)).rejects.toMatchObject({ code: '42501' });
    await user.drop();
    const roles = await own.exec('SELECT 1 FROM pg_roles WHERE rolname = $1', [user.user]);
    expect(roles).toEqual([]);
  });
});
