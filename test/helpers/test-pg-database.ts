import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** Where the integration tests' PostgreSQL server answers. */
export interface PgServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by `test/helpers/global-setup.ts` for the integration project. */
    pgServer: PgServer;
  }
}

/** A private, uniquely named database on the PostgreSQL test server. Drop it in `afterAll`. */
export interface TestPgDatabase extends PgServer {
  /** Which server it lives on (fixtures seed both; see `seed-rows.ts`). */
  readonly engine: 'postgres';
  /** `<prefix>_<8 hex>`, lower case: PostgreSQL folds unquoted names, so it is safe unquoted. */
  readonly name: string;
  /** `postgres://user:pass@host:port/name`, for code under test that takes a URL. */
  readonly url: string;
  /**
   * Runs SQL on a shared connection to this database and resolves with its rows. Without params,
   * several `;`-separated statements are allowed (seeding scripts); values go through `$n`.
   */
  exec(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Drops the database (ending any session still on it). Safe to call twice. */
  drop(): Promise<void>;
}

const PREFIX = /^[a-z][a-z0-9_]{0,40}$/;

/** The server the global setup resolved (POSTGRES_TEST_URL, or the local server). */
export function pgServer(): PgServer {
  return inject('pgServer');
}

/** Explicit client options: never a URL string, whose query parameters become options. */
export function pgClientConfig(server: PgServer, database = 'postgres'): pg.ClientConfig {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database,
    connectionTimeoutMillis: 5000,
  };
}

/**
 * Creates `<prefix>_<8 hex>` (UTF8, ICU root collation) on the PostgreSQL test server (or on
 * `server`). Unique names isolate test files that run in parallel against the same server.
 */
export async function createTestPgDatabase(
  prefix = 't',
  server: PgServer = pgServer(),
): Promise<TestPgDatabase> {
  if (!PREFIX.test(prefix)) {
    throw new Error(`createTestPgDatabase: prefix must match ${PREFIX}`);
  }
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  // template0: template1 may carry another encoding or objects a local admin added.
  await withAdminClient(server, async (admin) => {
    // ICU's root collation sorts text as MariaDB's utf8mb4_unicode_ci does (punctuation before
    // letters, case second), so a sort answers alike on both servers; a server built without ICU
    // keeps its default.
    await admin
      .query(
        `CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'und' LOCALE 'C'`,
      )
      .catch(() => admin.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8'`));
    // Every role may connect to a new database by default: a tenant role must reach its own only.
    await admin.query(`REVOKE ALL ON DATABASE "${name}" FROM PUBLIC`);
  });

  let shared: Promise<pg.Client> | undefined;
  let dropped = false;
  const sharedClient = async (): Promise<pg.Client> => {
    if (dropped) {
      throw new Error(`createTestPgDatabase: ${name} was dropped`);
    }
    shared ??= (async () => {
      const client = pgClient(server, name);
      await client.connect();
      return client;
    })();
    return shared;
  };

  return {
    ...server,
    engine: 'postgres',
    name,
    url: `postgres://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${server.host}:${server.port}/${name}`,
    async exec(sql, params) {
      const client = await sharedClient();
      const result = await client.query(sql, params === undefined ? undefined : [...params]);
      // A multi-statement script resolves with one result per statement: the last one's rows.
      const last = Array.isArray(result) ? result[result.length - 1] : result;
      return (last?.rows ?? []) as Record<string, unknown>[];
    },
    async drop() {
      if (dropped) {
        return;
      }
      dropped = true;
      await shared?.then((client) => client.end()).catch(() => {});
      await withAdminClient(server, (admin) =>
        admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      );
    },
  };
}

/** A client of the test server (a helper's own; the code under test opens its own). */
export function pgClient(server: PgServer, database = 'postgres'): pg.Client {
  const client = new pg.Client(pgClientConfig(server, database));
  // A dropped database ends its sessions with an error event; nothing waits on them then.
  client.on('error', () => {});
  return client;
}

async function withAdminClient<T>(
  server: PgServer,
  work: (admin: pg.Client) => Promise<T>,
): Promise<T> {
  const admin = pgClient(server);
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
