import { classifyTlsFailure } from './database-tls.js';
import type { Dialect, Row, SqlStatement } from './dialect.js';

/** Counters a pool reports for metrics, `tenantStatus` and tests. */
export interface DatabaseStats {
  /** Connections open or opening. */
  readonly open: number;
  /** Connections lent to a running statement. */
  readonly inUse: number;
  /** Idle connections kept for reuse. */
  readonly idle: number;
  /** Statements waiting for a connection. */
  readonly queued: number;
  /** Statements started and not yet finished (running or queued). */
  readonly inFlight: number;
}

/**
 * Told of rows as the driver reads them (`count` at a time): `undefined` to go on, or a promise
 * to wait for before the next row is parsed. A heavy request's work budget paces its statements'
 * rows this way, so a result set of thousands of rows is parsed over several turns of the event
 * loop instead of in the socket's data callbacks all at once (`src/repository/work-budget.ts`).
 */
export type RowPace = (count: number) => Promise<void> | undefined;

/** Rows read between two calls of a statement's pace, in every driver that paces. */
const ROWS_PER_PACE = 25;

/**
 * A driver's side of a statement's pace, called once per row read: every `ROWS_PER_PACE` rows,
 * what `pace` answers (a promise: stop reading until it settles). Once half of the statement's
 * time budget is spent it answers nothing more, so the slicer's waits never become a timeout
 * (which would count against the tenant's breaker as if its database were slow).
 */
export function rowPacer(
  pace: RowPace,
  timeoutMs: number | undefined,
): () => Promise<void> | undefined {
  let unpaced = 0;
  const pacedUntil =
    timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs / 2;
  return () => {
    unpaced += 1;
    if (unpaced < ROWS_PER_PACE) {
      return undefined;
    }
    unpaced = 0;
    return performance.now() > pacedUntil ? undefined : pace(ROWS_PER_PACE);
  };
}

/** How one statement runs: cancelled by `signal`; its rows paced by `pace` where the driver can. */
export interface QueryOptions {
  readonly signal?: AbortSignal | undefined;
  readonly pace?: RowPace | undefined;
}

/**
 * One tenant's database, as the rest of fhirgate sees it: statements in, rows out. The
 * implementation owns its connections, its bounded queue and its timeouts.
 */
export interface TenantDatabase {
  readonly dialect: Dialect;
  query(statement: SqlStatement, options?: QueryOptions): Promise<Row[]>;
  stats(): DatabaseStats;
  /** Idle since (ms since epoch); `Date.now()` while anything is in flight. */
  lastActiveAt(): number;
  /**
   * Stops taking statements once nothing is in flight, then closes every connection. Statements
   * already running finish first; statements still queued fail.
   */
  close(): Promise<void>;
}

/**
 * A failure of the database layer with a stable code. Its message is fixed text: mysql2's own
 * messages quote values and must never reach a log or a client.
 */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
  /** Our messages are fixed text, safe to log. */
  readonly safeMessage = true;
  readonly code: DatabaseErrorCode;
  /** The driver's error code (`ECONNREFUSED`, `ER_NO_SUCH_TABLE`), when there is one. */
  readonly driverCode: string | undefined;
  /** True when the failure is the server's or the network's fault, not the statement's. */
  readonly infrastructure: boolean;

  constructor(
    code: DatabaseErrorCode,
    message: string,
    options: { driverCode?: string; infrastructure: boolean },
  ) {
    super(message);
    this.code = code;
    this.driverCode = options.driverCode;
    this.infrastructure = options.infrastructure;
  }
}

export type DatabaseErrorCode =
  /** The server refused, timed out or dropped the connection. */
  | 'DB_UNAVAILABLE'
  /** The statement ran out of time. */
  | 'DB_TIMEOUT'
  /** Every connection is busy and the queue is full. */
  | 'DB_BUSY'
  /** The pool is closing or closed. */
  | 'DB_CLOSED'
  /** The server rejected the statement (unknown column, permission...). */
  | 'DB_STATEMENT_FAILED'
  /** The server could not hold a bound value in its column's type (PostgreSQL: a search value). */
  | 'DB_VALUE_REJECTED';

const INFRA_CODES = new Set([
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  // MariaDB 10.11 answers about one login in four of an unknown user with errno 1698 instead of
  // 1045 (measured: 15 of 60); without it such a tenant read as "config invalid", not "down".
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_SERVER_SHUTDOWN',
  'HANDSHAKE_NO_SSL_SUPPORT',
  'SQLITE_CANTOPEN',
  'SQLITE_BUSY',
]);

const MARIADB_STATEMENT_TIMEOUT = 1969;

/** Turns a driver error into a {@link DatabaseError}, keeping only its code. */
export function toDatabaseError(err: unknown): DatabaseError {
  if (err instanceof DatabaseError) {
    return err;
  }
  const errno = (err as { errno?: unknown } | null)?.errno;
  // mysql2 knows MySQL's error names only; MariaDB's statement timeout (1969) arrives unnamed.
  const driverCode =
    errno === MARIADB_STATEMENT_TIMEOUT
      ? 'ER_STATEMENT_TIMEOUT'
      : typeof err === 'object' &&
          err !== null &&
          typeof (err as { code?: unknown }).code === 'string'
        ? (err as { code: string }).code
        : undefined;
  const tls = classifyTlsFailure(err);
  if (tls !== undefined) {
    // A TLS failure is the tenant's infrastructure (a certificate, a server setting): it trips
    // the breaker, and the fixed reason tells the operator which check failed.
    return new DatabaseError('DB_UNAVAILABLE', `database unavailable: ${tls.reason}`, {
      driverCode: tls.code,
      infrastructure: true,
    });
  }
  if (driverCode === 'PROTOCOL_SEQUENCE_TIMEOUT') {
    return new DatabaseError('DB_TIMEOUT', 'statement timed out', {
      driverCode,
      infrastructure: true,
    });
  }
  if (driverCode === 'ER_STATEMENT_TIMEOUT' || driverCode === 'ER_QUERY_TIMEOUT') {
    return new DatabaseError('DB_TIMEOUT', 'statement exceeded the server time limit', {
      driverCode,
      infrastructure: true,
    });
  }
  if (
    driverCode !== undefined &&
    (INFRA_CODES.has(driverCode) || driverCode.startsWith('HANDSHAKE_'))
  ) {
    return new DatabaseError('DB_UNAVAILABLE', 'database unavailable', {
      driverCode,
      infrastructure: true,
    });
  }
  return new DatabaseError('DB_STATEMENT_FAILED', 'statement failed', {
    ...(driverCode === undefined ? {} : { driverCode }),
    infrastructure: false,
  });
}
