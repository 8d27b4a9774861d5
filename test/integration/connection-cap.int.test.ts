import mysql, { type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { type DatabaseTarget, parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import {
  createPoolManager,
  type PoolManagerOptions,
  targetFingerprint,
} from '../../src/tenancy/pool-manager.js';
import {
  connectionOptions,
  createTestDatabase,
  mysqlServer,
  type TestDatabase,
} from '../helpers/test-database.js';

/**
 * The global connection cap as the server sees it: a connection's permit comes back only once
 * its socket has closed, so the server's own thread list (PROCESSLIST, which `Threads_connected`
 * counts) never holds more of the gateway's tenant connections than the cap, also while idle
 * connections of other tenants are being closed to make room.
 */

const log = createLogger({ level: 'silent' });
const CAP = 3;

const OPTIONS: PoolManagerOptions = {
  maxTenantPools: 200,
  poolIdleEvictMs: 1_800_000,
  maxTotalConnections: CAP,
  connectionsPerTenant: 2,
  queueLimit: 50,
  connectionIdleMs: 60_000,
  validateAfterIdleMs: 30_000,
  connectTimeoutMs: 3000,
  queryTimeoutMs: 5000,
  sweepIntervalMs: 3_600_000,
};

let db: TestDatabase;
let target: DatabaseTarget;
let fingerprint: string;
/** Connected with no database selected, so it is not counted among the pools' threads. */
let observer: Connection;

beforeAll(async () => {
  db = await createTestDatabase('cap');
  target = parseDatabaseUrl(db.url);
  fingerprint = targetFingerprint(target);
  const { multipleStatements: _, ...options } = connectionOptions(mysqlServer());
  observer = await mysql.createConnection(options);
});

afterAll(async () => {
  await observer.end();
  await db.drop();
});

async function serverThreads(): Promise<number> {
  const [rows] = await observer.query(
    'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?',
    [db.name],
  );
  return Number((rows as Array<{ n: number }>)[0]?.n ?? 0);
}

describe('global connection cap, server view', () => {
  it('the server never holds more tenant connections than the cap while idle ones are reclaimed', async () => {
    const pools = createPoolManager(OPTIONS, log);
    let running = true;
    let peak = 0;
    let samples = 0;
    const sampling = (async () => {
      while (running) {
        peak = Math.max(peak, await serverThreads());
        samples++;
      }
    })();
    try {
      // 8 tenants take turns, 3 at a time: every turn finds the cap full of the previous turn's
      // idle connections, so the budget closes some before it opens the new ones.
      const tenants = Array.from({ length: 8 }, (_, i) => `cap-${i}`);
      for (let turn = 0; turn < 12; turn++) {
        const now = [0, 1, 2].map((k) => tenants[(turn * 3 + k) % tenants.length] as string);
        const rows = await Promise.all(
          now.map((tenant) =>
            pools
              .acquire(tenant, target, fingerprint)
              .query({ sql: 'SELECT SLEEP(0.01) AS s', params: [] }),
          ),
        );
        expect(rows).toHaveLength(3);
        expect(pools.stats().openConnections).toBeLessThanOrEqual(CAP);
      }
    } finally {
      running = false;
      await sampling;
      await pools.close();
    }
    expect(samples).toBeGreaterThan(20);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(CAP);
    // Closed means closed: no permit outstanding and no thread left on the server.
    expect(pools.stats().openConnections).toBe(0);
    // The server unlinks a thread just after it closed the socket: allow it a moment.
    const deadline = Date.now() + 2000;
    let left = await serverThreads();
    while (left > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      left = await serverThreads();
    }
    expect(left).toBe(0);
  });
});
