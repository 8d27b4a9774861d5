import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStatement } from '../../src/db/dialect.js';
import type { TenantDatabase } from '../../src/db/tenant-database.js';
import { openTenantDatabase } from '../helpers/tenant-database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { createTestPgDatabase, type TestPgDatabase } from '../helpers/test-pg-database.js';

/**
 * A heavy request's rows are read in its slices (`RowPace`): the driver stops reading a result set
 * while the pace waits (mysql2's connection or pg's socket is paused) and goes on once it
 * resolves. Against the real MariaDB and PostgreSQL: the rows are the same as unpaced, the parse
 * spans turns of the event loop, and the connection serves the next statement normally
 * afterwards. mysql2 stops between two rows; pg at the end of the socket read it is parsing (at
 * most 64 KiB), so its rows are wide enough here to fill several reads.
 */
const ROWS = 2000;

interface Engine {
  readonly name: 'MariaDB' | 'PostgreSQL';
  create(): Promise<TestDatabase | TestPgDatabase>;
  readonly ddl: string;
  readonly seen: string;
  /** `SELECT id, label, seen FROM obs WHERE id > <param> ORDER BY id` in the dialect. */
  readonly all: string;
}

const ENGINES: readonly Engine[] = [
  {
    name: 'MariaDB',
    create: () => createTestDatabase('paced'),
    ddl: 'CREATE TABLE obs (id INT PRIMARY KEY, label VARCHAR(300), seen DATETIME)',
    seen: '2024-01-02 03:04:05',
    all: 'SELECT id, label, seen FROM obs WHERE id > ? ORDER BY id',
  },
  {
    name: 'PostgreSQL',
    create: () => createTestPgDatabase('paced'),
    ddl: 'CREATE TABLE obs (id integer PRIMARY KEY, label varchar(300), seen timestamp)',
    seen: '2024-01-02 03:04:05',
    all: 'SELECT id, label, seen FROM obs WHERE id > $1 ORDER BY id',
  },
];

describe.each(ENGINES)('paced rows on $name', (engine) => {
  let db: TestDatabase | TestPgDatabase;
  let tenant: TenantDatabase;
  const ALL: SqlStatement = { sql: engine.all, params: [0] };

  beforeAll(async () => {
    db = await engine.create();
    await db.exec(engine.ddl);
    // About 250 bytes a row: 500 KB in all, several socket reads on either server.
    const values = Array.from(
      { length: ROWS },
      (_, i) => `(${i + 1}, 'label ${i + 1} ${'x'.repeat(240)}', '${engine.seen}')`,
    );
    await db.exec(`INSERT INTO obs VALUES ${values.join(',')}`);
    tenant = openTenantDatabase(db);
  });

  afterAll(async () => {
    await tenant?.close();
    await db?.drop();
  });

  it('reads a result set over several turns of the event loop and returns every row in order', async () => {
    const unpaced = await tenant.query(ALL);
    expect(unpaced).toHaveLength(ROWS);

    let turn = 0;
    const ticker = setInterval(() => {
      turn++;
    }, 0);
    const rowsPerTurn = new Map<number, number>();
    let paced = 0;
    let waits = 0;
    try {
      const rows = await tenant.query(ALL, {
        pace: (count) => {
          paced += count;
          rowsPerTurn.set(turn, (rowsPerTurn.get(turn) ?? 0) + count);
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
    // Not read in one callback: the pace was called on many turns, and no turn read more than a
    // fifth of the rows (unpaced, the whole result set is read and parsed in one turn).
    expect(rowsPerTurn.size).toBeGreaterThan(4);
    expect(Math.max(...rowsPerTurn.values())).toBeLessThanOrEqual(ROWS / 5);
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
    const tight = openTenantDatabase(db, {
      connectionLimit: 1,
      queueLimit: 1,
      queryTimeoutMs: budgetMs,
    });
    try {
      let waits = 0;
      // 80 paces of 100 ms each would take 8 s, past the 1.5 s budget (the driver's own timeout,
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
