import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStatement } from '../../src/db/dialect.js';
import { createMysqlDatabase } from '../../src/db/mysql-database.js';
import type { TenantDatabase } from '../../src/db/tenant-database.js';
import { openTenantDatabase } from '../helpers/tenant-database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * A heavy request's rows are parsed in its slices (`RowPace`): mysql2 stops parsing a result set
 * while the pace waits (the connection is paused) and goes on once it resolves. Against the real
 * MariaDB: the rows are the same as unpaced, the parse spans turns of the event loop, and the
 * connection serves the next statement normally afterwards.
 */
const ROWS = 2000;
const ALL: SqlStatement = {
  sql: 'SELECT id, label, seen FROM obs WHERE id > ? ORDER BY id',
  params: [0],
};

let db: TestDatabase;
let tenant: TenantDatabase;

beforeAll(async () => {
  db = await createTestDatabase('paced');
  await db.exec('CREATE TABLE obs (id INT PRIMARY KEY, label VARCHAR(100), seen DATETIME)');
  const values = Array.from(
    { length: ROWS },
    (_, i) => `(${i + 1}, 'label ${i + 1} ${'x'.repeat(60)}', '2024-01-02 03:04:05')`,
  );
  await db.exec(`INSERT INTO obs VALUES ${values.join(',')}`);
  tenant = openTenantDatabase(db);
});

afterAll(async () => {
  await tenant?.close();
  await db?.drop();
});

describe('paced rows on MariaDB', () => {
  it('parses a result set over several turns of the event loop and returns every row in order', async () => {
    const unpaced = await tenant.query(ALL);
    expect(unpaced).toHaveLength(ROWS);

    let turn = 0;
    const ticker = setInterval(() => {
      turn++;
    }, 0);
    const turns = new Set<number>();
    let paced = 0;
    let waits = 0;
    try {
      const rows = await tenant.query(ALL, {
        pace: (count) => {
          paced += count;
          turns.add(turn);
          // Every other call waits for a later turn, as a busy slicer would.
          if (paced % 50 !== 0) {
            return undefined;
          }
          waits++;
          return new Promise((resolve) => setTimeout(resolve, 1));
        },
      });
      expect(rows).toEqual(unpaced);
    } finally {
      clearInterval(ticker);
    }
    // Told of the rows 25 at a time (the last partial batch is not paced).
    expect(paced).toBe(ROWS - (ROWS % 25));
    expect(waits).toBeGreaterThan(30);
    // The parse did not happen in one callback: the pace was called on many turns.
    expect(turns.size).toBeGreaterThan(10);
  });

  it('leaves the connection usable: unpaced statements after a paced one read normally', async () => {
    await tenant.query(ALL, { pace: () => new Promise((resolve) => setImmediate(resolve)) });
    const [one] = await tenant.query({ sql: 'SELECT COUNT(*) AS n FROM obs', params: [] });
    expect(Number(one?.['n'])).toBe(ROWS);
    const again = await tenant.query({ ...ALL, params: [ROWS - 3] });
    expect(again.map((r) => r['id'])).toEqual([ROWS - 2, ROWS - 1, ROWS]);
  });

  it('stops waiting once half the statement budget is spent, so pacing never becomes a timeout', async () => {
    const budgetMs = 1500;
    const tight = createMysqlDatabase(
      { host: db.host, port: db.port, user: db.user, password: db.password, database: db.name },
      {
        connectionLimit: 1,
        queueLimit: 1,
        connectTimeoutMs: 5000,
        queryTimeoutMs: budgetMs,
        connectionIdleMs: 60_000,
        validateAfterIdleMs: 30_000,
      },
    );
    try {
      let waits = 0;
      // 80 paces of 100 ms each would take 8 s, past the 1.5 s budget (mysql2's own timeout,
      // which would fail the statement): the rows arriving whole is the proof.
      const rows = await tight.query(ALL, {
        pace: () => {
          waits++;
          return new Promise((resolve) => setTimeout(resolve, 100));
        },
      });
      expect(rows).toHaveLength(ROWS);
      expect(waits).toBeGreaterThan(0);
      expect(waits).toBeLessThan(ROWS / 25);
    } finally {
      await tight.close();
    }
  });

  it('reports a failing paced statement as the same error as an unpaced one', async () => {
    const bad: SqlStatement = { sql: 'SELECT nosuchcolumn FROM obs', params: [] };
    const unpaced = await tenant.query(bad).catch((err: unknown) => err);
    const paced = await tenant
      .query(bad, { pace: () => new Promise((resolve) => setImmediate(resolve)) })
      .catch((err: unknown) => err);
    expect(paced).toBeInstanceOf(Error);
    expect((paced as { code?: unknown }).code).toBe((unpaced as { code?: unknown }).code);
  });
});
