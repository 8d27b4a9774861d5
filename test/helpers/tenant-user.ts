import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { passwordCanary } from './log-capture.js';
import { connectionOptions, type TestDatabase } from './test-database.js';

/** A least-privilege database user for one tenant, its password a canary. */
export interface TenantUser {
  readonly user: string;
  readonly password: string;
  /** `mysql://<user>:<ZZPW-…>@host:port/<db>`: what the registry seals for the tenant. */
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * Creates `fgt_<hex>` with a `ZZPW-<uuid>` password and SELECT (plus SHOW VIEW) on `db` only:
 * every tenant URL then carries a password canary for the suite-wide log scan, and one tenant's
 * credentials cannot read another tenant's schema (SECURITY-TESTS 58). Resolves undefined when
 * the test server's account may not create users (a restricted MYSQL_URL); callers fall back
 * to the database's own URL.
 */
export async function createTenantUser(db: TestDatabase): Promise<TenantUser | undefined> {
  const user = `fgt_${randomBytes(6).toString('hex')}`;
  const password = passwordCanary();
  const admin = await mysql.createConnection(connectionOptions(db));
  try {
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password]);
    await admin.query(`GRANT SELECT, SHOW VIEW ON \`${db.name}\`.* TO ?@?`, [user, '%']);
  } catch {
    return undefined;
  } finally {
    await admin.end();
  }
  return {
    user,
    password,
    url: `mysql://${user}:${encodeURIComponent(password)}@${db.host}:${db.port}/${db.name}`,
    async drop() {
      const conn = await mysql.createConnection(connectionOptions(db));
      try {
        await conn.query('DROP USER IF EXISTS ?@?', [user, '%']);
      } finally {
        await conn.end();
      }
    },
  };
}
