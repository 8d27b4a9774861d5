import { createHash } from 'node:crypto';

/**
 * A database dialect: everything that differs in SQL text between the database types fhirgate
 * reads. Nothing above `src/db/` writes SQL text by hand; it asks a dialect to quote identifiers
 * and to page.
 */

/** Rows come back as plain objects; values stay `unknown` until a transform checks them. */
export type Row = Record<string, unknown>;

/** A statement and its bound values. Values are never written into `sql`. */
export interface SqlStatement {
  readonly sql: string;
  readonly params: readonly SqlValue[];
  /**
   * Result names the dialect had to shorten (PostgreSQL cuts names at 63 bytes), each mapped back
   * to its result key; the database class renames those columns of every row.
   */
  readonly resultKeys?: ReadonlyMap<string, string> | undefined;
}

export type SqlValue = string | number | bigint | boolean | null;

/** The identifier rule every mapping and registry identifier must pass before it is quoted. */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * A result key: a column name, or `join.column` for a column of a named join (the mapping's
 * column references). Quoted whole, the dot is part of the name.
 */
export const RESULT_KEY_PATTERN = /^([A-Za-z][A-Za-z0-9_]{0,29}\.)?[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export type DialectName = 'mysql' | 'postgres' | 'sqlite';

export interface Dialect {
  readonly name: DialectName;
  /** Quotes one identifier. Throws when it does not match {@link IDENTIFIER_PATTERN}. */
  quoteId(identifier: string): string;
  /** Quotes a result key. Throws when it does not match {@link RESULT_KEY_PATTERN}. */
  quoteAlias(key: string): string;
  /**
   * The name the server reports for a result key quoted by {@link Dialect.quoteAlias}: the key
   * itself, unless the server's names are too short for it.
   */
  resultName(key: string): string;
  /** The placeholder of the `n`th bound value (1-based). */
  placeholder(n: number): string;
  /**
   * What follows an ORDER BY term: ` DESC` when descending, and on PostgreSQL, which sorts NULL
   * highest, the NULLS clause that sorts it lowest as MySQL/MariaDB and SQLite do, so a sort
   * gives one order on every server.
   */
  orderSuffix(descending: boolean): string;
  /** ` LIMIT n OFFSET m` for validated non-negative integers (inlined: they are never user text). */
  limitOffset(count: number, offset: number): string;
  /**
   * The pattern match that ignores case as MySQL/MariaDB's default collations do: `LIKE` there
   * and on SQLite (ASCII), `ILIKE` on PostgreSQL, whose `LIKE` is case-sensitive.
   */
  readonly likeOperator: 'LIKE' | 'ILIKE';
  /**
   * A value as text, to match it with LIKE or compare it with text: MySQL/MariaDB and SQLite
   * convert on their own; PostgreSQL has no LIKE on numbers and refuses `numeric_column = ''`, so
   * it casts (a no-op for text columns, which keep their indexes).
   */
  asText(rendered: string): string;
  /** The ESCAPE clause that goes after a LIKE whose pattern went through {@link escapeLike}. */
  readonly likeEscape: string;
}

/**
 * Escapes `%`, `_` and the escape character `!`, so a LIKE pattern matches them literally. `!`
 * rather than a backslash, because backslashes in string literals depend on MySQL's `sql_mode`.
 */
export function escapeLike(value: string): string {
  return value.replace(/[!%_]/g, (ch) => `!${ch}`);
}

/** Throws when `identifier` is not a plain SQL identifier. */
export function assertIdentifier(identifier: string): void {
  if (!IDENTIFIER_PATTERN.test(identifier)) {
    throw new Error(`invalid SQL identifier (must match ${IDENTIFIER_PATTERN.source})`);
  }
}

function assertResultKey(key: string): void {
  if (!RESULT_KEY_PATTERN.test(key)) {
    throw new Error(`invalid result key (must match ${RESULT_KEY_PATTERN.source})`);
  }
}

const questionMark = () => '?';
const sameName = (key: string) => key;
const asItIs = (rendered: string) => rendered;

function assertPageNumber(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer`);
  }
}

export const MYSQL_DIALECT: Dialect = {
  name: 'mysql',
  quoteId(identifier) {
    assertIdentifier(identifier);
    return `\`${identifier}\``;
  },
  quoteAlias(key) {
    assertResultKey(key);
    return `\`${key}\``;
  },
  resultName: sameName,
  placeholder: questionMark,
  orderSuffix: (descending) => (descending ? ' DESC' : ''),
  limitOffset(count, offset) {
    assertPageNumber('count', count);
    assertPageNumber('offset', offset);
    return ` LIMIT ${count} OFFSET ${offset}`;
  },
  likeOperator: 'LIKE',
  asText: asItIs,
  likeEscape: " ESCAPE '!'",
};

export const SQLITE_DIALECT: Dialect = {
  name: 'sqlite',
  quoteId(identifier) {
    assertIdentifier(identifier);
    return `"${identifier}"`;
  },
  quoteAlias(key) {
    assertResultKey(key);
    return `"${key}"`;
  },
  resultName: sameName,
  placeholder: questionMark,
  orderSuffix: (descending) => (descending ? ' DESC' : ''),
  limitOffset(count, offset) {
    assertPageNumber('count', count);
    assertPageNumber('offset', offset);
    return ` LIMIT ${count} OFFSET ${offset}`;
  },
  likeOperator: 'LIKE',
  asText: asItIs,
  likeEscape: " ESCAPE '!'",
};

/** PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1) and drops the rest. */
const POSTGRES_NAME_BYTES = 63;

/**
 * A result key as PostgreSQL can report it: the key when it fits in 63 bytes, otherwise its
 * first 46 characters, `~` and 16 hex digits of its SHA-256 (keys are ASCII). Derived from the
 * key alone, so a derived table's column is referred to by the same name it was given.
 */
function postgresResultName(key: string): string {
  if (key.length <= POSTGRES_NAME_BYTES) {
    return key;
  }
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return `${key.slice(0, POSTGRES_NAME_BYTES - 17)}~${digest}`;
}

export const POSTGRES_DIALECT: Dialect = {
  name: 'postgres',
  quoteId(identifier) {
    assertIdentifier(identifier);
    // Quoted, so the name keeps the case the mapping gives (unquoted names fold to lower case).
    return `"${identifier}"`;
  },
  quoteAlias(key) {
    assertResultKey(key);
    return `"${postgresResultName(key)}"`;
  },
  resultName(key) {
    assertResultKey(key);
    return postgresResultName(key);
  },
  placeholder: (n) => `$${n}`,
  orderSuffix: (descending) => (descending ? ' DESC NULLS LAST' : ' NULLS FIRST'),
  limitOffset(count, offset) {
    assertPageNumber('count', count);
    assertPageNumber('offset', offset);
    return ` LIMIT ${count} OFFSET ${offset}`;
  },
  likeOperator: 'ILIKE',
  asText: (rendered) => `CAST(${rendered} AS text)`,
  likeEscape: " ESCAPE '!'",
};

const DIALECTS: Readonly<Record<DialectName, Dialect>> = {
  mysql: MYSQL_DIALECT,
  postgres: POSTGRES_DIALECT,
  sqlite: SQLITE_DIALECT,
};

export function dialectFor(name: DialectName): Dialect {
  return DIALECTS[name];
}

/**
 * Runs statements against one tenant database. Implementations count statements, enforce the
 * tenant's resilience policy and never log values.
 */
export interface QueryExecutor {
  readonly dialect: Dialect;
  query(statement: SqlStatement): Promise<Row[]>;
}
