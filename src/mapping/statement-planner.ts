import type { SqlValue } from '../db/dialect.js';
import {
  and,
  column,
  compare,
  type Expr,
  flag,
  inList,
  type Order,
  param,
  type Query,
  type Select,
  type SelectItem,
} from '../db/statement.js';
import type { ChildPlan, ResourcePlan } from './compiled-resource.js';
import type { ResolvedColumn } from './row-source.js';

/**
 * The planner: a compiled resource plan and a parsed query -> the statement tree that answers
 * it. One statement per resource type and nesting level: a page, a read by ids, a count, a
 * reverse-reference batch over the source table and its joins (fan-out resources as a `UNION ALL`
 * of their items), and one statement per child plan. Nothing here runs a statement or reads rows.
 */

/** The result key of the row number in a reverse-reference batch. */
export const ROW_NUMBER_ALIAS = '_fhirgate_rn';
/** The result key of a count. */
export const COUNT_ALIAS = '_fhirgate_n';
/** The fan-out item index of a row in the `UNION ALL` of fan-out statements. */
export const ITEM_ALIAS = '_fhirgate_item';
/**
 * `_fhirgate_present_<i>`: whether the row has fan-out item `i`, by its skip rule evaluated in
 * SQL, in the statement of a read by ids (searches put the same rule in each item's `WHERE`).
 */
export const PRESENT_ALIAS_PREFIX = '_fhirgate_present_';

/**
 * What a query selects: row conditions, and for a fan-out resource the items that can match, each
 * with conditions of its own (`_id=12-8302-2` is row 12 in the height item only).
 */
export interface Selection {
  readonly conditions: readonly Expr[];
  readonly items: ReadonlyMap<number, readonly Expr[]>;
}

/** One resolved sort key: a column of the row and its direction. */
export interface OrderTerm {
  readonly column: ResolvedColumn;
  readonly descending: boolean;
}

/** The statements of one resource type. */
export interface StatementPlanner {
  /** The rows with these id values (and, for fan-out, one presence flag per item). */
  readById(values: readonly SqlValue[]): Select;
  /** One page of rows (of items, for fan-out) in `order`. */
  page(selection: Selection, order: readonly OrderTerm[], count: number, offset: number): Query;
  /** How many rows (items) match. */
  count(selection: Selection): Select;
  /** The first `countPerTarget` rows per value of `ref` among `values`, in `order`. */
  byReference(
    selection: Selection,
    order: readonly OrderTerm[],
    ref: ResolvedColumn,
    values: readonly SqlValue[],
    countPerTarget: number,
  ): Select;
  /** The rows of a child plan whose key is among `values`, by key then the plan's order. */
  children(child: ChildPlan, values: readonly SqlValue[]): Select;
}

/** Select items, each result key once, in first-use order. */
export function uniqueItems(columns: readonly ResolvedColumn[]): SelectItem[] {
  const seen = new Set<string>();
  const items: SelectItem[] = [];
  for (const c of columns) {
    if (!seen.has(c.key)) {
      seen.add(c.key);
      items.push(selectItemOf(c));
    }
  }
  return items;
}

/** The select item of a resolved column: keyed by its reference (`person.gender`). */
export function selectItemOf(resolved: ResolvedColumn): SelectItem {
  return resolved.key === resolved.column
    ? { expr: resolved.expr }
    : { expr: resolved.expr, as: resolved.key };
}

export function createStatementPlanner(plan: ResourcePlan): StatementPlanner {
  const { fanOut, source } = plan;
  /** A statement over the resource's table and joins. */
  const fromSource = (
    items: readonly SelectItem[],
    where: Expr,
    extra: Partial<Pick<Select, 'orderBy' | 'limit' | 'offset'>> = {},
  ): Select => ({
    kind: 'select',
    items,
    from: { table: source.table, as: source.alias },
    joins: source.joins,
    where,
    ...extra,
  });
  // A read by id of a fan-out resource selects one presence flag per item with a skip rule, so
  // the database decides whether an item exists, exactly as in the WHERE of searches and counts
  // (MariaDB finds VARCHAR 'n/m' = 0; SQLite finds TEXT '0' <> 0): both paths agree.
  const flags: SelectItem[] = (fanOut?.items ?? []).flatMap((it, i) =>
    it.present === undefined ? [] : [{ expr: flag(it.present), as: `${PRESENT_ALIAS_PREFIX}${i}` }],
  );
  const mainItems = uniqueItems(plan.columns);
  const byIdItems = [...mainItems, ...flags];

  /** The order over the source's columns. */
  const orderInSource = (terms: readonly OrderTerm[]): Order[] =>
    terms.map((t) => ({ expr: t.column.expr, descending: t.descending }));
  /** The order over the result keys of a derived table. */
  const orderIn = (alias: string, terms: readonly OrderTerm[]): Order[] =>
    terms.map((t) => ({ expr: column(alias, t.column.key), descending: t.descending }));

  /**
   * Fan-out: one `SELECT` per selected item, tagged with the item index, over `extra` row
   * conditions, its own conditions and its presence rule. `tail` closes each branch (an
   * `ORDER BY ... LIMIT` that bounds it).
   */
  const branchesOf = (
    selection: Selection,
    items: readonly SelectItem[],
    extra: readonly Expr[],
    tail: Partial<Pick<Select, 'orderBy' | 'limit' | 'offset'>> = {},
  ): Select[] =>
    [...selection.items].map(([i, own]) =>
      fromSource(
        [...items, { expr: { kind: 'int', value: i }, as: ITEM_ALIAS }],
        and(plan.filters, ...selection.conditions, ...extra, ...own, fanOut?.items[i]?.present),
        tail,
      ),
    );

  return {
    readById: (values) =>
      fromSource(byIdItems, and(plan.filters, inList(plan.id.expr, values.map(param)))),

    page(selection, order, count, offset) {
      if (fanOut === undefined) {
        return fromSource(mainItems, and(plan.filters, ...selection.conditions), {
          orderBy: orderInSource(order),
          limit: count,
          offset,
        });
      }
      // Each branch is cut at offset + count in the same order, so the outer page is exact
      // while every branch can stop early on an index.
      const items = uniqueItems([...plan.columns, ...order.map((o) => o.column)]);
      const union = branchesOf(selection, items, [], {
        orderBy: orderInSource(order),
        limit: offset + count,
        offset: 0,
      });
      return {
        kind: 'select',
        items: 'all',
        from: { query: { kind: 'unionAll', branches: union }, as: 'f' },
        orderBy: [...orderIn('f', order), { expr: column('f', ITEM_ALIAS), descending: false }],
        limit: count,
        offset,
      };
    },

    count(selection) {
      const countItem: SelectItem = { expr: { kind: 'countAll' }, as: COUNT_ALIAS };
      return fanOut === undefined
        ? fromSource([countItem], and(plan.filters, ...selection.conditions))
        : {
            kind: 'select',
            items: [countItem],
            from: {
              query: {
                kind: 'unionAll',
                branches: branchesOf(selection, [selectItemOf(plan.id)], []),
              },
              as: 'f',
            },
          };
    },

    byReference(selection, order, ref, values, countPerTarget) {
      const columns = [...plan.columns, ref, ...order.map((o) => o.column)];
      const items = uniqueItems(columns);
      const among = inList(ref.expr, values.map(param));
      let inner: Select;
      if (fanOut === undefined) {
        inner = fromSource(
          [
            ...items,
            {
              expr: { kind: 'rowNumber', partitionBy: [ref.expr], orderBy: orderInSource(order) },
              as: ROW_NUMBER_ALIAS,
            },
          ],
          and(plan.filters, ...selection.conditions, among),
        );
      } else {
        inner = {
          kind: 'select',
          items: [
            ...[...new Set(columns.map((c) => c.key))].map((key) => ({ expr: column('f', key) })),
            { expr: column('f', ITEM_ALIAS) },
            {
              expr: {
                kind: 'rowNumber',
                partitionBy: [column('f', ref.key)],
                orderBy: [
                  ...orderIn('f', order),
                  { expr: column('f', ITEM_ALIAS), descending: false },
                ],
              },
              as: ROW_NUMBER_ALIAS,
            },
          ],
          from: {
            query: { kind: 'unionAll', branches: branchesOf(selection, items, [among]) },
            as: 'f',
          },
        };
      }
      return {
        kind: 'select',
        items: 'all',
        from: { query: inner, as: 'r' },
        where: compare('<=', column('r', ROW_NUMBER_ALIAS), param(countPerTarget)),
        orderBy: [
          { expr: column('r', ref.key), descending: false },
          { expr: column('r', ROW_NUMBER_ALIAS), descending: false },
        ],
      };
    },

    children(child, values) {
      const key = column(child.source.alias, child.key);
      return {
        kind: 'select',
        items: child.items,
        from: { table: child.source.table, as: child.source.alias },
        joins: child.source.joins,
        where: and(child.filters, inList(key, values.map(param))),
        orderBy: [{ expr: key, descending: false }, ...child.order],
      };
    },
  };
}
