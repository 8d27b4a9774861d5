import type { SqlValue } from '../db/dialect.js';
import { asText, type Expr, eq, inList, isNull, not, or, param } from '../db/statement.js';
import { toSqlValue } from './filters.js';
import type { FanOutItem } from './mapping-schema.js';
import { type IdType, toIdParam } from './resource-id.js';
import type { ResolvedColumn } from './row-source.js';
import type { CompiledFields } from './row-to-resource.js';
import {
  badInput,
  type CompiledSearchParam,
  type ItemSelection,
  parseToken,
  searchValues,
} from './search.js';

/**
 * Fan-out: one wide row becomes several resources, one per item of the mapping's `fanOut` list
 * (a vital-signs row with height, weight and temperature gives three Observations). An item's
 * resource id is `<row id>-<key>`; an item whose skip column holds a skip value (NULL, 0 or ''
 * by default) does not exist for that row. Searches select items in SQL, each item a branch of a
 * `UNION ALL`, so pages, counts and per-target limits count resources, not rows.
 *
 * The skip rule exists only in SQL, so the database's comparison decides everywhere: in the WHERE
 * of searches and counts, and as a selected flag in reads by id. Reads, searches and counts never
 * disagree, whatever the column type (MariaDB finds VARCHAR `'n/m' = 0`; SQLite finds TEXT
 * `'0' <> 0`, comparing as text with the number bound as REAL, `'0.0'`).
 */

/** The skip values when a skip column has no `skipWhen`. */
export const DEFAULT_SKIP_WHEN: readonly (string | number | null)[] = [null, 0, ''];

/** One compiled fan-out item. */
export interface FanOutItemPlan {
  readonly key: string;
  /** The item's own elements (the shared ones are the resource's fields). */
  readonly fields: CompiledFields;
  /**
   * Whether a row has this item: the skip rule as a condition on the row, true or false (never
   * NULL); `undefined` when every row has the item.
   */
  readonly present: Expr | undefined;
  /** The codings the item's constants write under each element name, for `fanOutKey` search. */
  readonly codings: ReadonlyMap<string, readonly Coding[]>;
}

/** A `system|code` pair written by constants. */
export interface Coding {
  readonly system: string | undefined;
  readonly code: string;
}

/** The fan-out of a resource type, compiled. */
export interface FanOutPlan {
  readonly items: readonly FanOutItemPlan[];
  /** `'12-8302-2'` -> row key `'12'` and item index; `undefined` when it names no item. */
  parseId(id: string): { readonly row: string; readonly item: number } | undefined;
  /** The id of `item` in the row whose key is `row`. */
  formatId(row: string, item: number): string;
}

/** Problems with the keys of a fan-out list: duplicates, and keys that end another key. */
export function fanOutKeyProblems(keys: readonly string[]): string[] {
  const problems: string[] = [];
  keys.forEach((key, i) => {
    if (keys.indexOf(key) !== i) {
      problems.push(`fan-out key ${key} is used twice`);
    }
    for (const other of keys) {
      if (other !== key && other.endsWith(`-${key}`)) {
        // '5-8302-2' would be row 5 of 8302-2 and row 5-8302 of 2.
        problems.push(`fan-out key ${key} ends key ${other}, so some ids would be ambiguous`);
      }
    }
  });
  return problems;
}

/**
 * Compiles the skip rule of an item: `col = ?` per skip value, with the database's own comparison
 * (a number against a text column converts as the database converts), and `col IS NULL` when
 * NULL is a skip value. `skipColumn` is the item's skip column, resolved against the source.
 */
export function compileSkip(
  item: Pick<FanOutItem, 'skipWhen'>,
  skipColumn: ResolvedColumn | undefined,
): Pick<FanOutItemPlan, 'present'> {
  if (skipColumn === undefined) {
    return { present: undefined };
  }
  const skipWhen = item.skipWhen ?? DEFAULT_SKIP_WHEN;
  const skipNull = skipWhen.includes(null);
  const values = skipWhen.filter((v): v is string | number => v !== null);
  const column = skipColumn.expr;
  // A text skip value compares as text: PostgreSQL refuses `numeric_column = ''`.
  const equals = or(
    ...values.map((v) => eq(typeof v === 'string' ? asText(column) : column, param(toSqlValue(v)))),
  );
  if (values.length === 0) {
    return { present: isNull(column, true) };
  }
  if (skipNull) {
    return { present: not(or(isNull(column), equals)) };
  }
  // NOT (NULL = 0) is NULL, which would drop NULL rows the rule keeps.
  return { present: or(isNull(column), not(equals)) };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Builds the id codec of a fan-out list whose keys passed {@link fanOutKeyProblems}. */
export function createFanOutIds(keys: readonly string[]): Pick<FanOutPlan, 'parseId' | 'formatId'> {
  const byKey = new Map(keys.map((key, i) => [key, i]));
  // Longest keys first, so '8302-2' is tried before a key '2' could be (which the key check
  // forbids anyway).
  const alternatives = [...keys].sort((a, b) => b.length - a.length).map(escapeRegex);
  const pattern = new RegExp(`^(.+)-(${alternatives.join('|')})$`);
  return {
    parseId(id) {
      const m = typeof id === 'string' ? pattern.exec(id) : null;
      const row = m?.[1];
      const item = m?.[2] === undefined ? undefined : byKey.get(m[2]);
      return row === undefined || item === undefined ? undefined : { row, item };
    },
    formatId: (row, item) => `${row}-${keys[item] ?? ''}`,
  };
}

/**
 * `_id` of a fan-out resource: each value names one item of one row, so the condition is per
 * item (`12-8302-2` selects row 12 in the height branch only).
 */
export function compileFanOutIdSearch(
  plan: Pick<FanOutPlan, 'parseId' | 'items'>,
  idColumn: ResolvedColumn,
  idType: IdType,
): CompiledSearchParam {
  const column = idColumn.expr;
  return {
    code: '_id',
    sortColumn: idColumn,
    toSql: () => undefined,
    toItems(query) {
      const values = searchValues(query);
      if (values.length === 0) {
        return undefined;
      }
      const rowsByItem = new Map<number, Set<SqlValue>>();
      for (const value of values) {
        const parsed = plan.parseId(value.trim());
        const param = parsed === undefined ? undefined : toIdParam(parsed.row, idType);
        if (parsed !== undefined && param !== undefined) {
          const set = rowsByItem.get(parsed.item) ?? new Set<SqlValue>();
          set.add(param);
          rowsByItem.set(parsed.item, set);
        }
      }
      const selection: ItemSelection = new Map();
      for (const [item, rows] of rowsByItem) {
        selection.set(item, inList(column, [...rows].map(param)));
      }
      return selection;
    },
  };
}

/**
 * A token parameter answered by the items themselves (`"code": { "fanOutKey": true }`): `8302-2`
 * matches the item whose key or constant coding code it is; `http://loinc.org|8302-2` the item
 * with that constant coding; `http://loinc.org|` every item with a coding of that system.
 */
export function compileFanOutKeySearch(
  code: string,
  items: readonly FanOutItemPlan[],
): CompiledSearchParam {
  const element = code;
  const matches = (item: FanOutItemPlan, token: { system?: string; code: string }): boolean => {
    const codings = item.codings.get(element) ?? [];
    if (token.system === undefined) {
      return item.key === token.code || codings.some((c) => c.code === token.code);
    }
    const system = token.system === '' ? undefined : token.system;
    return codings.some((c) => c.system === system && (token.code === '' || c.code === token.code));
  };
  return {
    code,
    toSql: () => undefined,
    toItems(query) {
      const values = searchValues(query);
      if (values.length === 0) {
        return undefined;
      }
      const selection: ItemSelection = new Map();
      for (const value of values) {
        const token = parseToken(value.trim());
        if (token.code === '' && (token.system === undefined || token.system === '')) {
          throw badInput(query.code, 'has a value that cannot be parsed');
        }
        items.forEach((item, i) => {
          if (matches(item, token)) {
            selection.set(i, undefined);
          }
        });
      }
      return selection;
    },
  };
}

/** `code.coding[0].system` -> element `code`, coding 0, part `system`. */
const CODING_PATH = /^([a-z][A-Za-z0-9]*)(?:\[\d+\])?\.coding\[(\d+)\]\.(system|code)$/;

/**
 * The codings constants write, by element name: from `code.coding[0].system` and
 * `code.coding[0].code` (written as constants, in the item or the shared elements).
 */
export function constantCodings(
  constants: readonly (readonly [path: string, value: string | number | boolean])[],
): Map<string, Coding[]> {
  const parts = new Map<string, { system?: string; code?: string }>();
  for (const [path, value] of constants) {
    const m = CODING_PATH.exec(path);
    if (m === null || typeof value !== 'string') {
      continue;
    }
    const key = `${m[1]}|${path.slice(0, path.lastIndexOf('.'))}`;
    const entry = parts.get(key) ?? {};
    if (m[3] === 'system') {
      entry.system = value;
    } else {
      entry.code = value;
    }
    parts.set(key, entry);
  }
  const out = new Map<string, Coding[]>();
  for (const [key, entry] of parts) {
    if (entry.code === undefined) {
      continue;
    }
    const element = key.slice(0, key.indexOf('|'));
    const list = out.get(element) ?? [];
    list.push({ system: entry.system, code: entry.code });
    out.set(element, list);
  }
  return out;
}
