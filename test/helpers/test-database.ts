import { randomBytes } from 'node:crypto';
import type { Connection, ConnectionOptions, ResultSetHeader } from 'mysql2/promise';
import mysql from 'mysql2/promise';
import { inject } from 'vitest';

/** Where the integration tests' MariaDB/MySQL server answers. */
export interface MysqlServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by `test/helpers/global-setup.ts` for the integration project. */
    mysqlServer: MysqlServer;
  }
}

/** What `exec` can resolve with; pick one with the type argument. */
export type ExecResult =
  | Record<string, unknown>[]
  | Record<string, unknown>[][]
  | ResultSetHeader
  | ResultSetHeader[];

/** A private, uniquely named database on the test server. Drop it in `afterAll`. */
export interface TestDatabase extends MysqlServer {
  /** Which server it lives on (fixtures seed both; see `seed-rows.ts`). */
  readonly engine: 'mysql';
  /** `<prefix>_<8 hex>`, safe to use unquoted. */
  readonly name: string;
  /** `mysql://user:pass@host:port/name`, for code under test that takes a URL. */
  readonly url: string;
  /** A new connection with this database selected. `drop()` ends it if the test did not. */
  connection(): Promise<Connection>;
  /**
   * Runs SQL on a shared connection to this database. Several `;`-separated statements are
   * allowed (seeding scripts). Values go through `?` placeholders.
   */
  exec<T extends ExecResult = ExecResult>(sql: string, params?: readonly unknown[]): Promise<T>;
  /** Drops the database and ends its connections. Safe to call twice. */
  drop(): Promise<void>;
}

const PREFIX = /^[a-z][a-z0-9_]{0,40}$/;

/** The server the global setup resolved (MYSQL_URL, local root, or a throwaway mariadbd). */
export function mysqlServer(): MysqlServer {
  return inject('mysqlServer');
}

/**
 * Creates `<prefix>_<8 hex>` (utf8mb4) on the test server (or on `server`, for the benchmark,
 * which runs outside vitest). Unique names isolate test files that
 * run in parallel against the same server.
 */
export async function createTestDatabase(
  prefix = 't',
  server: MysqlServer = mysqlServer(),
): Promise<TestDatabase> {
  if (!PREFIX.test(prefix)) {
    throw new Error(`createTestDatabase: prefix must match ${PREFIX}`);
  }
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await withAdminConnection(server, (admin) =>
    admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`),
  );

  const open = new Set<Connection>();
  let shared: Promise<Connection> | undefined;
  let dropped = false;

  const connection = async (): Promise<Connection> => {
    if (dropped) {
      throw new Error(`createTestDatabase: ${name} was dropped`);
    }
    const conn = await mysql.createConnection({ ...connectionOptions(server), database: name });
    open.add(conn);
    conn.on('end', () => open.delete(conn));
    return conn;
  };

  return {
    ...server,
    engine: 'mysql',
    name,
    url: `mysql://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${server.host}:${server.port}/${name}`,
    connection,
    exec: async <T extends ExecResult = ExecResult>(sql: string, params?: readonly unknown[]) => {
      shared ??= connection();
      const [result] = await (await shared).query(sql, params === undefined ? [] : [...params]);
      return result as T;
    },
    drop: async () => {
      dropped = true;
      await Promise.allSettled([...open].map((conn) => conn.end()));
      open.clear();
      await withAdminConnection(server, (admin) =>
        admin.query(`DROP DATABASE IF EXISTS \`${name}\``),
      );
    },
  };
}

/** Explicit connection options: never a URL string, whose query parameters become options. */
export function connectionOptions(server: MysqlServer): ConnectionOptions {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    connectTimeout: 5000,
    charset: 'utf8mb4_unicode_ci',
    // Test helper only: seeding scripts are several statements. Production pools keep this false.
    multipleStatements: true,
  };
}

async function withAdminConnection<T>(
  server: MysqlServer,
  work: (admin: Connection) => Promise<T>,
): Promise<T> {
  const admin = await mysql.createConnection(connectionOptions(server));
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
