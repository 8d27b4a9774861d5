import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where the integration tests' PostgreSQL server answers (trust auth for `postgres` locally). */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** A private, uniquely named PostgreSQL database. Drop it in `afterAll`. */
export interface PostgresTestDatabase extends PostgresServer {
  /** `<prefix>_<8 hex>`, lower case, safe to use unquoted. */
  readonly name: string;
  /** `postgres://user:pass@host:port/name`, for code under test that takes a URL. */
  readonly url: string;
  /**
   * Runs SQL on a shared connection to this database: one statement with `$n` values, or several
   * `;`-separated statements without values (seeding scripts).
   */
  exec(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Drops the database (ending any session still in it). Safe to call twice. */
  drop(): Promise<void>;
}

const PREFIX = /^[a-z][a-z0-9_]{0,40}$/;

/**
 * The local PostgreSQL: `POSTGRES_TEST_URL`'s host, port, user and password when set
 * (`postgres://user:pass@host:port`), else `postgres` on 127.0.0.1:5432.
 */
export function postgresServer(): PostgresServer {
  const url = process.env['POSTGRES_TEST_URL'];
  if (url === undefined || url === '') {
    return { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' };
  }
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || '5432'),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

/** A client of the test server (a helper's own; the code under test opens its own). */
export function postgresClient(server: PostgresServer, database = 'postgres'): pg.Client {
  return new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: () => server.password,
    database,
    ssl: false,
    connectionTimeoutMillis: 10_000,
  });
}

async function withAdmin<T>(
  server: PostgresServer,
  work: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const admin = postgresClient(server);
  try {
    await admin.connect();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new Error(
      `PostgreSQL does not answer on ${server.host}:${server.port} as ${server.user} (${String(code ?? 'error')}): ` +
        'start the local server with trust authentication for 127.0.0.1, or set POSTGRES_TEST_URL',
    );
  }
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/** Creates `<prefix>_<8 hex>` (UTF8) on the test server. */
export async function createPostgresTestDatabase(
  prefix = 't',
  server: PostgresServer = postgresServer(),
): Promise<PostgresTestDatabase> {
  if (!PREFIX.test(prefix)) {
    throw new Error(`createPostgresTestDatabase: prefix must match ${PREFIX}`);
  }
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await withAdmin(server, (admin) =>
    admin.query(`CREATE DATABASE "${name}" ENCODING 'UTF8' TEMPLATE template0`),
  );
  let shared: Promise<pg.Client> | undefined;
  let dropped = false;
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  return {
    ...server,
    name,
    url: `postgres://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${host}:${server.port}/${name}`,
    async exec(sql, params) {
      if (dropped) {
        throw new Error(`createPostgresTestDatabase: ${name} was dropped`);
      }
      shared ??= (async () => {
        const client = postgresClient(server, name);
        await client.connect();
        return client;
      })();
      const result = await (await shared).query(sql, params === undefined ? [] : [...params]);
      // Several statements answer with one result each; the last one's rows are what was asked.
      const last = Array.isArray(result) ? result[result.length - 1] : result;
      return (last?.rows ?? []) as Record<string, unknown>[];
    },
    async drop() {
      if (dropped) {
        return;
      }
      dropped = true;
      if (shared !== undefined) {
        await (await shared).end().catch(() => undefined);
      }
      await withAdmin(server, (admin) =>
        admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      );
    },
  };
}
