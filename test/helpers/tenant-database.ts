import { createMysqlDatabase } from '../../src/db/mysql-database.js';
import { createPostgresDatabase } from '../../src/db/postgres-database.js';
import type { TenantDatabase } from '../../src/db/tenant-database.js';
import type { TestDatabase } from './test-database.js';
import type { TestPgDatabase } from './test-pg-database.js';

const POOL = {
  connectionLimit: 2,
  queueLimit: 10,
  connectTimeoutMs: 5000,
  queryTimeoutMs: 10_000,
  connectionIdleMs: 60_000,
  validateAfterIdleMs: 30_000,
} as const;

/**
 * A gateway-side connection to a test tenant's database on either server (what the checker and
 * the engine read through), with small pool limits and generous timeouts for a loaded machine
 * (`pool` overrides them). Close it.
 */
export function openTenantDatabase(
  db: TestDatabase | TestPgDatabase,
  pool: Partial<Record<keyof typeof POOL, number>> = {},
): TenantDatabase {
  const options = { ...POOL, ...pool };
  const target = {
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.name,
  };
  return db.engine === 'postgres'
    ? createPostgresDatabase(target, options)
    : createMysqlDatabase(target, options);
}
