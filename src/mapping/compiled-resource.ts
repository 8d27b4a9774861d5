import type { Dialect, QueryExecutor, Row, SqlValue } from '../db/dialect.js';
import { renderQuery } from '../db/render-statement.js';
import { type Expr, FALSE, type Order, type Query, type SelectItem } from '../db/statement.js';
import type { FhirJson } from '../fhir/fhir-json.js';
import type { ColumnUse } from './column-use.js';
import type { FanOutPlan } from './fan-out.js';
import { MappingQueryError } from './mapping-query-error.js';
import {
  FHIR_ID_PATTERN,
  type IdType,
  rowKey,
  toForeignKeyParam,
  toIdParam,
  toKeyParam,
} from './resource-id.js';
import { createLayout, DATA, type LayoutPart, type ResourceLayout } from './resource-layout.js';
import type { ResolvedColumn, RowSource } from './row-source.js';
import { type CompiledFields, createItemBuilder, toReferenceId } from './row-to-resource.js';
import type { CompiledSearchParam, SearchQuery } from './search.js';
import {
  COUNT_ALIAS,
  createStatementPlanner,
  ITEM_ALIAS,
  type OrderTerm,
  PRESENT_ALIAS_PREFIX,
  type Selection,
} from './statement-planner.js';

/**
 * One resource type of a compiled mapping: its statements, compiled once, and the code that runs
 * them and turns rows into FHIR JSON. A request costs one statement for the main table plus one
 * per child table, whatever the number of ids (or, for `searchByReference`, of targets).
 */

/** One sort key: a mapped search parameter code (or `_id`) and its direction. */
export interface SortSpec {
  readonly code: string;
  readonly descending: boolean;
}

/** The page of a search. */
export interface SearchPage {
  /** Resources to return; 0 returns nothing without a statement. At most {@link MAX_SEARCH_COUNT}. */
  readonly count: number;
  /** Resources to skip (for a fan-out resource, items, not rows). */
  readonly offset: number;
  /**
   * Sort keys, most significant first. Each code must be `_id` or a mapped string, token, date
   * or reference parameter of the main table; results sort by its first column. The id always
   * breaks ties, so pages are stable. @default by id, ascending
   */
  readonly sort?: readonly SortSpec[];
}

/**
 * Told of rows about to be built, `ROWS_PER_PACE` at a time at most, before they are built: may
 * throw (the request's resource cap) or return a promise to wait for first (a yield to the event
 * loop), so a large result is built in slices. See `src/repository/work-budget.ts`.
 */
export type BuildPace = (rows: number) => Promise<void> | undefined;

/** Rows built between two calls of a {@link BuildPace}. */
export const ROWS_PER_PACE = 50;

/** The reverse-reference batch of {@link CompiledResource.searchByReference}. */
export interface ReverseReferenceRequest {
  /** A reference search parameter of this resource (a key of `referenceParams`). */
  readonly code: string;
  /** Plain logical ids of the parameter's target type (`123`, not `Patient/123`). */
  readonly targetIds: readonly string[];
  /** More conditions every result must meet, as in `search`. */
  readonly query: SearchQuery;
  /** The most resources returned per target, 0 to {@link MAX_SEARCH_COUNT}. */
  readonly countPerTarget: number;
  /** The order inside each target's list, as in {@link SearchPage.sort}. @default by id */
  readonly sort?: readonly SortSpec[];
  /** The elements to build, as in {@link CompiledResource.search}. @default all */
  readonly elements?: ElementSelection;
  /** Paces the building, as in {@link CompiledResource.search}. @default none */
  readonly pace?: BuildPace;
}

/** The largest page a search may ask for; the GraphQL layer normally caps lower. */
export const MAX_SEARCH_COUNT = 1000;
/** The most entries one search may have. */
export const MAX_SEARCH_PARAMS = 20;
/** The most sort keys one search may have. */
export const MAX_SORT_KEYS = 5;
/**
 * The most keys bound in one `IN (...)`. Larger batches are split, which is the one case where a
 * load costs more than one statement per table; DataLoader batches stay well below it.
 */
export const MAX_KEYS_PER_STATEMENT = 1000;

/**
 * Column aliases of the gateway's own statements. Mapped columns may not start with
 * {@link RESERVED_COLUMN_PREFIX}, so they can never collide.
 */
export const RESERVED_COLUMN_PREFIX = '_fhirgate';
/**
 * The top-level elements a caller will read (`name`, `birthDate`, `valueQuantity`): the resources
 * built hold those (and `resourceType` and `id`), and child tables that feed none of them are not
 * queried. `undefined` builds every mapped element. The same set object should be passed for one
 * request: the filtered element lists are cached per set.
 */
export type ElementSelection = ReadonlySet<string>;

/** A compiled resource type; see `compileMapping`. */
export interface CompiledResource {
  readonly resourceType: string;
  /** The search parameter codes this tenant maps, `_id` included. */
  readonly searchParams: ReadonlySet<string>;
  /**
   * The mapped reference search parameters: code -> the resource types its values point at.
   * These are the codes {@link searchByReference} accepts.
   */
  readonly referenceParams: ReadonlyMap<string, readonly string[]>;
  /**
   * Table -> the columns the mapping reads from it: {@link columnUses} grouped by table, for a
   * quick existence check.
   */
  readonly tables: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * Every column the mapping reads (id, filters, elements, child keys and order, search
   * parameters), with the element it feeds, its FHIR type and its transforms, for the check that
   * holds a mapping against the tenant's live schema.
   */
  readonly columnUses: readonly ColumnUse[];
  /**
   * Resources by id, in the order of `ids`; `null` for an id with no row. Ids that cannot exist
   * (not a FHIR id, or not an integer for an integer id column) are `null` without any SQL.
   */
  loadByIds(
    exec: QueryExecutor,
    ids: readonly string[],
    elements?: ElementSelection,
    pace?: BuildPace,
  ): Promise<(FhirJson | null)[]>;
  /**
   * One page of resources matching `query`, ordered by `page.sort` then id. Throws
   * {@link MappingQueryError} for an unmapped parameter or sort key, or a value that cannot be
   * parsed. `pace` is told of the rows before they are built (see {@link BuildPace}).
   */
  search(
    exec: QueryExecutor,
    query: SearchQuery,
    page: SearchPage,
    elements?: ElementSelection,
    pace?: BuildPace,
  ): Promise<FhirJson[]>;
  /** How many resources match `query`: one `SELECT COUNT(*)`, none when nothing can match. */
  count(exec: QueryExecutor, query: SearchQuery): Promise<number>;
  /**
   * The reverse-reference batch: for each target id, the first `countPerTarget` resources whose
   * reference parameter `code` points at it and that match `query`, in `sort` order. One
   * statement for all targets (`ROW_NUMBER() OVER (PARTITION BY ...)`) plus one per child
   * table. Every requested id is a key of the result, with an empty list when nothing points at
   * it (or when it cannot be an id of the target type).
   */
  searchByReference(
    exec: QueryExecutor,
    request: ReverseReferenceRequest,
  ): Promise<Map<string, FhirJson[]>>;
}

/** A child table mapping, compiled. */
export interface ChildPlan {
  /** The child table (alias `c`) and its joins. */
  readonly source: RowSource;
  /** The child's column matched against the parent's `parentKey` (also its result key). */
  readonly key: string;
  /** The result key of the parent row's column the child rows hang from. */
  readonly parentKey: string;
  /** What the child statement selects: the key first, then what the elements read. */
  readonly items: readonly SelectItem[];
  readonly filters: Expr;
  /** Item order inside one parent, after the key. */
  readonly order: readonly Order[];
  /** The top-level element the child rows fill (`name`); unselected, the table is not read. */
  readonly element: string;
  readonly fields: CompiledFields;
  /** Where the built child rows are appended (`name`, `contact[0].telecom`). */
  readonly part: LayoutPart;
}

/** Everything {@link createCompiledResource} needs, compiled by `compileMapping`. */
export interface ResourcePlan {
  readonly resourceType: string;
  readonly dialect: Dialect;
  /** The table (alias `t`) and its joins. */
  readonly source: RowSource;
  readonly id: ResolvedColumn;
  readonly idType: IdType;
  /** What the main statement selects: the id first, then every column the elements read. */
  readonly columns: readonly ResolvedColumn[];
  /** The row filters; `TRUE` when there are none. */
  readonly filters: Expr;
  readonly fields: CompiledFields;
  readonly children: readonly ChildPlan[];
  readonly searchParams: ReadonlyMap<string, CompiledSearchParam>;
  readonly columnUses: readonly ColumnUse[];
  /** Set when one row fans out into several resources. */
  readonly fanOut?: FanOutPlan | undefined;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

/** Groups column uses by table. */
function tablesOf(uses: readonly ColumnUse[]): ReadonlyMap<string, ReadonlySet<string>> {
  const tables = new Map<string, Set<string>>();
  for (const { table, column } of uses) {
    const columns = tables.get(table) ?? new Set<string>();
    columns.add(column);
    tables.set(table, columns);
  }
  return tables;
}

function badInput(message: string): MappingQueryError {
  return new MappingQueryError('BAD_USER_INPUT', message);
}

/** Names a caller-given code only when it is well-formed, so nothing odd is echoed. */
function named(code: unknown, what: string): string {
  return typeof code === 'string' && /^[_a-z][a-z0-9-]{0,63}$/.test(code)
    ? `${what} "${code}" is`
    : `This ${what.toLowerCase()} is`;
}

function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_SEARCH_COUNT) {
    throw badInput(`${name} must be an integer from 0 to ${MAX_SEARCH_COUNT}.`);
  }
}

/** One row of a result and, for fan-out, the item it stands for. */
interface ResultRow {
  readonly row: Row;
  readonly item: number | undefined;
}

/** Builds the runtime object of one resource type from its compiled plan. */
export function createCompiledResource(plan: ResourcePlan): CompiledResource {
  const { dialect, fanOut } = plan;
  const idKey = plan.id.key;
  const run = (exec: QueryExecutor, query: Query) => exec.query(renderQuery(dialect, query));
  const planner = createStatementPlanner(plan);
  const allItems = (fanOut?.items ?? []).map((_, i) => i);
  // The slots of a build: the shared fields, the fan-out item's, then one list per child table.
  const sharedSlots = plan.fields.parts.length;
  const childParts = plan.children.map((child) => child.part);
  const layouts = (fanOut?.items ?? [undefined]).map((item) =>
    createLayout([...plan.fields.parts, ...(item?.fields.parts ?? []), ...childParts]),
  );
  const childItems = plan.children.map((child) => createItemBuilder(child.fields));

  const referenceParams = new Map<string, readonly string[]>();
  for (const [code, searchParam] of plan.searchParams) {
    if (searchParam.reference !== undefined) {
      referenceParams.set(code, Object.freeze([searchParam.reference.type]));
    }
  }

  const assertDialect = (exec: QueryExecutor) => {
    if (exec.dialect.name !== dialect.name) {
      throw new Error(
        `CompiledResource: mapping compiled for ${dialect.name}, executor is ${exec.dialect.name}`,
      );
    }
  };

  /**
   * The query's conditions, or `undefined` when it can match nothing (then no statement runs).
   * Throws for an unmapped parameter or an unreadable value.
   */
  const selectionOf = (query: SearchQuery): Selection | undefined => {
    if (!Array.isArray(query) || query.length > MAX_SEARCH_PARAMS) {
      throw badInput(`A search may have at most ${MAX_SEARCH_PARAMS} parameters.`);
    }
    const conditions: Expr[] = [];
    const items = new Map<number, Expr[]>(allItems.map((i) => [i, []]));
    let nothing = false;
    for (const entry of query) {
      const searchParam = plan.searchParams.get(entry.code);
      if (searchParam === undefined) {
        throw new MappingQueryError(
          'SEARCH_PARAM_NOT_SUPPORTED',
          `${named(entry.code, 'Search parameter')} not supported for ${plan.resourceType}.`,
          entry.code,
        );
      }
      // Every entry is parsed, even after one that matches nothing, so bad input always fails.
      if (searchParam.toItems !== undefined) {
        const selected = searchParam.toItems(entry);
        if (selected !== undefined) {
          for (const [i, extra] of items) {
            const condition = selected.get(i);
            if (!selected.has(i)) {
              items.delete(i);
            } else if (condition !== undefined) {
              extra.push(condition);
            }
          }
        }
        continue;
      }
      const condition = searchParam.toSql(entry);
      if (condition === FALSE) {
        nothing = true;
      } else if (condition !== undefined) {
        conditions.push(condition);
      }
    }
    if (nothing || (fanOut !== undefined && items.size === 0)) {
      return undefined;
    }
    return { conditions, items };
  };

  /** The sort keys as columns, id last (unless `_id` is among them). */
  const orderOf = (sort: readonly SortSpec[] | undefined): OrderTerm[] => {
    if (sort !== undefined && (!Array.isArray(sort) || sort.length > MAX_SORT_KEYS)) {
      throw badInput(`A search may have at most ${MAX_SORT_KEYS} sort keys.`);
    }
    const terms: OrderTerm[] = [];
    for (const spec of sort ?? []) {
      const column = plan.searchParams.get(spec.code)?.sortColumn;
      if (column === undefined) {
        throw new MappingQueryError(
          'SEARCH_PARAM_NOT_SUPPORTED',
          `${named(spec.code, 'Sort parameter')} not supported for ${plan.resourceType}.`,
          typeof spec.code === 'string' ? spec.code : undefined,
        );
      }
      terms.push({ column, descending: spec.descending === true });
    }
    if (!terms.some((t) => t.column.key === idKey)) {
      terms.push({ column: plan.id, descending: false });
    }
    return terms;
  };

  /**
   * Child rows of every child plan, grouped by the value of their key; one statement per plan.
   * `undefined` for a plan whose element is not selected: its table is not read.
   */
  const loadChildren = async (
    exec: QueryExecutor,
    rows: readonly Row[],
    elements: ElementSelection | undefined,
  ): Promise<(Map<string, Row[]> | undefined)[]> =>
    Promise.all(
      plan.children.map(async (child) => {
        if (elements !== undefined && !elements.has(child.element)) {
          return undefined;
        }
        const groups = new Map<string, Row[]>();
        const values = [
          ...new Set(
            rows.map((r) => toKeyParam(r[child.parentKey])).filter((v) => v !== undefined),
          ),
        ];
        for (const part of chunks(values, MAX_KEYS_PER_STATEMENT)) {
          const childRows = await run(exec, planner.children(child, part));
          for (const row of childRows) {
            const value = rowKey(row[child.key]);
            if (value === undefined) {
              continue;
            }
            const group = groups.get(value);
            if (group === undefined) {
              groups.set(value, [row]);
            } else {
              group.push(row);
            }
          }
        }
        return groups;
      }),
    );

  /**
   * Whether a row read by `loadByIds` has fan-out item `index`: the item's flag, computed by the
   * database from the skip rule; an item without a skip rule is in every row.
   */
  const hasItem = (row: Row, index: number): boolean => {
    if (fanOut?.items[index]?.present === undefined) {
      return true;
    }
    const value = row[`${PRESENT_ALIAS_PREFIX}${index}`];
    // 1 from SQLite and MariaDB; BIGINT comes back as text with `bigNumberStrings`.
    return value === 1 || value === 1n || value === '1';
  };

  /**
   * Result rows -> resources, aligned with `results` (`undefined` where a row cannot give one: a
   * missing or non-FHIR id, or an unknown fan-out item). Rows stand for items the database found
   * present (the skip rule in a search's WHERE, the flags of `loadByIds`); nothing here applies
   * a skip rule again. Child rows are loaded once per batch, and not at all when there is no row.
   */
  const build = async (
    exec: QueryExecutor,
    results: readonly ResultRow[],
    elements: ElementSelection | undefined,
    pace: BuildPace | undefined,
  ): Promise<(FhirJson | undefined)[]> => {
    if (results.length === 0) {
      return [];
    }
    const childGroups =
      plan.children.length === 0
        ? []
        : await loadChildren(
            exec,
            results.map((r) => r.row),
            elements,
          );
    const buildOne = ({ row, item: index }: ResultRow): FhirJson | undefined => {
      const key = rowKey(row[idKey]);
      if (key === undefined) {
        return undefined;
      }
      const fanOutItem = index === undefined ? undefined : fanOut?.items[index];
      if (fanOut !== undefined && fanOutItem === undefined) {
        return undefined;
      }
      const id = fanOut === undefined || index === undefined ? key : fanOut.formatId(key, index);
      if (!FHIR_ID_PATTERN.test(id)) {
        // It could never be read back by id.
        return undefined;
      }
      const layout = layouts[index ?? 0] as ResourceLayout;
      const frame = layout.frame();
      plan.fields.write(frame, row, 0, elements);
      fanOutItem?.fields.write(frame, row, sharedSlots, elements);
      // Child rows of a choice variant the row did not take are not written.
      const excluded = plan.fields.excludedFor?.(row);
      const childBase = layout.size - plan.children.length;
      for (let i = 0; i < plan.children.length; i++) {
        const child = plan.children[i] as ChildPlan;
        const groups = childGroups[i];
        if (groups === undefined || excluded?.has(child.element) === true) {
          continue; // not selected (not read), or another variant's
        }
        const parent = rowKey(row[child.parentKey]);
        const childRows = parent === undefined ? undefined : groups.get(parent);
        const items: Record<string, unknown>[] = [];
        for (const childRow of childRows ?? []) {
          const item = (childItems[i] as (typeof childItems)[number])(childRow);
          if (item !== undefined) {
            items.push(item);
          }
        }
        frame.set(childBase + i, DATA, items);
      }
      return layout.resource(frame, plan.resourceType, id, elements);
    };
    if (pace === undefined) {
      return results.map(buildOne);
    }
    const out: (FhirJson | undefined)[] = [];
    for (let start = 0; start < results.length; start += ROWS_PER_PACE) {
      const end = Math.min(results.length, start + ROWS_PER_PACE);
      const wait = pace(end - start);
      if (wait !== undefined) {
        await wait;
      }
      for (let i = start; i < end; i++) {
        out.push(buildOne(results[i] as ResultRow));
      }
    }
    return out;
  };

  /** The item index of a fan-out result row; `undefined` for a resource without fan-out. */
  const itemOf = (row: Row): number | undefined => {
    if (fanOut === undefined) {
      return undefined;
    }
    const value = row[ITEM_ALIAS];
    return typeof value === 'number' || typeof value === 'bigint' ? Number(value) : -1;
  };

  /** The resources that exist, each id once (a join or a view may repeat a row). */
  const present = (resources: readonly (FhirJson | undefined)[]): FhirJson[] => {
    const seen = new Set<unknown>();
    return resources.filter((r): r is FhirJson => {
      if (r === undefined || seen.has(r['id'])) {
        return false;
      }
      seen.add(r['id']);
      return true;
    });
  };

  return {
    resourceType: plan.resourceType,
    searchParams: new Set(plan.searchParams.keys()),
    referenceParams,
    tables: tablesOf(plan.columnUses),
    columnUses: Object.freeze([...plan.columnUses]),

    async loadByIds(exec, ids, elements, pace) {
      assertDialect(exec);
      // The row each id names (for fan-out, the part before the item key).
      const wanted = new Map<string, { row: string; item: number | undefined }>();
      const rowParams = new Map<string, SqlValue>();
      for (const id of ids) {
        if (typeof id !== 'string' || wanted.has(id) || !FHIR_ID_PATTERN.test(id)) {
          continue;
        }
        const parsed = fanOut === undefined ? { row: id, item: undefined } : fanOut.parseId(id);
        const value = parsed === undefined ? undefined : toIdParam(parsed.row, plan.idType);
        if (parsed !== undefined && value !== undefined) {
          wanted.set(id, parsed);
          rowParams.set(parsed.row, value);
        }
      }
      if (wanted.size === 0) {
        return ids.map(() => null);
      }
      const found = new Map<string, Row>();
      for (const part of chunks([...rowParams.values()], MAX_KEYS_PER_STATEMENT)) {
        const rows = await run(exec, planner.readById(part));
        for (const row of rows) {
          // Exact text equality: '01' or '1abc' never answer for row 1.
          const key = rowKey(row[idKey]);
          if (key !== undefined && rowParams.has(key) && !found.has(key)) {
            found.set(key, row);
          }
        }
      }
      const requests = [...wanted].flatMap(([id, { row, item }]) => {
        const hit = found.get(row);
        return hit === undefined || (item !== undefined && !hasItem(hit, item))
          ? []
          : [{ id, row: hit, item }];
      });
      const resources = await build(exec, requests, elements, pace);
      const byId = new Map<string, FhirJson>();
      requests.forEach(({ id }, i) => {
        const resource = resources[i];
        if (resource !== undefined) {
          byId.set(id, resource);
        }
      });
      return ids.map((id) => byId.get(id) ?? null);
    },

    async search(exec, query, page, elements, pace) {
      assertDialect(exec);
      assertCount('_count', page.count);
      if (!Number.isSafeInteger(page.offset) || page.offset < 0) {
        throw badInput('_offset must be a non-negative integer.');
      }
      const order = orderOf(page.sort);
      const selection = selectionOf(query);
      if (page.count === 0 || selection === undefined) {
        return [];
      }
      const rows = await run(exec, planner.page(selection, order, page.count, page.offset));
      return present(
        await build(
          exec,
          rows.map((row) => ({ row, item: itemOf(row) })),
          elements,
          pace,
        ),
      );
    },

    async count(exec, query) {
      assertDialect(exec);
      const selection = selectionOf(query);
      if (selection === undefined) {
        return 0;
      }
      const [row] = await run(exec, planner.count(selection));
      return Number(row?.[COUNT_ALIAS] ?? 0);
    },

    async searchByReference(exec, request) {
      assertDialect(exec);
      const target = plan.searchParams.get(request.code)?.reference;
      if (target === undefined) {
        throw new MappingQueryError(
          'SEARCH_PARAM_NOT_SUPPORTED',
          `${named(request.code, 'Reference parameter')} not supported for ${plan.resourceType}.`,
          typeof request.code === 'string' ? request.code : undefined,
        );
      }
      assertCount('countPerTarget', request.countPerTarget);
      const order = orderOf(request.sort);
      const selection = selectionOf(request.query);
      const out = new Map<string, FhirJson[]>();
      const wanted = new Map<string, SqlValue>();
      for (const id of request.targetIds) {
        out.set(id, []);
        const value = typeof id === 'string' ? toForeignKeyParam(id, target.idType) : undefined;
        if (value !== undefined) {
          wanted.set(id, value);
        }
      }
      if (wanted.size === 0 || request.countPerTarget === 0 || selection === undefined) {
        return out;
      }
      const ref = target.column;
      const found: Row[] = [];
      for (const part of chunks([...wanted.values()], MAX_KEYS_PER_STATEMENT)) {
        const rows = await run(
          exec,
          planner.byReference(selection, order, ref, part, request.countPerTarget),
        );
        found.push(...rows);
      }
      const resources = await build(
        exec,
        found.map((row) => ({ row, item: itemOf(row) })),
        request.elements,
        request.pace,
      );
      const seen = new Set<unknown>();
      found.forEach((row, i) => {
        // Grouped by the id the reference element shows, so results match what clients see.
        const list = out.get(toReferenceId(row[ref.key]) ?? '');
        const resource = resources[i];
        if (list !== undefined && resource !== undefined && !seen.has(resource['id'])) {
          seen.add(resource['id']);
          list.push(resource);
        }
      });
      return out;
    },
  };
}
