import type { Dialect, QueryExecutor, Row, SqlValue } from '../db/dialect.js';
import type { FhirJson } from '../graphql/builder.js';
import { MappingQueryError } from './mapping-query-error.js';
import { FHIR_ID_PATTERN, type IdType, rowKey, toIdParam, toKeyParam } from './resource-id.js';
import {
  type CompiledFields,
  createItem,
  finishResource,
  type JsonNode,
} from './row-to-resource.js';
import type { CompiledSearchParam, SearchQuery } from './search.js';
import { MATCH_NOTHING, placeholders, type SqlFragment } from './sql-fragment.js';

/**
 * One resource type of a compiled mapping: its statements, compiled once, and the code that runs
 * them and turns rows into FHIR JSON. A request costs one statement for the main table plus one
 * per child table, whatever the number of ids.
 */

/** The page of a search. */
export interface SearchPage {
  /** Rows to return; 0 returns nothing without a statement. At most {@link MAX_SEARCH_COUNT}. */
  readonly count: number;
  /** Rows to skip. */
  readonly offset: number;
}

/** The largest page a search may ask for; the GraphQL layer normally caps lower. */
export const MAX_SEARCH_COUNT = 1000;
/** The most entries one search may have. */
export const MAX_SEARCH_PARAMS = 20;
/**
 * The most keys bound in one `IN (...)`. Larger batches are split, which is the one case where a
 * load costs more than one statement per table; DataLoader batches stay well below it.
 */
export const MAX_KEYS_PER_STATEMENT = 1000;

/** A compiled resource type; see `compileMapping`. */
export interface CompiledResource {
  readonly resourceType: string;
  /** The search parameter codes this tenant maps, `_id` included. */
  readonly searchParams: ReadonlySet<string>;
  /** Table -> the columns the mapping reads from it, for checking a mapping against a live database. */
  readonly tables: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * Resources by id, in the order of `ids`; `null` for an id with no row. Ids that cannot exist
   * (not a FHIR id, or not an integer for an integer id column) are `null` without any SQL.
   */
  loadByIds(exec: QueryExecutor, ids: readonly string[]): Promise<(FhirJson | null)[]>;
  /**
   * One page of resources matching `query`, ordered by id. Throws {@link MappingQueryError} for
   * an unmapped parameter or a value that cannot be parsed.
   */
  search(exec: QueryExecutor, query: SearchQuery, page: SearchPage): Promise<FhirJson[]>;
}

/** A child table mapping, compiled. */
export interface ChildPlan {
  /** `SELECT ... FROM child AS c WHERE <filters> AND c.key IN (`; the caller closes it. */
  readonly selectPrefix: string;
  readonly filterParams: readonly SqlValue[];
  /** `) ORDER BY c.key, ...`. */
  readonly selectSuffix: string;
  readonly key: string;
  readonly fields: CompiledFields;
  readonly append: (root: JsonNode, items: JsonNode[]) => void;
}

/** Everything {@link createCompiledResource} needs, compiled by `compileMapping`. */
export interface ResourcePlan {
  readonly resourceType: string;
  readonly dialect: Dialect;
  readonly idColumn: string;
  readonly idType: IdType;
  /** `SELECT <columns> FROM table AS t`. */
  readonly selectMain: string;
  readonly filters: SqlFragment | undefined;
  readonly fields: CompiledFields;
  readonly children: readonly ChildPlan[];
  readonly searchParams: ReadonlyMap<string, CompiledSearchParam>;
  readonly tables: ReadonlyMap<string, ReadonlySet<string>>;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

function badPage(message: string): MappingQueryError {
  return new MappingQueryError('BAD_USER_INPUT', message);
}

/** Builds the runtime object of one resource type from its compiled plan. */
export function createCompiledResource(plan: ResourcePlan): CompiledResource {
  const { dialect } = plan;
  const idSql = `t.${dialect.quoteId(plan.idColumn)}`;
  const byIdsPrefix = `${plan.selectMain} WHERE ${plan.filters === undefined ? '' : `${plan.filters.sql} AND `}${idSql} IN (`;
  const filterParams = plan.filters?.params ?? [];

  const assertDialect = (exec: QueryExecutor) => {
    if (exec.dialect.name !== dialect.name) {
      throw new Error(
        `CompiledResource: mapping compiled for ${dialect.name}, executor is ${exec.dialect.name}`,
      );
    }
  };

  /** Child rows of every child plan, grouped by parent key; one statement per plan. */
  const loadChildren = async (
    exec: QueryExecutor,
    parentValues: readonly SqlValue[],
  ): Promise<Map<string, Row[]>[]> =>
    Promise.all(
      plan.children.map(async (child) => {
        const groups = new Map<string, Row[]>();
        for (const part of chunks(parentValues, MAX_KEYS_PER_STATEMENT)) {
          const rows = await exec.query({
            sql: `${child.selectPrefix}${placeholders(part.length)}${child.selectSuffix}`,
            params: [...child.filterParams, ...part],
          });
          for (const row of rows) {
            const key = rowKey(row[child.key]);
            if (key === undefined) {
              continue;
            }
            const group = groups.get(key);
            if (group === undefined) {
              groups.set(key, [row]);
            } else {
              group.push(row);
            }
          }
        }
        return groups;
      }),
    );

  /** Rows -> resources (keyed by id), loading child rows only when there is a parent. */
  const build = async (
    exec: QueryExecutor,
    rows: readonly Row[],
  ): Promise<Map<string, FhirJson>> => {
    const out = new Map<string, FhirJson>();
    if (rows.length === 0) {
      return out;
    }
    const parentValues = [
      ...new Set(rows.map((r) => toKeyParam(r[plan.idColumn])).filter((v) => v !== undefined)),
    ];
    const childGroups = plan.children.length === 0 ? [] : await loadChildren(exec, parentValues);
    for (const row of rows) {
      const key = rowKey(row[plan.idColumn]);
      if (key === undefined || out.has(key)) {
        continue;
      }
      const root: JsonNode = {};
      plan.fields.apply(root, row);
      plan.children.forEach((child, i) => {
        const childRows = childGroups[i]?.get(key) ?? [];
        child.append(
          root,
          childRows.map((childRow) => {
            const item = createItem();
            child.fields.apply(item, childRow);
            return item;
          }),
        );
      });
      out.set(key, finishResource(plan.resourceType, key, root));
    }
    return out;
  };

  return {
    resourceType: plan.resourceType,
    searchParams: new Set(plan.searchParams.keys()),
    tables: plan.tables,

    async loadByIds(exec, ids) {
      assertDialect(exec);
      const wanted = new Map<string, SqlValue>();
      for (const id of ids) {
        const param = typeof id === 'string' ? toIdParam(id, plan.idType) : undefined;
        if (param !== undefined && !wanted.has(id)) {
          wanted.set(id, param);
        }
      }
      if (wanted.size === 0) {
        return ids.map(() => null);
      }
      const found = new Map<string, Row>();
      for (const part of chunks([...wanted.values()], MAX_KEYS_PER_STATEMENT)) {
        const rows = await exec.query({
          sql: `${byIdsPrefix}${placeholders(part.length)})`,
          params: [...filterParams, ...part],
        });
        for (const row of rows) {
          // Exact text equality: '01' or '1abc' never answer for row 1.
          const key = rowKey(row[plan.idColumn]);
          if (key !== undefined && wanted.has(key) && !found.has(key)) {
            found.set(key, row);
          }
        }
      }
      const resources = await build(exec, [...found.values()]);
      return ids.map((id) => resources.get(id) ?? null);
    },

    async search(exec, query, page) {
      assertDialect(exec);
      if (!Number.isSafeInteger(page.count) || page.count < 0 || page.count > MAX_SEARCH_COUNT) {
        throw badPage(`_count must be an integer from 0 to ${MAX_SEARCH_COUNT}.`);
      }
      if (!Number.isSafeInteger(page.offset) || page.offset < 0) {
        throw badPage('_offset must be a non-negative integer.');
      }
      if (query.length > MAX_SEARCH_PARAMS) {
        throw badPage(`A search may have at most ${MAX_SEARCH_PARAMS} parameters.`);
      }
      const conditions: SqlFragment[] = [];
      for (const entry of query) {
        const param = plan.searchParams.get(entry.code);
        if (param === undefined) {
          const named = /^[_a-z][a-z0-9-]{0,63}$/.test(entry.code)
            ? `Search parameter "${entry.code}" is`
            : 'This search parameter is';
          throw new MappingQueryError(
            'SEARCH_PARAM_NOT_SUPPORTED',
            `${named} not supported for ${plan.resourceType}.`,
            entry.code,
          );
        }
        const condition = param.toSql(entry);
        if (condition !== undefined) {
          conditions.push(condition);
        }
      }
      if (page.count === 0 || conditions.includes(MATCH_NOTHING)) {
        return [];
      }
      const where = [
        ...(plan.filters === undefined ? [] : [plan.filters.sql]),
        ...conditions.map((c) => `(${c.sql})`),
      ];
      const rows = await exec.query({
        sql: `${plan.selectMain}${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`} ORDER BY ${idSql}${dialect.limitOffset(page.count, page.offset)}`,
        params: [...filterParams, ...conditions.flatMap((c) => c.params)],
      });
      // A row whose id is not a FHIR id could never be read back by id; leave it out.
      const usable = rows.filter((r) => FHIR_ID_PATTERN.test(rowKey(r[plan.idColumn]) ?? ''));
      const resources = await build(exec, usable);
      return [...resources.values()];
    },
  };
}
