import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { BoundedPool, ServerDatabaseOptions } from '../db/bounded-pool.js';
import { type ConnectionBudget, createConnectionBudget } from '../db/connection-budget.js';
import { createMysqlDatabase } from '../db/mysql-database.js';
import { createPostgresDatabase } from '../db/postgres-database.js';
import { createSqliteDatabase } from '../db/sqlite-database.js';
import type { DatabaseStats, TenantDatabase } from '../db/tenant-database.js';
import { tenantHash } from '../logger.js';
import type { DatabaseTarget } from './database-url.js';

export interface PoolManagerOptions {
  /** Tenant pools kept at once; the least recently used beyond this is closed. @default 200 */
  readonly maxTenantPools: number;
  /** A pool unused this long is closed, once nothing is in flight. @default 1800000 (30 min) */
  readonly poolIdleEvictMs: number;
  /** Open connections summed over all tenants. @default 150 */
  readonly maxTotalConnections: number;
  /** Connections one tenant may hold. @default 10 */
  readonly connectionsPerTenant: number;
  /** Statements that may wait for a tenant connection. @default 20 */
  readonly queueLimit: number;
  /** An idle connection is closed after this long. @default 60000 */
  readonly connectionIdleMs: number;
  /** An idle connection older than this is pinged before use. @default 30000 */
  readonly validateAfterIdleMs: number;
  /** @default 3000 */
  readonly connectTimeoutMs: number;
  /** @default 5000 */
  readonly queryTimeoutMs: number;
  /**
   * Server-side statement limit (MariaDB `max_statement_time`, MySQL `max_execution_time`,
   * PostgreSQL `statement_timeout`). @default 4000
   */
  readonly statementTimeLimitMs?: number;
  /** How often the idle sweep runs. @default min(poolIdleEvictMs, connectionIdleMs) / 4, at most 15 s */
  readonly sweepIntervalMs?: number;
}

export interface PoolManagerStats {
  /** Pools alive now. */
  readonly pools: number;
  /** Pools created since start (tests check single-flight creation with it). */
  readonly poolsCreated: number;
  /** Pools closed since start. */
  readonly poolsClosed: number;
  /** Connections open across every tenant. */
  readonly openConnections: number;
  readonly maxTotalConnections: number;
}

/**
 * Owns every tenant database pool of this process: lazy creation, one pool per tenant and
 * connection target, LRU bound, idle eviction that waits for in-flight statements, and the global
 * connection cap. Pools are keyed by tenant and a fingerprint of the target, so a changed URL gets
 * a new pool while the old one drains.
 */
export interface TenantPoolManager {
  /**
   * The tenant's pool, created on first use. Synchronous, so concurrent first calls share one.
   * `fingerprint` is {@link targetFingerprint} of `target`, computed once per config load.
   */
  acquire(clientId: string, target: DatabaseTarget, fingerprint: string): TenantDatabase;
  /** Stats of the tenant's live pool, if it has one. */
  tenantStats(clientId: string): DatabaseStats | undefined;
  /** Stats of every live pool, labelled by tenant hash (metrics; never the client id). */
  allTenantStats(): Array<{ readonly tenantHash: string; readonly stats: DatabaseStats }>;
  /** Closes the tenant's pool (after its in-flight statements). */
  evict(clientId: string): Promise<void>;
  /** Runs the idle sweep now (tests; the timer runs it too). */
  sweep(now?: number): Promise<void>;
  stats(): PoolManagerStats;
  close(): Promise<void>;
}

interface Entry {
  readonly fingerprint: string;
  readonly db: TenantDatabase;
  /** The pool of a database server, whose idle connections the sweep closes. */
  readonly server: BoundedPool | undefined;
}

/** Identifies a target without keeping its password in a cache key. */
export function targetFingerprint(target: DatabaseTarget): string {
  return createHash('sha256').update(JSON.stringify(target)).digest('hex');
}

export function createPoolManager(options: PoolManagerOptions, log: Logger): TenantPoolManager {
  const budget: ConnectionBudget = createConnectionBudget(options.maxTotalConnections);
  let created = 0;
  let closedCount = 0;
  const closing = new Set<Promise<void>>();

  function retire(clientId: string, entry: Entry, why: string): void {
    const done = entry.db
      .close()
      .then(() => {
        closedCount++;
        log.info({ tenant: tenantHash(clientId), why }, 'tenant pool closed');
      })
      .catch((err: unknown) => {
        log.warn({ tenant: tenantHash(clientId), err }, 'tenant pool close failed');
      })
      .finally(() => closing.delete(done));
    closing.add(done);
  }

  const pools = new LRUCache<string, Entry>({
    max: options.maxTenantPools,
    dispose: (entry, clientId, reason) => {
      retire(clientId, entry, reason);
    },
  });

  function open(clientId: string, target: DatabaseTarget, fingerprint: string): Entry {
    created++;
    log.info({ tenant: tenantHash(clientId), kind: target.kind }, 'tenant pool created');
    if (target.kind === 'sqlite') {
      return { fingerprint, db: createSqliteDatabase(target.path), server: undefined };
    }
    const poolOptions: ServerDatabaseOptions = {
      connectionLimit: options.connectionsPerTenant,
      queueLimit: options.queueLimit,
      connectTimeoutMs: options.connectTimeoutMs,
      queryTimeoutMs: options.queryTimeoutMs,
      ...(options.statementTimeLimitMs === undefined
        ? {}
        : { statementTimeLimitMs: options.statementTimeLimitMs }),
      connectionIdleMs: options.connectionIdleMs,
      validateAfterIdleMs: options.validateAfterIdleMs,
      budget,
    };
    const server =
      target.kind === 'postgres'
        ? createPostgresDatabase(target, poolOptions)
        : createMysqlDatabase(target, poolOptions);
    return { fingerprint, db: server, server };
  }

  async function sweep(now = Date.now()): Promise<void> {
    for (const [clientId, entry] of pools.entries()) {
      entry.server?.reapIdle(now);
      const stats = entry.db.stats();
      if (stats.inFlight === 0 && now - entry.db.lastActiveAt() >= options.poolIdleEvictMs) {
        pools.delete(clientId);
      }
    }
    await Promise.all([...closing]);
  }

  const interval =
    options.sweepIntervalMs ??
    Math.min(15_000, Math.min(options.poolIdleEvictMs, options.connectionIdleMs) / 4);
  const timer = setInterval(() => {
    sweep().catch((err: unknown) => log.warn({ err }, 'pool sweep failed'));
  }, interval);
  timer.unref();

  return {
    acquire(clientId, target, fingerprint) {
      const existing = pools.get(clientId);
      if (existing !== undefined && existing.fingerprint === fingerprint) {
        return existing.db;
      }
      // A different target means the tenant's URL changed: the old pool drains in dispose.
      const entry = open(clientId, target, fingerprint);
      pools.set(clientId, entry);
      return entry.db;
    },
    tenantStats(clientId) {
      return pools.peek(clientId)?.db.stats();
    },
    allTenantStats() {
      return [...pools.entries()].map(([clientId, entry]) => ({
        tenantHash: tenantHash(clientId),
        stats: entry.db.stats(),
      }));
    },
    async evict(clientId) {
      pools.delete(clientId);
      await Promise.all([...closing]);
    },
    sweep,
    stats() {
      return {
        pools: pools.size,
        poolsCreated: created,
        poolsClosed: closedCount,
        openConnections: budget.inUse,
        maxTotalConnections: budget.max,
      };
    },
    async close() {
      clearInterval(timer);
      pools.clear();
      await Promise.all([...closing]);
    },
  };
}
