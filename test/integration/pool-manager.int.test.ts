import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseError } from '../../src/db/tenant-database.js';
import { createLogger } from '../../src/logger.js';
import { type DatabaseTarget, parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import {
  createPoolManager,
  type PoolManagerOptions,
  targetFingerprint,
} from '../../src/tenancy/pool-manager.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const log = createLogger({ level: 'silent' });

const BASE: PoolManagerOptions = {
  maxTenantPools: 200,
  poolIdleEvictMs: 1_800_000,
  maxTotalConnections: 150,
  connectionsPerTenant: 10,
  queueLimit: 20,
  connectionIdleMs: 60_000,
  validateAfterIdleMs: 30_000,
  connectTimeoutMs: 3000,
  queryTimeoutMs: 5000,
  sweepIntervalMs: 3_600_000,
};

const SELECT_ONE = { sql: 'SELECT 1 AS one', params: [] };

let db: TestDatabase;
let target: DatabaseTarget;
let fingerprint: string;

beforeAll(async () => {
  db = await createTestDatabase('pool');
  target = parseDatabaseUrl(db.url);
  fingerprint = targetFingerprint(target);
});

afterAll(async () => {
  await db.drop();
});

describe('TenantPoolManager against MariaDB', () => {
  it('makes exactly one pool for 50 concurrent first requests of a tenant', async () => {
    const pools = createPoolManager({ ...BASE, queueLimit: 50 }, log);
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          pools.acquire('tenant-c', target, fingerprint).query(SELECT_ONE),
        ),
      );
      expect(results.every((rows) => rows[0]?.['one'] === 1)).toBe(true);
      expect(pools.stats().poolsCreated).toBe(1);
      expect(pools.stats().pools).toBe(1);
      // Ten connections at most for one tenant, however many statements arrive at once.
      expect(pools.tenantStats('tenant-c')?.open).toBeLessThanOrEqual(10);
    } finally {
      await pools.close();
    }
  });

  it('evicts an idle pool, closes its connections, and builds a new one on the next request', async () => {
    const pools = createPoolManager({ ...BASE, poolIdleEvictMs: 1000 }, log);
    try {
      await pools.acquire('tenant-e', target, fingerprint).query(SELECT_ONE);
      expect(pools.stats().openConnections).toBe(1);
      await pools.sweep(Date.now() + 5_000);
      expect(pools.stats()).toMatchObject({ pools: 0, poolsClosed: 1, openConnections: 0 });
      await pools.acquire('tenant-e', target, fingerprint).query(SELECT_ONE);
      expect(pools.stats().poolsCreated).toBe(2);
    } finally {
      await pools.close();
    }
  });

  it('does not end a pool while a statement is in flight', async () => {
    const pools = createPoolManager({ ...BASE, poolIdleEvictMs: 1000 }, log);
    try {
      const tenantDb = pools.acquire('tenant-f', target, fingerprint);
      const slow = tenantDb.query({ sql: 'SELECT SLEEP(0.5) AS s', params: [] });
      await new Promise((r) => setTimeout(r, 100));
      await pools.sweep(Date.now() + 5_000);
      expect(pools.stats().pools).toBe(1);
      await expect(slow).resolves.toEqual([{ s: 0 }]);
      await pools.sweep(Date.now() + 5_000);
      expect(pools.stats().pools).toBe(0);
    } finally {
      await pools.close();
    }
  });

  it('a URL change retires the old pool after its statement finishes and uses a new one', async () => {
    const pools = createPoolManager(BASE, log);
    try {
      const first = pools.acquire('tenant-g', target, fingerprint);
      const slow = first.query({ sql: 'SELECT SLEEP(0.3) AS s', params: [] });
      const moved = { ...target, host: '127.0.0.1' } as DatabaseTarget;
      const second = pools.acquire('tenant-g', moved, `${fingerprint}-moved`);
      expect(second).not.toBe(first);
      await expect(slow).resolves.toEqual([{ s: 0 }]);
      await expect(second.query(SELECT_ONE)).resolves.toEqual([{ one: 1 }]);
      await expect(first.query(SELECT_ONE)).rejects.toMatchObject({ code: 'DB_CLOSED' });
    } finally {
      await pools.close();
    }
  });

  it('keeps open connections under the global cap summed over tenants', async () => {
    const pools = createPoolManager({ ...BASE, maxTotalConnections: 4, queueLimit: 50 }, log);
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, pools.stats().openConnections);
    }, 2);
    try {
      const work = ['t1', 't2', 't3', 't4', 't5', 't6'].flatMap((tenant) =>
        Array.from({ length: 6 }, () =>
          pools
            .acquire(tenant, target, fingerprint)
            .query({ sql: 'SELECT SLEEP(0.02) AS s', params: [] }),
        ),
      );
      const results = await Promise.all(work);
      expect(results).toHaveLength(36);
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(4);
      expect(pools.stats().openConnections).toBeLessThanOrEqual(4);
    } finally {
      clearInterval(sampler);
      await pools.close();
    }
  });

  it('bounds the per-tenant queue: statements beyond it fail at once with DB_BUSY', async () => {
    const pools = createPoolManager({ ...BASE, connectionsPerTenant: 1, queueLimit: 2 }, log);
    try {
      const tenantDb = pools.acquire('tenant-q', target, fingerprint);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 5 }, () =>
          tenantDb.query({ sql: 'SELECT SLEEP(0.1) AS s', params: [] }),
        ),
      );
      const rejected = outcomes.filter((o) => o.status === 'rejected');
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
      expect(rejected).toHaveLength(2);
      for (const r of rejected) {
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DatabaseError);
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'DB_BUSY' });
      }
    } finally {
      await pools.close();
    }
  });

  it('validates a connection that sat idle past the threshold and replaces a dead one', async () => {
    const pools = createPoolManager({ ...BASE, validateAfterIdleMs: 0 }, log);
    try {
      const tenantDb = pools.acquire('tenant-v', target, fingerprint);
      const [row] = await tenantDb.query({ sql: 'SELECT CONNECTION_ID() AS id', params: [] });
      const admin = await db.connection();
      await admin.query(`KILL ${Number(row?.['id'])}`);
      await admin.end();
      await new Promise((r) => setTimeout(r, 50));
      const [next] = await tenantDb.query({ sql: 'SELECT CONNECTION_ID() AS id', params: [] });
      expect(next?.['id']).not.toBe(row?.['id']);
      expect(tenantDb.stats().open).toBe(1);
    } finally {
      await pools.close();
    }
  });

  it('the server stops a statement at the session time limit and the connection stays usable', async () => {
    const pools = createPoolManager({ ...BASE, statementTimeLimitMs: 200 }, log);
    try {
      const tenantDb = pools.acquire('tenant-l', target, fingerprint);
      const started = performance.now();
      await expect(
        tenantDb.query({ sql: 'SELECT SLEEP(3) AS s', params: [] }),
      ).rejects.toMatchObject({ code: 'DB_TIMEOUT', driverCode: 'ER_STATEMENT_TIMEOUT' });
      expect(performance.now() - started).toBeLessThan(1500);
      await expect(tenantDb.query(SELECT_ONE)).resolves.toEqual([{ one: 1 }]);
      expect(tenantDb.stats().open).toBe(1);
    } finally {
      await pools.close();
    }
  });

  it('a connection killed mid-statement fails that statement and is replaced', async () => {
    const pools = createPoolManager(BASE, log);
    try {
      const tenantDb = pools.acquire('tenant-k', target, fingerprint);
      const [row] = await tenantDb.query({ sql: 'SELECT CONNECTION_ID() AS id', params: [] });
      // The outcome is captured at once: the kill can land before the assertion below runs.
      const slow = tenantDb.query({ sql: 'SELECT SLEEP(2) AS s', params: [] }).then(
        () => 'resolved',
        (error: unknown) => error,
      );
      await new Promise((r) => setTimeout(r, 100));
      const admin = await db.connection();
      await admin.query(`KILL CONNECTION ${Number(row?.['id'])}`);
      await admin.end();
      expect(await slow).toMatchObject({ code: 'DB_UNAVAILABLE' });
      expect(tenantDb.stats().open).toBe(0);
      await expect(tenantDb.query(SELECT_ONE)).resolves.toEqual([{ one: 1 }]);
    } finally {
      await pools.close();
    }
  });

  it('fails fast with DB_UNAVAILABLE for a refused port and keeps no connection', async () => {
    const pools = createPoolManager(BASE, log);
    try {
      const refused = { ...target, port: 1 } as DatabaseTarget;
      const started = performance.now();
      await expect(
        pools.acquire('tenant-r', refused, 'refused').query(SELECT_ONE),
      ).rejects.toMatchObject({ code: 'DB_UNAVAILABLE', driverCode: 'ECONNREFUSED' });
      expect(performance.now() - started).toBeLessThan(1000);
      expect(pools.stats().openConnections).toBe(0);
    } finally {
      await pools.close();
    }
  });
});
