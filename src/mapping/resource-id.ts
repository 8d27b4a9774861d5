import type { SqlValue } from '../db/dialect.js';

/**
 * Resource ids as the outside world sends them and as the database stores them. A key that
 * cannot be a valid id of this resource is refused before any SQL, so `"1 OR 1=1"`, `"1abc"` and
 * `"01"` never reach the database.
 */

/** The R4 `id` datatype. */
export const FHIR_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/** Integers without sign noise or leading zeros: the text `String(n)` gives back. */
const CANONICAL_INTEGER = /^(0|-?[1-9][0-9]{0,18})$/;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** How the id column is typed in the mapping. */
export type IdType = 'integer' | 'string';

/**
 * The bound value for a key, or `undefined` when no row could have it. Integer keys bind as
 * numbers (bigint beyond 2^53) so that the database compares numerically without coercing text.
 */
export function toIdParam(key: string, type: IdType): SqlValue | undefined {
  if (!FHIR_ID_PATTERN.test(key)) {
    return undefined;
  }
  if (type === 'string') {
    return key;
  }
  if (!CANONICAL_INTEGER.test(key)) {
    return undefined;
  }
  const n = Number(key);
  if (Number.isSafeInteger(n)) {
    return n;
  }
  const big = BigInt(key);
  return big < INT64_MIN || big > INT64_MAX ? undefined : big;
}

/**
 * The bound value for an id held in a foreign-key column (a reference parameter, a
 * reverse-reference batch), checked as {@link toIdParam} checks it but bound as its text. The
 * column's type is not the target's: a VARCHAR often holds integer ids, and MariaDB compares a
 * VARCHAR column with a number as doubles, which reads every row instead of the column's index;
 * text compared with an integer column is converted once and still uses the index. Ids beyond
 * 2^53 stay bigint, which text would lose precision against an integer column.
 */
export function toForeignKeyParam(key: string, type: IdType): SqlValue | undefined {
  const value = toIdParam(key, type);
  return typeof value === 'number' ? key : value;
}

/** The key a row answers to: its id cell as text. Matching is exact string equality. */
export function rowKey(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    return String(value);
  }
  if (Buffer.isBuffer(value)) {
    return value.toString('utf8');
  }
  return undefined;
}

/**
 * A raw id cell as a bound value, to look up child rows by the parent's own value. An integer is
 * bound as its text, for the reason given at {@link toForeignKeyParam}: the child's key column
 * may be a VARCHAR.
 */
export function toKeyParam(value: unknown): SqlValue | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    return String(value);
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
    return value;
  }
  return rowKey(value);
}
