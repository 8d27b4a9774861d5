import net, { isIP, type Socket } from 'node:net';
import type { Connection, ConnectionOptions, ExecuteValues } from 'mysql2';
import mysql from 'mysql2';
import {
  type BoundedPool,
  createBoundedPool,
  type PoolDriver,
  type ServerDatabaseOptions,
  type ServerTarget,
} from './bounded-pool.js';
import { mysqlSslOptions } from './database-tls.js';
import { MYSQL_DIALECT, type Row, type SqlStatement } from './dialect.js';
import { type RowPace, rowPacer, toDatabaseError } from './tenant-database.js';

/** Where to connect: a server target (see `ServerTarget`). */
export type MysqlTarget = ServerTarget;

/**
 * The connection options every fhirgate connection to MySQL/MariaDB shares (tenant pools, the
 * registry, its mapping transactions): explicit fields, never a URL, and the target's TLS.
 */
export function mysqlConnectionOptions(
  target: MysqlTarget,
  connectTimeoutMs: number,
): ConnectionOptions {
  const ssl = mysqlSslOptions(target.tls);
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    connectTimeout: connectTimeoutMs,
    ...(ssl === undefined ? {} : { ssl }),
    ...(ssl?.verifyIdentity === true && isIP(target.host) !== 0
      ? { stream: () => ipSocket(target.host, target.port) }
      : {}),
    multipleStatements: false,
    supportBigNumbers: true,
    charset: 'UTF8MB4_UNICODE_CI',
  };
}

/**
 * A socket to an IP address whose TLS peer check names that address. mysql2 sends no SNI for an
 * IP (right), so Node checks the certificate against the socket's `_host`, which it sets only
 * after a DNS lookup: without this, verify-full to `10.0.0.5` would check the name `localhost`
 * (and fail for a correct certificate). The check still runs in the handshake, before the
 * credentials are sent. The rest mirrors what mysql2 does for its own sockets.
 */
function ipSocket(host: string, port: number): Socket {
  const socket = net.connect(port, host);
  (socket as unknown as { _host: string })._host = host;
  socket.setNoDelay(true);
  socket.once('connect', () => socket.setKeepAlive(true, 10_000));
  return socket;
}

export type MysqlDatabaseOptions = ServerDatabaseOptions;

/**
 * One statement whose rows are read through its pace (`rowPacer`): when the pace asks to wait,
 * the connection is paused, so mysql2 keeps the rest of the socket's data as raw packets (its
 * `handlePacket` queues them while paused) and parses them once resumed. Without this, a result
 * set of 1,600 rows is parsed in the socket's data callbacks, 3-15 ms per 64 KiB chunk, in front
 * of every other request.
 */
function pacedRows(
  conn: Connection,
  statement: SqlStatement,
  timeoutMs: number | undefined,
  pace: RowPace,
): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const rows: Row[] = [];
    const nextRow = rowPacer(pace, timeoutMs);
    const resume = () => conn.resume();
    const query = conn.execute(
      { sql: statement.sql, timeout: timeoutMs },
      statement.params as ExecuteValues[],
    );
    query.on('result', (row: Row) => {
      rows.push(row);
      const wait = nextRow();
      if (wait !== undefined) {
        conn.pause();
        wait.then(resume, resume);
      }
    });
    query.once('error', reject);
    query.once('end', () => resolve(rows));
  });
}

/** A MySQL/MariaDB pool with the bounds mysql2's own pool lacks; see {@link MysqlDatabaseOptions}. */
export type MysqlDatabase = BoundedPool;

export function createMysqlDatabase(
  target: MysqlTarget,
  options: MysqlDatabaseOptions,
): MysqlDatabase {
  const connectionOptions: ConnectionOptions = {
    ...mysqlConnectionOptions(target, options.connectTimeoutMs),
    // DATE/DATETIME arrive as text, so zero dates and legacy values reach the transforms intact.
    dateStrings: true,
    bigNumberStrings: true,
    enableKeepAlive: true,
    keepAliveInitialDelay: 10_000,
    maxPreparedStatements: 256,
  };

  /** Sets the server-side statement limit with whichever variable this server knows. */
  function limitStatementTime(conn: Connection): Promise<void> {
    const limitMs = options.statementTimeLimitMs;
    if (limitMs === undefined) {
      return Promise.resolve();
    }
    const set = (sql: string, value: number) =>
      new Promise<void>((resolve, reject) => {
        // The handshake's timer is gone by now: a server that answers the greeting and then
        // nothing else must not hold this connection forever.
        conn.query({ sql, timeout: options.connectTimeoutMs }, [value], (err) =>
          err ? reject(err) : resolve(),
        );
      });
    // MariaDB counts seconds (fractions allowed); MySQL counts milliseconds and only for SELECT.
    return set('SET SESSION max_statement_time = ?', limitMs / 1000).catch((err: unknown) => {
      if ((err as { code?: unknown }).code === 'ER_UNKNOWN_SYSTEM_VARIABLE') {
        return set('SET SESSION max_execution_time = ?', limitMs);
      }
      throw err;
    });
  }

  const driver: PoolDriver<Connection> = {
    dialect: MYSQL_DIALECT,
    connect(onLost) {
      return new Promise((resolve, reject) => {
        const conn = mysql.createConnection(connectionOptions);
        let settled = false;
        // Without a listener an error on an idle socket would crash the process.
        conn.on('error', (err: unknown) => {
          if (!settled) {
            settled = true;
            conn.destroy();
            reject(err);
            return;
          }
          onLost();
        });
        conn.connect((err) => {
          if (settled) {
            return;
          }
          settled = true;
          if (err) {
            conn.destroy();
            reject(err);
            return;
          }
          limitStatementTime(conn).then(
            () => resolve(conn),
            (limitErr: unknown) => {
              conn.destroy();
              reject(limitErr);
            },
          );
        });
      });
    },
    run(conn, statement, pace) {
      if (pace === undefined) {
        return new Promise((resolve, reject) => {
          conn.execute(
            { sql: statement.sql, timeout: options.queryTimeoutMs },
            statement.params as ExecuteValues[],
            (err, rows) => (err ? reject(err) : resolve(rows as Row[])),
          );
        });
      }
      return pacedRows(conn, statement, options.queryTimeoutMs, pace);
    },
    ping(conn) {
      return new Promise((resolve) => conn.ping((err) => resolve(!err)));
    },
    socket: (conn) => (conn as unknown as { stream?: Socket }).stream,
    end: (conn) => conn.end(),
    // mysql2's destroy only half-closes; the pool destroys the socket as well.
    destroy: (conn) => conn.destroy(),
    toDatabaseError,
  };
  return createBoundedPool(driver, options);
}
