import type { RowDataPacket } from 'mysql2/promise';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../helpers/test-database.js';
import { connectionOptions, createTestDatabase, mysqlServer } from '../helpers/test-database.js';

const created: TestDatabase[] = [];

afterAll(async () => {
  await Promise.all(created.map((db) => db.drop()));
});

async function track(prefix?: string): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  created.push(db);
  return db;
}

async function databaseExists(name: string): Promise<boolean> {
  const conn = await mysql.createConnection(connectionOptions(mysqlServer()));
  try {
    const [rows] = await conn.query<RowDataPacket[]>(
      'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [name],
    );
    return rows.length === 1;
  } finally {
    await conn.end();
  }
}

describe('createTestDatabase', () => {
  it('creates a utf8mb4 database that can be written and read over TCP', async () => {
    const db = await track();
    expect(db.name).toMatch(/^t_[0-9a-f]{8}$/);
    expect(db.host).toBe(mysqlServer().host);
    expect(db.url).toBe(
      `mysql://${encodeURIComponent(db.user)}:${encodeURIComponent(db.password)}@${db.host}:${db.port}/${db.name}`,
    );

    await db.exec(`
      CREATE TABLE patient (id INT PRIMARY KEY, family VARCHAR(64) NOT NULL);
      INSERT INTO patient (id, family) VALUES (1, 'Müller'), (2, '山田');
    `);
    await db.exec('INSERT INTO patient (id, family) VALUES (?, ?)', [3, 'Ölçer 🙂']);

    const conn = await db.connection();
    const [rows] = await conn.query<RowDataPacket[]>('SELECT id, family FROM patient ORDER BY id');
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { id: 1, family: 'Müller' },
      { id: 2, family: '山田' },
      { id: 3, family: 'Ölçer 🙂' },
    ]);
    const [[info]] = await conn.query<RowDataPacket[]>(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS charset FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [db.name],
    );
    expect({ ...info }).toEqual({ charset: 'utf8mb4' });
    const [[peer]] = await conn.query<RowDataPacket[]>('SELECT DATABASE() AS db, @@port AS port');
    expect({ ...peer }).toEqual({ db: db.name, port: db.port });
  });

  it('gives each call its own name, with the given prefix', async () => {
    const [a, b] = await Promise.all([track('t'), track('reg')]);
    expect(a!.name).not.toBe(b!.name);
    expect(b!.name).toMatch(/^reg_[0-9a-f]{8}$/);
    await a!.exec('CREATE TABLE only_in_a (id INT)');
    const tables = await b!.exec<Record<string, unknown>[]>('SHOW TABLES');
    expect(tables).toEqual([]);
  });

  it('refuses a prefix that is not a plain identifier', async () => {
    await expect(createTestDatabase('x`; DROP DATABASE mysql; --')).rejects.toThrow(/prefix/);
  });

  it('drop() removes the database, ends its connections, and is idempotent', async () => {
    const db = await createTestDatabase('drop');
    const conn = await db.connection();
    await db.exec('CREATE TABLE t (id INT)');
    expect(await databaseExists(db.name)).toBe(true);

    await db.drop();
    expect(await databaseExists(db.name)).toBe(false);
    await expect(conn.query('SELECT 1')).rejects.toThrow();
    await expect(db.drop()).resolves.toBeUndefined();
    await expect(db.connection()).rejects.toThrow(/dropped/);
  });
});
