import net, { isIP, type Socket } from 'node:net';
import type { Connection, ConnectionOptions, ExecuteValues } from 'mysql2';
import mysql from 'mysql2';
import type { ConnectionBudget, IdleConnectionSource } from './connection-budget.js';
import { type DatabaseTls, mysqlSslOptions } from './database-tls.js';
import { MYSQL_DIALECT, type Row, type SqlStatement } from './dialect.js';
import {
  DatabaseError,
  type DatabaseStats,
  type TenantDatabase,
  toDatabaseError,
} from './tenant-database.js';

/** Where to connect. Built by our own URL parser; mysql2 never sees a URL string. */
export interface MysqlTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** TLS to the server; absent or `disable`: plain TCP. */
  readonly tls?: DatabaseTls | undefined;
}

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

export interface MysqlDatabaseOptions {
  /** Connections this tenant may hold. @default 10 */
  readonly connectionLimit: number;
  /** Statements that may wait for a connection; more fail at once with `DB_BUSY`. @default 20 */
  readonly queueLimit: number;
  /** Handshake budget; mysql2's default is 10 s. @default 3000 */
  readonly connectTimeoutMs: number;
  /** Client-side budget per statement; the connection is destroyed when it fires. @default 5000 */
  readonly queryTimeoutMs: number;
  /** An idle connection older than this is closed by {@link MysqlDatabase.reapIdle}. @default 60000 */
  readonly connectionIdleMs: number;
  /** A connection idle longer than this is pinged before it is used. @default 30000 */
  readonly validateAfterIdleMs: number;
  /**
   * Server-side limit per statement, set once per connection: MariaDB's `max_statement_time`,
   * MySQL's `max_execution_time`. Below the client timeout, so the server stops work the client
   * has given up on. @default 4000
   */
  readonly statementTimeLimitMs?: number;
  /** The process-wide connection cap; absent for the registry's own pool. */
  readonly budget?: ConnectionBudget;
}

interface PooledConnection {
  readonly conn: Connection;
  idleSince: number;
  dead: boolean;
}

interface Waiter {
  resolve(c: PooledConnection): void;
  reject(err: unknown): void;
  /** The statement gave up waiting; a connection meant for it goes back to the pool. */
  cancelled: boolean;
}

/** A MySQL/MariaDB pool with the bounds mysql2's own pool lacks; see {@link MysqlDatabaseOptions}. */
export interface MysqlDatabase extends TenantDatabase {
  /** Closes idle connections older than `connectionIdleMs`. Called by the pool manager's sweep. */
  reapIdle(now: number): void;
}

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
  const idle: PooledConnection[] = [];
  const waiters: Waiter[] = [];
  let open = 0;
  let inUse = 0;
  let inFlight = 0;
  let lastActive = Date.now();
  let closing = false;
  let closed: Promise<void> | undefined;
  let resolveDrained: (() => void) | undefined;
  /** Connections destroyed whose sockets have not closed yet. */
  const closingSockets = new Set<Promise<void>>();

  const idleSource: IdleConnectionSource = {
    oldestIdleSince: () => idle[0]?.idleSince,
    closeOldestIdle: () => {
      const victim = idle.shift();
      if (victim === undefined) {
        return false;
      }
      destroy(victim, true);
      return true;
    },
  };
  options.budget?.register(idleSource);

  /**
   * Closes a connection. It leaves this pool at once, but its permit of the global cap comes
   * back only when the socket has closed, which happens once the server has closed its end:
   * until then the server still counts it (`Threads_connected`), so the cap must too. `graceful`
   * (an idle connection) sends COM_QUIT and waits for the server to close; otherwise the socket
   * is destroyed at once (timeout, network error: the protocol state is unknown). A server that
   * never answers the COM_QUIT is cut off after `connectTimeoutMs`.
   */
  function destroy(pc: PooledConnection, graceful = false): void {
    if (pc.dead) {
      return;
    }
    pc.dead = true;
    const i = idle.indexOf(pc);
    if (i >= 0) {
      idle.splice(i, 1);
    }
    // This pool is done with it at once; the process-wide cap waits for the socket.
    open--;
    const socket = (pc.conn as unknown as { stream?: Socket }).stream;
    const gone = new Promise<void>((resolve) => {
      let killer: NodeJS.Timeout | undefined;
      const onClosed = () => {
        clearTimeout(killer);
        options.budget?.release();
        // A permit came back: a queued statement may now open a connection of its own.
        if (waiters.length > 0 && !closing) {
          void openFor(waiters.shift() as Waiter);
        }
        resolve();
      };
      if (socket === undefined || socket.closed) {
        queueMicrotask(onClosed);
        return;
      }
      socket.once('close', onClosed);
      killer = setTimeout(() => socket.destroy(), options.connectTimeoutMs);
      killer.unref();
    });
    closingSockets.add(gone);
    void gone.then(() => closingSockets.delete(gone));
    if (graceful) {
      pc.conn.end();
    } else {
      pc.conn.destroy();
      // mysql2's destroy only half-closes; a peer that has stopped answering would keep the
      // socket (and the permit) until the timer above.
      socket?.destroy();
    }
  }

  function connect(): Promise<PooledConnection> {
    return new Promise((resolve, reject) => {
      const conn = mysql.createConnection(connectionOptions);
      const pc: PooledConnection = { conn, idleSince: Date.now(), dead: false };
      let settled = false;
      // Without a listener an error on an idle socket would crash the process.
      conn.on('error', (err: unknown) => {
        if (!settled) {
          settled = true;
          conn.destroy();
          reject(err);
          return;
        }
        markDead(pc);
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
          () => resolve(pc),
          (limitErr: unknown) => {
            conn.destroy();
            reject(limitErr);
          },
        );
      });
    });
  }

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

  function markDead(pc: PooledConnection): void {
    if (!pc.dead) {
      destroy(pc);
    }
  }

  async function openFor(waiter: Waiter): Promise<void> {
    open++;
    try {
      await options.budget?.acquire();
    } catch (err) {
      open--;
      waiter.reject(err);
      return;
    }
    try {
      const pc = await connect();
      inUse++;
      if (waiter.cancelled) {
        release(pc);
      } else {
        waiter.resolve(pc);
      }
    } catch (err) {
      open--;
      options.budget?.release();
      waiter.reject(err);
    }
  }

  function ping(pc: PooledConnection): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), options.connectTimeoutMs);
      pc.conn.ping((err) => {
        clearTimeout(timer);
        resolve(!err);
      });
    });
  }

  async function acquire(signal?: AbortSignal): Promise<PooledConnection> {
    for (;;) {
      const pc = idle.pop();
      if (pc === undefined) {
        break;
      }
      inUse++;
      if (Date.now() - pc.idleSince < options.validateAfterIdleMs || (await ping(pc))) {
        return pc;
      }
      inUse--;
      destroy(pc);
    }
    return new Promise<PooledConnection>((resolve, reject) => {
      const onAbort = () => {
        waiter.cancelled = true;
        const i = waiters.indexOf(waiter);
        if (i >= 0) {
          waiters.splice(i, 1);
        }
        reject(
          new DatabaseError('DB_TIMEOUT', 'statement cancelled while waiting for a connection', {
            infrastructure: true,
          }),
        );
      };
      const waiter: Waiter = {
        cancelled: false,
        resolve: (pc) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(pc);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (open < options.connectionLimit) {
        void openFor(waiter);
      } else if (waiters.length < options.queueLimit) {
        waiters.push(waiter);
      } else {
        reject(
          new DatabaseError('DB_BUSY', 'connection queue is full', {
            infrastructure: false,
          }),
        );
      }
    });
  }

  function release(pc: PooledConnection): void {
    inUse--;
    if (pc.dead) {
      return;
    }
    const waiter = waiters.shift();
    if (waiter !== undefined) {
      inUse++;
      waiter.resolve(pc);
      return;
    }
    // Another tenant waits for a permit of the global cap: an idle connection here is worth less.
    if (closing || (options.budget?.waiting ?? 0) > 0) {
      destroy(pc, true);
      return;
    }
    pc.idleSince = Date.now();
    idle.push(pc);
  }

  function run(
    pc: PooledConnection,
    statement: SqlStatement,
    signal?: AbortSignal,
  ): Promise<Row[]> {
    return new Promise((resolve, reject) => {
      // A destroyed connection may never call back: settle on abort ourselves.
      const onAbort = () => {
        destroy(pc);
        reject(new DatabaseError('DB_TIMEOUT', 'statement cancelled', { infrastructure: true }));
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      pc.conn.execute(
        { sql: statement.sql, timeout: options.queryTimeoutMs },
        statement.params as ExecuteValues[],
        (err, rows) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) {
            reject(err);
          } else {
            resolve(rows as Row[]);
          }
        },
      );
    });
  }

  function finishIfDrained(): void {
    if (closing && inFlight === 0 && resolveDrained !== undefined) {
      const done = resolveDrained;
      resolveDrained = undefined;
      for (const pc of [...idle]) {
        destroy(pc, true);
      }
      options.budget?.unregister(idleSource);
      // Closed means every socket closed and every permit returned.
      void Promise.all([...closingSockets]).then(() => done());
    }
  }

  return {
    dialect: MYSQL_DIALECT,
    async query(statement, queryOptions) {
      if (closing) {
        throw new DatabaseError('DB_CLOSED', 'database pool is closed', { infrastructure: false });
      }
      inFlight++;
      lastActive = Date.now();
      let pc: PooledConnection | undefined;
      try {
        pc = await acquire(queryOptions?.signal);
        if (queryOptions?.signal?.aborted) {
          // The caller gave up while this statement queued: the connection itself is fine.
          const unused = pc;
          pc = undefined;
          release(unused);
          throw new DatabaseError('DB_TIMEOUT', 'statement cancelled before it started', {
            infrastructure: true,
          });
        }
        return await run(pc, statement, queryOptions?.signal);
      } catch (err) {
        const dbErr = toDatabaseError(err);
        // After a timeout or a network error the connection's protocol state is unknown.
        if (pc !== undefined && dbErr.infrastructure) {
          destroy(pc);
        }
        throw dbErr;
      } finally {
        if (pc !== undefined) {
          release(pc);
        }
        inFlight--;
        lastActive = Date.now();
        finishIfDrained();
      }
    },
    stats(): DatabaseStats {
      return { open, inUse, idle: idle.length, queued: waiters.length, inFlight };
    },
    lastActiveAt() {
      return inFlight > 0 ? Date.now() : lastActive;
    },
    reapIdle(now) {
      for (const pc of [...idle]) {
        if (now - pc.idleSince >= options.connectionIdleMs) {
          destroy(pc, true);
        }
      }
    },
    close() {
      if (closed !== undefined) {
        return closed;
      }
      closing = true;
      for (const w of waiters.splice(0)) {
        w.reject(
          new DatabaseError('DB_CLOSED', 'database pool is closed', { infrastructure: false }),
        );
      }
      closed = new Promise<void>((resolve) => {
        resolveDrained = resolve;
        finishIfDrained();
      });
      return closed;
    },
  };
}
