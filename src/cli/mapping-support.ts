import { createMysqlDatabase } from '../db/mysql-database.js';
import { createPostgresDatabase } from '../db/postgres-database.js';
import { createSqliteDatabase } from '../db/sqlite-database.js';
import type { DatabaseError, TenantDatabase } from '../db/tenant-database.js';
import { isBlocking, type MappingProblem } from '../mapping/mapping-problem.js';
import { type DatabaseTarget, describeDatabaseTarget } from '../tenancy/database-url.js';

/**
 * What the mapping commands (`mapping check`, `mapping preview`, `tenant add --mapping`) share:
 * the tenant database they open and how they print problems and database failures. Nothing here
 * prints a URL or a database value.
 */

/**
 * A CLI check needs one connection and patience for a slow catalogue, nothing more (also used by
 * `tenant add --mapping`).
 */
export function openCheckDatabase(target: DatabaseTarget): TenantDatabase {
  if (target.kind === 'sqlite') {
    return createSqliteDatabase(target.path, { readonly: true });
  }
  const options = {
    connectionLimit: 1,
    queueLimit: 10,
    connectTimeoutMs: 5000,
    queryTimeoutMs: 30_000,
    connectionIdleMs: 60_000,
    validateAfterIdleMs: 30_000,
  };
  return target.kind === 'postgres'
    ? createPostgresDatabase(target, options)
    : createMysqlDatabase(target, options);
}

const DRIVER_REASONS: Readonly<Record<string, string>> = {
  ER_ACCESS_DENIED_ERROR: 'access denied (check the user and password)',
  ER_DBACCESS_DENIED_ERROR: 'access to the database denied',
  ER_BAD_DB_ERROR: 'the database does not exist',
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  // PostgreSQL reports SQLSTATEs.
  '28P01': 'password authentication failed (check the user and password)',
  '28000': 'the server refused the login (pg_hba.conf, or a client certificate it requires)',
  '3D000': 'the database does not exist',
  '53300': 'the server has no connection slots left',
  '57P03': 'the server is not accepting connections yet',
  SQLITE_CANTOPEN: 'cannot open the SQLite file',
  SQLITE_NOTADB: 'the file is not a SQLite database',
};

/**
 * A one-line reason for a database failure, `<doing> mysql host:port/db: <reason>`; our messages
 * are fixed text, safe to print.
 */
export function databaseFailureText(
  err: DatabaseError,
  target: DatabaseTarget,
  doing: string,
): string {
  const reason =
    (err.driverCode === undefined ? undefined : DRIVER_REASONS[err.driverCode]) ??
    `${err.message}${err.driverCode === undefined ? '' : ` (${err.driverCode})`}`;
  return `${doing} ${describeDatabaseTarget(target)}: ${reason}.`;
}

/**
 * `<resource> <path> <column>: <message>`, leaving out the parts a problem does not have; a
 * warning starts with `warning: `.
 */
export function formatProblem(problem: MappingProblem): string {
  const where = [problem.resource, problem.path, problem.column].filter(
    (part): part is string => part !== undefined && part !== '',
  );
  const text = where.length === 0 ? problem.message : `${where.join(' ')}: ${problem.message}`;
  return isBlocking(problem) ? text : `warning: ${text}`;
}

/** `2 errors and 1 warning`, `1 error`, `3 warnings`. */
export function countProblems(problems: readonly MappingProblem[]): string {
  const errors = problems.filter(isBlocking).length;
  const warnings = problems.length - errors;
  const parts = [
    ...(errors > 0 ? [`${errors} error${errors === 1 ? '' : 's'}`] : []),
    ...(warnings > 0 ? [`${warnings} warning${warnings === 1 ? '' : 's'}`] : []),
  ];
  return parts.length === 0 ? 'no problems' : parts.join(' and ');
}
