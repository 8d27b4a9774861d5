import { and, type ColumnExpr, column, type Expr, eq, type JoinClause } from '../db/statement.js';
import type { ColumnUse } from './column-use.js';
import { compileFilterList } from './filters.js';
import type { Join } from './mapping-schema.js';

/**
 * The rows a mapping reads from: a table and its named joins (lookups). Column references of the
 * mapping (`gender`, `person.gender`) are resolved here into columns of the statement, each with
 * its result key (the reference itself), so the row builder reads `row['person.gender']`.
 */

/** A column reference resolved against a source. */
export interface ResolvedColumn {
  /** The column in the source's statement (`t.gender`, `j_person.gender`). */
  readonly expr: ColumnExpr;
  /** The key of the column in result rows: the reference as written. */
  readonly key: string;
  /** The real table (for column uses and the checker). */
  readonly table: string;
  /** The real column name. */
  readonly column: string;
}

/** Resolves the column references valid in one place of a mapping. */
export interface ColumnScope {
  /** The column, or `undefined` when the reference names no join of this source. */
  resolve(ref: string): ResolvedColumn | undefined;
  /** A fresh alias for an `exists` subquery (`e1`, `e2`, ...), unique in the statement. */
  nextAlias(): string;
}

/** Where compile problems and column uses go. */
export interface SourceCompileContext {
  /** The resource type, for column uses. */
  readonly resource: string;
  readonly report: (problem: { path?: string; column?: string; message: string }) => void;
  readonly uses: ColumnUse[];
}

/** A compiled source. */
export interface RowSource extends ColumnScope {
  readonly table: string;
  /** The source table's alias: `t` for a resource, `c` for child rows. */
  readonly alias: string;
  /** The joins, in order, ready for a `Select`. */
  readonly joins: readonly JoinClause[];
}

/** The result key of a column of the source table itself, or of a join. */
function keyOf(join: string | undefined, name: string): string {
  return join === undefined ? name : `${join}.${name}`;
}

/** A scope over one table alias where only plain column names are valid (a join's or exists' own where). */
export function tableScope(table: string, alias: string, nextAlias: () => string): ColumnScope {
  return {
    resolve(ref) {
      return ref.includes('.')
        ? undefined
        : { expr: column(alias, ref), key: ref, table, column: ref };
    },
    nextAlias,
  };
}

/**
 * Compiles a table and its joins. `alias` is the table's alias and `joinPrefix` prefixes join
 * aliases (`j_person` in a resource's statement, `k_term` in a child's), so a child's `EXISTS`
 * inside a resource statement never shadows the resource's joins. `path` locates problems.
 */
export function compileRowSource(
  table: string,
  joins: readonly Join[] | undefined,
  options: { alias: string; joinPrefix: string; path: string; nextAlias?: () => string },
  context: SourceCompileContext,
): RowSource {
  const { alias, joinPrefix, path } = options;
  let counter = 0;
  const nextAlias = options.nextAlias ?? (() => `e${++counter}`);
  const known = new Map<string, { table: string; alias: string }>();
  const resolve = (ref: string): ResolvedColumn | undefined => {
    const dot = ref.indexOf('.');
    if (dot < 0) {
      return { expr: column(alias, ref), key: ref, table, column: ref };
    }
    const name = ref.slice(0, dot);
    const columnName = ref.slice(dot + 1);
    const join = known.get(name);
    return join === undefined
      ? undefined
      : {
          expr: column(join.alias, columnName),
          key: keyOf(name, columnName),
          table: join.table,
          column: columnName,
        };
  };
  const clauses: JoinClause[] = [];
  (joins ?? []).forEach((join, i) => {
    const at = `${path}joins[${i}]`;
    if (known.has(join.as)) {
      context.report({ path: at, message: `the join name ${join.as} is used twice` });
      return;
    }
    const joinAlias = `${joinPrefix}${join.as}`;
    const own = tableScope(join.table, joinAlias, nextAlias);
    const pairs = Object.entries(join.on).map(([its, rowRef]) => {
      const outer = resolve(rowRef);
      if (outer === undefined) {
        context.report({
          path: `${at}.on`,
          column: rowRef,
          message: unknownJoinMessage(rowRef, 'an earlier join'),
        });
        return undefined;
      }
      context.uses.push(
        {
          table: join.table,
          column: its,
          resource: context.resource,
          path: `join:${join.as}`,
          transforms: [],
          pairedWith: { table: outer.table, column: outer.column },
        },
        {
          table: outer.table,
          column: outer.column,
          resource: context.resource,
          path: `join:${join.as}`,
          transforms: [],
          pairedWith: { table: join.table, column: its },
        },
      );
      return eq(column(joinAlias, its), outer.expr);
    });
    const where = compileFilterList(join.where, own, `${at}.where`, context);
    if (pairs.some((p) => p === undefined)) {
      return;
    }
    clauses.push({
      kind: join.kind ?? 'inner',
      table: join.table,
      as: joinAlias,
      on: and(...(pairs as Expr[]), where),
    });
    known.set(join.as, { table: join.table, alias: joinAlias });
  });
  return { table, alias, joins: clauses, resolve, nextAlias };
}

/** The problem message for a reference whose join is not known. */
export function unknownJoinMessage(ref: string, where: string): string {
  const name = ref.slice(0, ref.indexOf('.'));
  return `${ref} names no join "${name}" of this source (joins are declared in joins, and ${where} can use them)`;
}
