import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { passwordCanary } from './log-capture.js';
import type { TenantUser } from './tenant-user.js';
import { pgClientConfig, type TestPgDatabase } from './test-pg-database.js';

/**
 * The PostgreSQL counterpart of `createTenantUser`: a login role `fgt_<hex>` with a `ZZPW-`
 * canary password that may connect to `db` and read its `public` tables, nothing else (the
 * server's trust authentication may ignore the password; the URL still carries the canary for
 * the suite-wide log scan). Create it after the tables: the grant covers the tables that exist.
 */
export async function createPgTenantUser(db: TestPgDatabase): Promise<TenantUser> {
  const user = `fgt_${randomBytes(6).toString('hex')}`;
  const password = passwordCanary();
  // CREATE ROLE takes no bound password: the canary is [A-Za-z0-9-] only, quoted as a literal.
  if (!/^[A-Za-z0-9-]+$/.test(password)) {
    throw new Error('createPgTenantUser: unexpected password characters');
  }
  await db.exec(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
  await db.exec(`GRANT CONNECT ON DATABASE "${db.name}" TO ${user}`);
  await db.exec(`GRANT USAGE ON SCHEMA public TO ${user}`);
  await db.exec(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${user}`);
  return {
    user,
    password,
    url: `postgres://${user}:${encodeURIComponent(password)}@${db.host}:${db.port}/${db.name}`,
    async drop() {
      // The role's grants live in the tenant database: revoke them there, then drop the role.
      const client = new pg.Client(pgClientConfig(db, db.name));
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query(`DROP OWNED BY ${user}`);
        await client.query(`REVOKE ALL ON DATABASE "${db.name}" FROM ${user}`);
        await client.query(`DROP ROLE IF EXISTS ${user}`);
      } finally {
        await client.end().catch(() => {});
      }
    },
  };
}
