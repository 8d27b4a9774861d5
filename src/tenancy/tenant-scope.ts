import {
  BrokenCircuitError,
  BulkheadRejectedError,
  IsolatedCircuitError,
  TaskCancelledError,
} from 'cockatiel';
import type { Logger } from 'pino';
import { dialectFor, type QueryExecutor, type Row, type SqlStatement } from '../db/dialect.js';
import {
  DatabaseError,
  type RowPace,
  type TenantDatabase,
  toDatabaseError,
} from '../db/tenant-database.js';
import { type ErrorCode, gatewayError } from '../errors.js';
import type { TenantPolicies } from './breakers.js';
import type { TenantRuntime } from './config-resolver.js';
import type { TenantPoolManager } from './pool-manager.js';

/** Called for every statement sent to a tenant database (metrics, tests counting statements). */
export type StatementListener = (event: {
  readonly tenantHash: string;
  readonly sql: string;
  readonly durationMs: number;
  readonly ok: boolean;
  /** The client error code a failed statement became (`TENANT_UNAVAILABLE`...); unset when ok. */
  readonly errorCode?: string;
}) => void;

/**
 * The tenant of one request: the runtime the token selected and a lazily opened executor. The pool
 * is acquired on the first statement, so a request that needs no data opens no connection.
 */
export interface TenantScope {
  readonly clientId: string;
  readonly tenantHash: string;
  readonly runtime: TenantRuntime;
  readonly executor: QueryExecutor;
  /** Statements this request has sent. */
  readonly statementCount: number;
}

const CLIENT_ERRORS: Record<DatabaseError['code'], { code: ErrorCode; message: string }> = {
  DB_UNAVAILABLE: { code: 'TENANT_UNAVAILABLE', message: 'The tenant database is unavailable.' },
  DB_TIMEOUT: { code: 'UPSTREAM_TIMEOUT', message: 'The tenant database did not answer in time.' },
  DB_BUSY: { code: 'TENANT_BUSY', message: 'The tenant database is busy; retry shortly.' },
  DB_CLOSED: { code: 'TENANT_UNAVAILABLE', message: 'The tenant database is unavailable.' },
  DB_STATEMENT_FAILED: {
    code: 'TENANT_CONFIG_INVALID',
    message: 'The tenant database rejected a statement built from its mapping.',
  },
  DB_VALUE_REJECTED: {
    code: 'BAD_USER_INPUT',
    message:
      'A search value does not fit the type the tenant stores it as (text for a number, or a number or date out of range); no resource can match it as written.',
  },
};

/**
 * Turns a failure below the resolvers into the client's error: a fixed message and a stable code.
 * The driver's own error is logged with its code only.
 */
function translateFailure(err: unknown, log: Logger): Error {
  if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
    log.debug('tenant breaker open: statement refused');
    return gatewayError('TENANT_UNAVAILABLE', 'The tenant database is unavailable.');
  }
  if (err instanceof BulkheadRejectedError) {
    log.warn('tenant bulkhead full: statement refused');
    return gatewayError('TENANT_BUSY', 'The tenant database is busy; retry shortly.', {
      http: { status: 503, headers: { 'retry-after': '1' } },
    });
  }
  if (err instanceof TaskCancelledError) {
    log.warn('tenant statement timed out');
    return gatewayError('UPSTREAM_TIMEOUT', 'The tenant database did not answer in time.');
  }
  const dbErr = err instanceof DatabaseError ? err : toDatabaseError(err);
  if (dbErr.code === 'DB_VALUE_REJECTED') {
    // The client's value, not the tenant's fault: nothing for the operators to act on.
    log.info({ driverCode: dbErr.driverCode }, 'tenant database rejected a search value');
  } else {
    log.warn({ err: dbErr, driverCode: dbErr.driverCode }, 'tenant statement failed');
  }
  const { code, message } = CLIENT_ERRORS[dbErr.code];
  return gatewayError(code, message);
}

export function createTenantScope(deps: {
  readonly runtime: TenantRuntime;
  readonly pools: TenantPoolManager;
  readonly policies: TenantPolicies;
  /**
   * The request's logger, with `requestId` and `tenant` (the hash) already bound: the lines here
   * add neither again (a second `tenant` key made duplicate keys in each JSON line).
   */
  readonly log: Logger;
  readonly onStatement?: StatementListener | undefined;
  /**
   * The pace of the rows of the request's next statement, asked as each starts: its work
   * budget's `rowPace` (set once the request is admitted as heavy, else `undefined`).
   */
  readonly rowPace?: (() => RowPace | undefined) | undefined;
}): TenantScope {
  const { runtime, pools, policies, log, onStatement, rowPace } = deps;
  const policy = policies.policyFor(runtime.clientId, runtime.tenantHash);
  let db: TenantDatabase | undefined;
  let statementCount = 0;

  function database(): TenantDatabase {
    db ??= pools.acquire(runtime.clientId, runtime.target, runtime.targetFingerprint);
    return db;
  }

  const executor: QueryExecutor = {
    dialect: dialectFor(runtime.target.kind),
    async query(statement: SqlStatement): Promise<Row[]> {
      statementCount++;
      const started = performance.now();
      let ok = false;
      let errorCode: string | undefined;
      try {
        // Bulkhead, breaker and timeout of this tenant only; the signal fires on timeout and
        // the pool destroys the connection instead of returning it.
        const rows = await policy.execute(({ signal }) =>
          database().query(statement, { signal, pace: rowPace?.() }),
        );
        ok = true;
        return rows;
      } catch (err) {
        const failure = translateFailure(err, log);
        errorCode = String((failure as { extensions?: { code?: unknown } }).extensions?.code);
        throw failure;
      } finally {
        onStatement?.({
          tenantHash: runtime.tenantHash,
          sql: statement.sql,
          durationMs: performance.now() - started,
          ok,
          ...(errorCode === undefined ? {} : { errorCode }),
        });
      }
    },
  };

  return {
    clientId: runtime.clientId,
    tenantHash: runtime.tenantHash,
    runtime,
    executor,
    get statementCount() {
      return statementCount;
    },
  };
}
