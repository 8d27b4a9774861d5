import { randomBytes } from 'node:crypto';
import { passwordCanary } from './log-capture.js';
import { type PostgresTestDatabase, postgresClient } from './postgres-database.js';

/** A least-privilege PostgreSQL role for one tenant, its password a canary. */
export interface PostgresTenantUser {
  readonly user: string;
  readonly password: string;
  /** `postgres://<user>:<ZZPW-…>@host:port/<db>`: what the registry seals for the tenant. */
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * Creates `fgp_<hex>` with a `ZZPW-<uuid>` password, CONNECT on `db` and SELECT on the tables
 * of its `public` schema: the tenant URL carries a password canary for the suite-wide log scan
 * (the local server's trust authentication does not check it). Call after the tables exist.
 */
export async function createPostgresTenantUser(
  db: PostgresTestDatabase,
): Promise<PostgresTenantUser> {
  const user = `fgp_${randomBytes(6).toString('hex')}`;
  const password = passwordCanary();
  const admin = postgresClient(db, db.name);
  await admin.connect();
  try {
    // Role names and passwords are not bindable in DDL: both are made here from hex and a UUID.
    await admin.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
    await admin.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${user}`);
    await admin.query(`GRANT USAGE ON SCHEMA public TO ${user}`);
    await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${user}`);
  } finally {
    await admin.end();
  }
  const host = db.host.includes(':') ? `[${db.host}]` : db.host;
  return {
    user,
    password,
    url: `postgres://${user}:${encodeURIComponent(password)}@${host}:${db.port}/${db.name}`,
    async drop() {
      // The database goes first (its grants with it); then the role has nothing left.
      const conn = postgresClient(db);
      await conn.connect();
      try {
        await conn.query(`DROP ROLE IF EXISTS ${user}`);
      } finally {
        await conn.end();
      }
    },
  };
}
