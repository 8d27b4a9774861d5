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
}

export type SqlValue = string | number | bigint | boolean | null;

/** The identifier rule every mapping and registry identifier must pass before it is quoted. */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * A result key: a column name, or `join.column` for a column of a named join (the mapping's
 * column references). Quoted whole, the dot is part of the name.
 */
export const RESULT_KEY_PATTERN = /^([A-Za-z][A-Za-z0-9_]{0,29}\.)?[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export type DialectName = 'mysql' | 'sqlite';

export interface Dialect {
  readonly name: DialectName;
  /** Quotes one identifier. Throws when it does not match {@link IDENTIFIER_PATTERN}. */
  quoteId(identifier: string): string;
  /** Quotes a result key. Throws when it does not match {@link RESULT_KEY_PATTERN}. */
  quoteAlias(key: string): string;
  /** The placeholder of the `n`th bound value (1-based). */
  placeholder(n: number): string;
  /** ` LIMIT n OFFSET m` for validated non-negative integers (inlined: they are never user text). */
  limitOffset(count: number, offset: number): string;
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
  placeholder: questionMark,
  limitOffset(count, offset) {
    assertPageNumber('count', count);
    assertPageNumber('offset', offset);
    return ` LIMIT ${count} OFFSET ${offset}`;
  },
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
  placeholder: questionMark,
  limitOffset(count, offset) {
    assertPageNumber('count', count);
    assertPageNumber('offset', offset);
    return ` LIMIT ${count} OFFSET ${offset}`;
  },
  likeEscape: " ESCAPE '!'",
};

export function dialectFor(name: DialectName): Dialect {
  return name === 'mysql' ? MYSQL_DIALECT : SQLITE_DIALECT;
}

/**
 * Runs statements against one tenant database. Implementations count statements, enforce the
 * tenant's resilience policy and never log values.
 */
export interface QueryExecutor {
  readonly dialect: Dialect;
  query(statement: SqlStatement): Promise<Row[]>;
}
