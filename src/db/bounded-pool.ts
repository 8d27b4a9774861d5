import type { Socket } from 'node:net';
import type { ConnectionBudget, IdleConnectionSource } from './connection-budget.js';
import type { DatabaseTls } from './database-tls.js';
import type { Dialect, Row, SqlStatement } from './dialect.js';
import {
  DatabaseError,
  type DatabaseStats,
  type RowPace,
  type TenantDatabase,
} from './tenant-database.js';

/**
 * What a driver gives the bounded pool: how to open, use and close one connection of its kind,
 * and how to read its errors. `C` is the driver's connection object.
 */
export interface PoolDriver<C> {
  readonly dialect: Dialect;
  /**
   * Opens a connection with its session settings (statement time limit, time zone...). `onLost`
   * is called when the connection fails after it was opened (an idle socket closed by the peer).
   * Rejects with the driver's error, after closing whatever it opened.
   */
  connect(onLost: () => void): Promise<C>;
  /**
   * Runs one statement with the driver's client-side timeout; rejects with the driver's error.
   * A driver that can stop reading a result set mid-way paces its rows with `pace`.
   */
  run(conn: C, statement: SqlStatement, pace?: RowPace): Promise<Row[]>;
  /** Resolves true when the connection answers. */
  ping(conn: C): Promise<boolean>;
  /** The connection's socket: the permit of the global cap comes back when it closes. */
  socket(conn: C): Socket | undefined;
  /** Says goodbye to the server (its quit message); the server then closes its end. */
  end(conn: C): void;
  /** Drops the connection at once (the protocol state is unknown). */
  destroy(conn: C): void;
  /** The driver's error as a {@link DatabaseError} that keeps no driver text. */
  toDatabaseError(err: unknown): DatabaseError;
}

/** The bounds of one pool; see {@link createBoundedPool}. */
export interface BoundedPoolOptions {
  /** Connections this tenant may hold. @default 10 */
  readonly connectionLimit: number;
  /** Statements that may wait for a connection; more fail at once with `DB_BUSY`. @default 20 */
  readonly queueLimit: number;
  /** Handshake budget, and the budget of a goodbye the server does not answer. @default 3000 */
  readonly connectTimeoutMs: number;
  /** An idle connection older than this is closed by {@link BoundedPool.reapIdle}. @default 60000 */
  readonly connectionIdleMs: number;
  /** A connection idle longer than this is pinged before it is used. @default 30000 */
  readonly validateAfterIdleMs: number;
  /** The process-wide connection cap; absent for the registry's own pool. */
  readonly budget?: ConnectionBudget;
}

/**
 * Where a database server pool connects. Built by our own URL parser; no driver ever sees a URL
 * string.
 */
export interface ServerTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** TLS to the server; absent or `disable`: plain TCP. */
  readonly tls?: DatabaseTls | undefined;
}

/** The options of a pool to a database server (MySQL/MariaDB, PostgreSQL). */
export interface ServerDatabaseOptions extends BoundedPoolOptions {
  /** Client-side budget per statement; the connection is destroyed when it fires. @default 5000 */
  readonly queryTimeoutMs: number;
  /**
   * Server-side limit per statement, set once per connection (MariaDB `max_statement_time`,
   * MySQL `max_execution_time`, PostgreSQL `statement_timeout`). Below the client timeout, so the
   * server stops work the client has given up on. @default 4000
   */
  readonly statementTimeLimitMs?: number;
}

interface PooledConnection<C> {
  conn: C | undefined;
  idleSince: number;
  dead: boolean;
}

interface Waiter<C> {
  resolve(c: PooledConnection<C>): void;
  reject(err: unknown): void;
  /** The statement gave up waiting; a connection meant for it goes back to the pool. */
  cancelled: boolean;
}

/** A pool with the bounds the drivers' own pools lack; see {@link BoundedPoolOptions}. */
export interface BoundedPool extends TenantDatabase {
  /** Closes idle connections older than `connectionIdleMs`. Called by the pool manager's sweep. */
  reapIdle(now: number): void;
}

/**
 * A bounded pool over any driver: at most `connectionLimit` connections, each opened with a
 * permit of the global connection budget, a bounded FIFO queue (`DB_BUSY` beyond it), abort
 * signals honoured while queued and while running, idle validation and reaping, and a `close()`
 * that lets running statements finish and returns every permit once the sockets have closed.
 */
export function createBoundedPool<C>(
  driver: PoolDriver<C>,
  options: BoundedPoolOptions,
): BoundedPool {
  const idle: PooledConnection<C>[] = [];
  const waiters: Waiter<C>[] = [];
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
   * until then the server still counts it, so the cap must too. `graceful` (an idle connection)
   * says goodbye and waits for the server to close; otherwise the socket is destroyed at once
   * (timeout, network error: the protocol state is unknown). A server that never answers the
   * goodbye is cut off after `connectTimeoutMs`.
   */
  function destroy(pc: PooledConnection<C>, graceful = false): void {
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
    const conn = pc.conn;
    const socket = conn === undefined ? undefined : driver.socket(conn);
    const gone = new Promise<void>((resolve) => {
      let killer: NodeJS.Timeout | undefined;
      const onClosed = () => {
        clearTimeout(killer);
        options.budget?.release();
        // A permit came back: a queued statement may now open a connection of its own.
        if (waiters.length > 0 && !closing) {
          void openFor(waiters.shift() as Waiter<C>);
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
    if (conn === undefined) {
      return;
    }
    if (graceful) {
      driver.end(conn);
    } else {
      driver.destroy(conn);
      // A driver's destroy may only half-close; a peer that has stopped answering would keep
      // the socket (and the permit) until the timer above.
      socket?.destroy();
    }
  }

  function markDead(pc: PooledConnection<C>): void {
    if (!pc.dead) {
      destroy(pc);
    }
  }

  async function openFor(waiter: Waiter<C>): Promise<void> {
    open++;
    try {
      await options.budget?.acquire();
    } catch (err) {
      open--;
      waiter.reject(err);
      return;
    }
    try {
      const pc: PooledConnection<C> = { conn: undefined, idleSince: Date.now(), dead: false };
      pc.conn = await driver.connect(() => markDead(pc));
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

  function ping(pc: PooledConnection<C>): Promise<boolean> {
    const conn = pc.conn;
    if (conn === undefined) {
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), options.connectTimeoutMs);
      driver.ping(conn).then(
        (ok) => {
          clearTimeout(timer);
          resolve(ok);
        },
        () => {
          clearTimeout(timer);
          resolve(false);
        },
      );
    });
  }

  async function acquire(signal?: AbortSignal): Promise<PooledConnection<C>> {
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
    return new Promise<PooledConnection<C>>((resolve, reject) => {
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
      const waiter: Waiter<C> = {
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

  function release(pc: PooledConnection<C>): void {
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
    pc: PooledConnection<C>,
    statement: SqlStatement,
    signal?: AbortSignal,
    pace?: RowPace,
  ): Promise<Row[]> {
    const conn = pc.conn as C;
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
      driver.run(conn, statement, pace).then(
        (rows) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(rows);
        },
        (err: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
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
    dialect: driver.dialect,
    async query(statement, queryOptions) {
      if (closing) {
        throw new DatabaseError('DB_CLOSED', 'database pool is closed', { infrastructure: false });
      }
      inFlight++;
      lastActive = Date.now();
      let pc: PooledConnection<C> | undefined;
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
        return await run(pc, statement, queryOptions?.signal, queryOptions?.pace);
      } catch (err) {
        const dbErr = driver.toDatabaseError(err);
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
