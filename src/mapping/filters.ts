import type { SqlValue } from '../db/dialect.js';
import {
  and,
  type CompareOp,
  column,
  type Expr,
  eq,
  exists,
  FALSE,
  inList,
  isNull,
  not,
  or,
  param,
  TRUE,
} from '../db/statement.js';
import type { Comparison, Filter, RelatedRows } from './mapping-schema.js';
import {
  type ColumnScope,
  type SourceCompileContext,
  tableScope,
  unknownJoinMessage,
} from './row-source.js';

/**
 * Row filters -> conditions of the statement tree. Comparisons bind their values; `today`
 * values are bound when the statement is rendered; `exists` / `notExists` become correlated
 * subqueries on a fresh alias, whose own `where` reads the other table's plain columns.
 */

const COMPARATORS: Readonly<Record<Comparison['op'], CompareOp | undefined>> = {
  eq: '=',
  ne: '<>',
  lt: '<',
  le: '<=',
  gt: '>',
  ge: '>=',
  in: undefined,
  notIn: undefined,
  isNull: undefined,
  notNull: undefined,
};

/** A mapping literal as a bound value; booleans become 1/0 because SQLite cannot bind booleans. */
export function toSqlValue(value: string | number | boolean): SqlValue {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

/** Today (UTC) plus `days`, as `YYYY-MM-DD`. */
export function todayPlus(days: number, now: Date = new Date()): string {
  const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days));
  return date.toISOString().slice(0, 10);
}

/** A filter list ANDed (TRUE when empty). Problems are reported; the bad filter is left out. */
export function compileFilterList(
  filters: readonly Filter[] | undefined,
  scope: ColumnScope,
  path: string,
  context: SourceCompileContext,
): Expr {
  return and(...(filters ?? []).map((f, i) => compileFilter(f, scope, `${path}[${i}]`, context)));
}

function compileFilter(
  filter: Filter,
  scope: ColumnScope,
  path: string,
  context: SourceCompileContext,
): Expr {
  if ('exists' in filter) {
    return compileRelated(filter.exists, scope, `${path}.exists`, context);
  }
  if ('notExists' in filter) {
    return not(compileRelated(filter.notExists, scope, `${path}.notExists`, context));
  }
  if ('anyOf' in filter) {
    return or(
      ...filter.anyOf.map((list, i) =>
        compileFilterList(list, scope, `${path}.anyOf[${i}]`, context),
      ),
    );
  }
  const resolved = scope.resolve(filter.column);
  if (resolved === undefined) {
    context.report({
      path: `${path}.column`,
      column: filter.column,
      message: filter.column.includes('.')
        ? unknownJoinMessage(filter.column, 'filters')
        : 'this filter column is not a plain column name of its table',
    });
    return TRUE;
  }
  context.uses.push({
    table: resolved.table,
    column: resolved.column,
    resource: context.resource,
    path: 'where',
    transforms: [],
  });
  const target = resolved.expr;
  switch (filter.op) {
    case 'isNull':
      return isNull(target);
    case 'notNull':
      return isNull(target, true);
    case 'in':
    case 'notIn':
      return inList(
        target,
        filter.value.map((v) => param(toSqlValue(v))),
        filter.op === 'notIn',
      );
    default: {
      const value = filter.value;
      const bound =
        typeof value === 'object' ? param(() => todayPlus(value.today)) : param(toSqlValue(value));
      return { kind: 'compare', op: COMPARATORS[filter.op] ?? '=', left: target, right: bound };
    }
  }
}

/** `EXISTS (SELECT 1 FROM table AS eN WHERE eN.k = <row column> AND <where>)`. */
function compileRelated(
  related: RelatedRows,
  scope: ColumnScope,
  path: string,
  context: SourceCompileContext,
): Expr {
  const alias = scope.nextAlias();
  const own = tableScope(related.table, alias, scope.nextAlias);
  const pairs: Expr[] = [];
  for (const [its, rowRef] of Object.entries(related.on)) {
    const outer = scope.resolve(rowRef);
    if (outer === undefined) {
      context.report({
        path: `${path}.on`,
        column: rowRef,
        message: unknownJoinMessage(rowRef, 'exists'),
      });
      return FALSE;
    }
    context.uses.push(
      {
        table: related.table,
        column: its,
        resource: context.resource,
        path: 'exists',
        transforms: [],
        pairedWith: { table: outer.table, column: outer.column },
      },
      {
        table: outer.table,
        column: outer.column,
        resource: context.resource,
        path: 'exists',
        transforms: [],
        pairedWith: { table: related.table, column: its },
      },
    );
    pairs.push(eq(column(alias, its), outer.expr));
  }
  const where = compileFilterList(related.where, own, `${path}.where`, context);
  return exists({
    kind: 'select',
    items: [],
    from: { table: related.table, as: alias },
    where: and(...pairs, where),
  });
}
