import { createMysqlDatabase } from '../../src/db/mysql-database.js';
import type { TenantDatabase } from '../../src/db/tenant-database.js';
import type { MysqlServer } from './test-database.js';

/**
 * A gateway-side connection to a test tenant's database (what the checker and the engine read
 * through), with small pool limits and generous timeouts for a loaded machine. Close it.
 */
export function openTenantDatabase(db: MysqlServer & { readonly name: string }): TenantDatabase {
  return createMysqlDatabase(
    { host: db.host, port: db.port, user: db.user, password: db.password, database: db.name },
    {
      connectionLimit: 2,
      queueLimit: 10,
      connectTimeoutMs: 5000,
      queryTimeoutMs: 10_000,
      connectionIdleMs: 60_000,
      validateAfterIdleMs: 30_000,
    },
  );
}
