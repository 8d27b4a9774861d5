import { randomBytes } from 'node:crypto';
import { passwordCanary } from './log-capture.js';
import type { TenantUser } from './tenant-user.js';
import { pgClient, type TestPgDatabase } from './test-pg-database.js';

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
      // What the role holds in the tenant database goes first (DROP OWNED also revokes its
      // CONNECT), when that database still exists; then the role has nothing left.
      const inDatabase = pgClient(db, db.name);
      try {
        await inDatabase.connect();
        await inDatabase.query(`DROP OWNED BY ${user}`);
      } catch (err) {
        if ((err as { code?: unknown }).code !== '3D000') {
          throw err;
        }
      } finally {
        await inDatabase.end().catch(() => {});
      }
      const admin = pgClient(db);
      try {
        await admin.connect();
        await admin.query(`DROP ROLE IF EXISTS ${user}`);
      } finally {
        await admin.end().catch(() => {});
      }
    },
  };
}
