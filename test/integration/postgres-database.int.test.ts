import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectionBudget } from '../../src/db/connection-budget.js';
import { POSTGRES_DIALECT } from '../../src/db/dialect.js';
import {
  createPostgresDatabase,
  type PostgresDatabaseOptions,
  type PostgresTarget,
} from '../../src/db/postgres-database.js';
import { DatabaseError } from '../../src/db/tenant-database.js';
import { startStalledServer } from '../helpers/fault-servers.js';
import { createTestPgDatabase, type TestPgDatabase } from '../helpers/test-pg-database.js';

/**
 * The PostgreSQL pool against the local server: what values look like, the pool's bounds, the
 * server's statement time limit, cancellation, error classification and closing.
 */
const BASE: PostgresDatabaseOptions = {
  connectionLimit: 4,
  queueLimit: 10,
  connectTimeoutMs: 5000,
  queryTimeoutMs: 10_000,
  connectionIdleMs: 60_000,
  validateAfterIdleMs: 30_000,
};

let db: TestPgDatabase;
let target: PostgresTarget;

beforeAll(async () => {
  db = await createTestPgDatabase('pgdb');
  target = {
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.name,
  };
  await db.exec(`CREATE TABLE samples (
      id integer PRIMARY KEY, born date, seen timestamp(3), changed timestamptz, mrn bigint,
      weight numeric(6,2), score real, flag boolean, small smallint, note text, "CamelCase" text)`);
  await db.exec(
    `INSERT INTO samples VALUES (1, '1987-06-15', '2024-02-29 23:59:58.5', '2024-03-01 00:30:00+02',
      9007199254740993, 72.50, 1.5, true, 1, 'ñandú', 'kept')`,
  );
});

afterAll(async () => {
  await db?.drop();
});

/** Resolves once `check` holds, polling; fails after the backstop. */
async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function backendsOfTestDatabase(): Promise<number> {
  const rows = await db.exec(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'fhirgate'",
    [db.name],
  );
  return Number(rows[0]?.['n']);
}

function failure(promise: Promise<unknown>): Promise<DatabaseError> {
  return promise.then(
    () => {
      throw new Error('expected the statement to fail');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(DatabaseError);
      return err as DatabaseError;
    },
  );
}

describe('PostgreSQL values', () => {
  it('arrive as the MySQL path gives them: dates and times as text, bigint and numeric as text', async () => {
    const pool = createPostgresDatabase(target, BASE);
    try {
      expect(pool.dialect).toBe(POSTGRES_DIALECT);
      const [row] = await pool.query({ sql: 'SELECT * FROM samples WHERE id = $1', params: [1] });
      expect(row).toEqual({
        id: 1,
        born: '1987-06-15',
        seen: '2024-02-29 23:59:58.5',
        // 00:30 at +02:00 is 22:30 UTC the day before; no offset, as the transforms read it.
        changed: '2024-02-29 22:30:00',
        mrn: '9007199254740993',
        weight: '72.50',
        score: 1.5,
        flag: true,
        small: 1,
        note: 'ñandú',
        CamelCase: 'kept',
      });
    } finally {
      await pool.close();
    }
  });

  it('binds booleans as 1/0, which boolean and integer columns both accept', async () => {
    const pool = createPostgresDatabase(target, BASE);
    try {
      const rows = await pool.query({
        sql: 'SELECT id FROM samples WHERE flag = $1 AND small = $2',
        params: [true, true],
      });
      expect(rows).toEqual([{ id: 1 }]);
    } finally {
      await pool.close();
    }
  });

  it('renames shortened result names back to their result keys', async () => {
    const pool = createPostgresDatabase(target, BASE);
    const key = `${'j'.repeat(30)}.${'c'.repeat(63)}`;
    const name = POSTGRES_DIALECT.resultName(key);
    try {
      const rows = await pool.query({
        sql: `SELECT note AS "${name}", id FROM samples`,
        params: [],
        resultKeys: new Map([[name, key]]),
      });
      expect(rows).toEqual([{ [key]: 'ñandú', id: 1 }]);
    } finally {
      await pool.close();
    }
  });
});

describe('the PostgreSQL pool', () => {
  it('holds at most connectionLimit connections and refuses beyond the queue with DB_BUSY', async () => {
    const pool = createPostgresDatabase(target, { ...BASE, connectionLimit: 1, queueLimit: 2 });
    try {
      const outcomes = Promise.allSettled(
        Array.from({ length: 5 }, () =>
          pool.query({ sql: 'SELECT pg_sleep(0.2)::text AS s', params: [] }),
        ),
      );
      await until(() => pool.stats().inUse === 1, 'a statement to run');
      expect(await backendsOfTestDatabase()).toBe(1);
      const settled = await outcomes;
      expect(settled.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
      const rejected = settled.filter((o) => o.status === 'rejected');
      expect(rejected).toHaveLength(2);
      for (const r of rejected) {
        expect((r as PromiseRejectedResult).reason).toMatchObject({
          code: 'DB_BUSY',
          message: 'connection queue is full',
        });
      }
      expect(pool.stats().open).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('takes its connections from the process-wide budget and gives them back on close', async () => {
    const budget = createConnectionBudget(2);
    const pool = createPostgresDatabase(target, { ...BASE, connectionLimit: 4, budget });
    try {
      await Promise.all(
        Array.from({ length: 4 }, () =>
          pool.query({ sql: 'SELECT pg_sleep(0.05)::text AS s', params: [] }),
        ),
      );
      expect(budget.inUse).toBeLessThanOrEqual(2);
    } finally {
      await pool.close();
    }
    expect(budget.inUse).toBe(0);
    await until(async () => (await backendsOfTestDatabase()) === 0, 'the backends to go');
  });

  it('sets statement_timeout per connection: the server stops the statement, DB_TIMEOUT (57014)', async () => {
    const pool = createPostgresDatabase(target, { ...BASE, statementTimeLimitMs: 200 });
    try {
      const [setting] = await pool.query({ sql: 'SHOW statement_timeout', params: [] });
      expect(setting?.['statement_timeout']).toBe('200ms');
      const err = await failure(pool.query({ sql: 'SELECT pg_sleep(30)::text AS s', params: [] }));
      expect(err).toMatchObject({
        code: 'DB_TIMEOUT',
        driverCode: '57014',
        infrastructure: true,
        message: 'statement exceeded the server time limit',
      });
      // The pool goes on with a fresh connection.
      expect(await pool.query({ sql: 'SELECT 1 AS one', params: [] })).toEqual([{ one: 1 }]);
    } finally {
      await pool.close();
    }
  });

  it('gives up on its own after queryTimeoutMs and drops the connection', async () => {
    const pool = createPostgresDatabase(target, { ...BASE, queryTimeoutMs: 300 });
    try {
      const err = await failure(pool.query({ sql: 'SELECT pg_sleep(2)::text AS s', params: [] }));
      expect(err).toMatchObject({ code: 'DB_TIMEOUT', message: 'statement timed out' });
      expect(pool.stats().open).toBe(0);
    } finally {
      await pool.close();
    }
    // The server notices the closed socket once the statement ends (statement_timeout bounds that).
    await until(async () => (await backendsOfTestDatabase()) === 0, 'the backend to go');
  });

  it('cancels a running statement on abort', async () => {
    const pool = createPostgresDatabase(target, BASE);
    try {
      const controller = new AbortController();
      const running = failure(
        pool.query(
          { sql: 'SELECT pg_sleep(30)::text AS s', params: [] },
          { signal: controller.signal },
        ),
      );
      await until(() => pool.stats().inUse === 1, 'the statement to run');
      controller.abort();
      expect(await running).toMatchObject({ code: 'DB_TIMEOUT', message: 'statement cancelled' });
    } finally {
      await pool.close();
    }
  });

  it('replaces a connection the server ended while it was idle', async () => {
    const pool = createPostgresDatabase(target, { ...BASE, validateAfterIdleMs: 0 });
    try {
      const [first] = await pool.query({ sql: 'SELECT pg_backend_pid() AS pid', params: [] });
      await db.exec('SELECT pg_terminate_backend($1)', [first?.['pid']]);
      await until(() => pool.stats().open === 0 || pool.stats().idle === 1, 'the pool to notice');
      const [next] = await pool.query({ sql: 'SELECT pg_backend_pid() AS pid', params: [] });
      expect(next?.['pid']).not.toBe(first?.['pid']);
    } finally {
      await pool.close();
    }
  });

  it('close() lets the running statement finish, fails the queued ones, and closes every connection', async () => {
    const pool = createPostgresDatabase(target, { ...BASE, connectionLimit: 1 });
    const running = pool.query({ sql: 'SELECT pg_sleep(0.3)::text AS s', params: [] });
    const queued = failure(pool.query({ sql: 'SELECT 1 AS one', params: [] }));
    await until(() => pool.stats().queued === 1, 'a queued statement');
    const closed = pool.close();
    expect(await queued).toMatchObject({ code: 'DB_CLOSED' });
    expect(await running).toEqual([{ s: '' }]);
    await closed;
    expect(pool.stats()).toMatchObject({ open: 0, inFlight: 0 });
    await expect(pool.query({ sql: 'SELECT 1', params: [] })).rejects.toMatchObject({
      code: 'DB_CLOSED',
    });
  });
});

describe('PostgreSQL errors', () => {
  it('a server that accepts and never answers fails after connectTimeoutMs, DB_UNAVAILABLE', async () => {
    const stalled = await startStalledServer();
    const pool = createPostgresDatabase(
      { ...target, port: stalled.port },
      { ...BASE, connectTimeoutMs: 300 },
    );
    try {
      const err = await failure(pool.query({ sql: 'SELECT 1', params: [] }));
      expect(err).toMatchObject({ code: 'DB_UNAVAILABLE', infrastructure: true });
      expect(stalled.accepted()).toBe(1);
      expect(pool.stats().open).toBe(0);
    } finally {
      await pool.close();
      await stalled.close();
    }
  });

  it('a statement the server rejects is DB_STATEMENT_FAILED with its SQLSTATE, never its text', async () => {
    const pool = createPostgresDatabase(target, BASE);
    try {
      const err = await failure(
        pool.query({ sql: 'SELECT secret_value_zz FROM no_such_table_zz', params: [] }),
      );
      expect(err).toMatchObject({
        code: 'DB_STATEMENT_FAILED',
        driverCode: '42P01',
        infrastructure: false,
        message: 'statement failed',
      });
      expect(JSON.stringify({ ...err, m: err.message })).not.toMatch(/no_such_table|secret_value/);
    } finally {
      await pool.close();
    }
  });

  it.each([
    ['an unknown database', { database: 'no_such_db_zz' }, '3D000'],
    ['an unknown role', { user: 'no_such_role_zz' }, '28000'],
    ['a closed port', { port: 1 }, 'ECONNREFUSED'],
  ])('%s is DB_UNAVAILABLE (infrastructure, %s)', async (_name, change, driverCode) => {
    const pool = createPostgresDatabase({ ...target, ...change }, BASE);
    try {
      const err = await failure(pool.query({ sql: 'SELECT 1', params: [] }));
      expect(err).toMatchObject({
        code: 'DB_UNAVAILABLE',
        driverCode,
        infrastructure: true,
        message: 'database unavailable',
      });
      expect(pool.stats().open).toBe(0);
    } finally {
      await pool.close();
    }
  });
});
