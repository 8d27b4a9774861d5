import type { Dialect, SqlValue } from '../db/dialect.js';
import type { Filter } from './mapping-schema.js';

/**
 * Pieces of SQL text with their bound values. The text is built from quoted identifiers and
 * fixed keywords only; every value is a `?` with its entry in `params`, in order.
 */
export interface SqlFragment {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

/** Matches nothing; used when a search value can match no row (unknown code, foreign system). */
export const MATCH_NOTHING: SqlFragment = { sql: '1=0', params: [] };

/** `?, ?, ?` for `count` values. */
export function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

/** Joins fragments with `AND`/`OR`, parenthesising each part when there is more than one. */
export function joinFragments(parts: readonly SqlFragment[], operator: 'AND' | 'OR'): SqlFragment {
  if (parts.length === 1 && parts[0] !== undefined) {
    return parts[0];
  }
  return {
    sql: parts.map((p) => `(${p.sql})`).join(` ${operator} `),
    params: parts.flatMap((p) => p.params),
  };
}

/** A mapping literal as a bound value; booleans become 1/0 because SQLite cannot bind booleans. */
export function toSqlValue(value: string | number | boolean): SqlValue {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

const COMPARATORS = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' } as const;

/** One structured filter as SQL on `alias`. */
export function compileFilter(filter: Filter, alias: string, dialect: Dialect): SqlFragment {
  if (!('column' in filter)) {
    throw new Error('exists, notExists and anyOf filters are not compiled yet');
  }
  const column = `${alias}.${dialect.quoteId(filter.column)}`;
  switch (filter.op) {
    case 'isNull':
      return { sql: `${column} IS NULL`, params: [] };
    case 'notNull':
      return { sql: `${column} IS NOT NULL`, params: [] };
    case 'in':
    case 'notIn': {
      const keyword = filter.op === 'in' ? 'IN' : 'NOT IN';
      return {
        sql: `${column} ${keyword} (${placeholders(filter.value.length)})`,
        params: filter.value.map(toSqlValue),
      };
    }
    default: {
      const value = filter.value;
      if (typeof value === 'object') {
        throw new Error('today values are not compiled yet');
      }
      return { sql: `${column} ${COMPARATORS[filter.op]} ?`, params: [toSqlValue(value)] };
    }
  }
}

/** A filter list ANDed, or `undefined` for no filters. */
export function compileFilters(
  filters: readonly Filter[] | undefined,
  alias: string,
  dialect: Dialect,
): SqlFragment | undefined {
  if (filters === undefined || filters.length === 0) {
    return undefined;
  }
  const parts = filters.map((f) => compileFilter(f, alias, dialect));
  return { sql: parts.map((p) => p.sql).join(' AND '), params: parts.flatMap((p) => p.params) };
}
