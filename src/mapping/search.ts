import { escapeLike, type SqlValue } from '../db/dialect.js';
import {
  and,
  type Expr,
  eq,
  exists,
  FALSE,
  inList,
  isNull,
  like,
  not,
  or,
  param,
  TRUE,
} from '../db/statement.js';
import type { SearchParamDef } from '../fhir/definition-types.js';
import { MappingQueryError } from './mapping-query-error.js';
import type { SearchParamMapping } from './mapping-schema.js';
import { type IdType, toForeignKeyParam, toIdParam } from './resource-id.js';
import {
  type ColumnScope,
  type ResolvedColumn,
  type RowSource,
  type SourceCompileContext,
  unknownJoinMessage,
} from './row-source.js';

/**
 * FHIR search parameters -> conditions of the statement tree. Each mapped parameter is compiled
 * once into a function from one query entry to a condition over resolved columns (of the source
 * table, its joins, or a child table through `EXISTS`); every value is bound. Supported types in format version 1: string, token, date,
 * reference and `_id` (fan-out `_id` and `fanOutKey` parameters are in fan-out.ts).
 */

/** The FHIR modifiers the engine understands. */
export type SearchModifier = 'exact' | 'contains' | 'missing';

/** One parameter of a search: values of one entry are ORed, entries are ANDed. */
export interface SearchParamQuery {
  readonly code: string;
  readonly modifier?: SearchModifier;
  readonly values: readonly string[];
}

/** A whole search: different entries AND, values of one entry OR. */
export type SearchQuery = ReadonlyArray<SearchParamQuery>;

/** Most values one parameter entry may carry. */
export const MAX_SEARCH_VALUES = 50;
/** Longest value, in characters. */
export const MAX_SEARCH_VALUE_LENGTH = 256;

/** The search parameter types format version 1 supports. */
export type SupportedSearchType = 'string' | 'token' | 'date' | 'reference';

/** A reference parameter: the column of the row holding ids of one target type. */
export interface ReferenceTarget {
  /** The column (of the source table or a join). */
  readonly column: ResolvedColumn;
  /** The resource type the ids belong to. */
  readonly type: string;
  /** How the ids are checked and bound: the target's own id type when the tenant maps it. */
  readonly idType: IdType;
}

/**
 * Fan-out resources only: the items (by index) an entry can match, each with an extra condition
 * on its rows, or `undefined` for none. Items not in the map cannot match.
 */
export type ItemSelection = Map<number, Expr | undefined>;

/** A compiled parameter. */
export interface CompiledSearchParam {
  readonly code: string;
  /** The column results can be sorted by; absent when not sortable. */
  readonly sortColumn?: ResolvedColumn;
  /** Set for reference parameters. */
  readonly reference?: ReferenceTarget;
  /**
   * The condition for one query entry, or `undefined` when every value is empty (FHIR servers
   * ignore empty parameters); `FALSE` when nothing can match. Throws {@link MappingQueryError}
   * for values it cannot parse.
   */
  toSql(query: SearchParamQuery): Expr | undefined;
  /**
   * Set for parameters of a fan-out resource that select items rather than rows (`_id`,
   * `fanOutKey`); `toSql` then gives nothing. `undefined` when every value is empty.
   */
  toItems?(query: SearchParamQuery): ItemSelection | undefined;
}

/** A child table as the search sees it: its source (alias `c`), key, parent column and filters. */
export interface ChildTableSql {
  readonly source: RowSource;
  /** The child's column matched against the parent's `parentKey`. */
  readonly key: string;
  /** The parent row's column the child rows hang from. */
  readonly parentKey: ResolvedColumn;
  readonly filters: Expr;
}

/** What {@link compileSearchParam} needs to know about the resource. */
export interface SearchContext extends SourceCompileContext {
  readonly resourceType: string;
  /** The resource's source: its table and joins. */
  readonly scope: ColumnScope;
  readonly idColumn: ResolvedColumn;
  readonly idType: IdType;
  /** `rows` elements of the resource by their FHIR path. */
  readonly childTables: ReadonlyMap<string, ChildTableSql>;
  /** Row columns (result keys) written as reference elements -> their target type. */
  readonly elementReferences: ReadonlyMap<string, string>;
  /** The id type of a resource type the document maps; `string` for any other. */
  idTypeOf(resourceType: string): IdType;
}

/** How a compile problem of a search parameter is reported. */
export type SearchProblemReporter = (problem: { column?: string; message: string }) => void;

/** Wording that names a parameter only when its code is well-formed (it came from the caller). */
function paramName(code: string): string {
  return /^[_a-z][a-z0-9-]{0,63}$/.test(code) ? `Search parameter "${code}"` : 'A search parameter';
}

/** `BAD_USER_INPUT` naming the parameter (when well-formed), never a value. */
export function badInput(code: string, what: string): MappingQueryError {
  return new MappingQueryError('BAD_USER_INPUT', `${paramName(code)} ${what}.`, code);
}

/** Refuses a modifier outside `allowed`, then gives the usable values. */
export function searchValues(
  query: SearchParamQuery,
  allowed: readonly SearchModifier[] = [],
): string[] {
  if (query.modifier !== undefined && !allowed.includes(query.modifier)) {
    throw badInput(query.code, `does not support the :${String(query.modifier)} modifier`);
  }
  return usableValues(query);
}

/** Checks the size of an entry and drops empty values. */
export function usableValues(query: SearchParamQuery): string[] {
  if (query.values.length > MAX_SEARCH_VALUES) {
    throw badInput(query.code, 'has too many values');
  }
  const values: string[] = [];
  for (const value of query.values) {
    if (typeof value !== 'string') {
      throw badInput(query.code, 'has a value that cannot be parsed');
    }
    if (value.length > MAX_SEARCH_VALUE_LENGTH) {
      throw badInput(query.code, 'has a value that is too long');
    }
    if (value.trim() !== '') {
      values.push(value);
    }
  }
  return values;
}

/** `_id`: the resource's id column, keys checked like `loadByIds` does. */
export function compileIdSearch(
  context: Pick<SearchContext, 'idColumn' | 'idType'>,
): CompiledSearchParam {
  const column = context.idColumn.expr;
  return {
    code: '_id',
    sortColumn: context.idColumn,
    toSql(query) {
      const values = searchValues(query);
      if (values.length === 0) {
        return undefined;
      }
      const params = [
        ...new Set(
          values.map((v) => toIdParam(v.trim(), context.idType)).filter((v) => v !== undefined),
        ),
      ];
      return inList(column, params.map(param));
    },
  };
}

interface Target {
  /** The columns searched (`t.nom_pac`, `j_person.gender`, or `c.numero` inside EXISTS). */
  readonly columns: readonly Expr[];
  /** Puts a condition on child rows into an `EXISTS` over the child table; identity otherwise. */
  readonly wrap: (inner: Expr) => Expr;
}

function orOverColumns(columns: readonly Expr[], build: (column: Expr) => Expr): Expr {
  return or(...columns.map(build));
}

/** The lowest date a real value can have; MySQL zero dates sort below it. */
const LOWEST_DATE = '0001-01-01';

const DATE_VALUE = /^(eq|ne|gt|lt|ge|le)?(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

interface DateRange {
  readonly prefix: 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le';
  readonly start: string;
  /** Exclusive; undefined past year 9999. */
  readonly end: string | undefined;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Parses `[prefix]YYYY[-MM[-DD]]` into a half-open range; `undefined` when it is not one. */
export function parseDateValue(value: string): DateRange | undefined {
  const m = DATE_VALUE.exec(value.trim());
  if (m === null) {
    return undefined;
  }
  const prefix = (m[1] ?? 'eq') as DateRange['prefix'];
  const year = Number(m[2]);
  const month = m[3] === undefined ? undefined : Number(m[3]);
  const day = m[4] === undefined ? undefined : Number(m[4]);
  if (year < 1 || (month !== undefined && (month < 1 || month > 12))) {
    return undefined;
  }
  const iso = (d: Date) =>
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
  // setUTCFullYear takes year, month and day at once: it rolls over like Date.UTC but does not
  // map years below 100 into the 1900s.
  const utc = (y: number, mo: number, d: number) => {
    const date = new Date(0);
    date.setUTCFullYear(y, mo, d);
    return date;
  };
  let startDate: Date;
  let endDate: Date;
  if (month === undefined) {
    startDate = utc(year, 0, 1);
    endDate = utc(year + 1, 0, 1);
  } else if (day === undefined) {
    startDate = utc(year, month - 1, 1);
    endDate = utc(year, month, 1);
  } else {
    startDate = utc(year, month - 1, day);
    if (startDate.getUTCDate() !== day) {
      // 2023-02-30 rolled over into March: not a date.
      return undefined;
    }
    endDate = utc(year, month - 1, day + 1);
  }
  return {
    prefix,
    start: iso(startDate),
    end: endDate.getUTCFullYear() > 9999 ? undefined : iso(endDate),
  };
}

function dateCondition(column: Expr, range: DateRange): Expr {
  const atLeast = (value: string) => ({
    kind: 'compare' as const,
    op: '>=' as const,
    left: column,
    right: param(value),
  });
  const below = (value: string) => ({
    kind: 'compare' as const,
    op: '<' as const,
    left: column,
    right: param(value),
  });
  const within =
    range.end === undefined ? atLeast(range.start) : and(atLeast(range.start), below(range.end));
  switch (range.prefix) {
    case 'eq':
      return within;
    case 'ne':
      return and(atLeast(LOWEST_DATE), not(within));
    case 'gt':
      return range.end === undefined ? FALSE : atLeast(range.end);
    case 'ge':
      return atLeast(range.start);
    case 'lt':
      return and(atLeast(LOWEST_DATE), below(range.start));
    case 'le':
      return range.end === undefined
        ? atLeast(LOWEST_DATE)
        : and(atLeast(LOWEST_DATE), below(range.end));
  }
}

/** Splits `system|code` at the first unescaped bar; `system` is undefined when there is none. */
export function parseToken(value: string): { system?: string; code: string } {
  const unescapeToken = (s: string) => s.replace(/\\([|,$\\])/g, '$1');
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\') {
      i++;
    } else if (value[i] === '|') {
      return { system: unescapeToken(value.slice(0, i)), code: unescapeToken(value.slice(i + 1)) };
    }
  }
  return { code: unescapeToken(value) };
}

function missingCondition(
  query: SearchParamQuery,
  values: readonly string[],
  target: Target,
  present: Expr,
): Expr {
  const wanted = new Set(values.map((v) => v.trim()));
  if ([...wanted].some((v) => v !== 'true' && v !== 'false')) {
    throw badInput(query.code, 'with :missing takes true or false');
  }
  const found = target.wrap(present);
  if (wanted.size === 2) {
    return TRUE;
  }
  return wanted.has('true') ? not(found) : found;
}

/**
 * Compiles one mapped parameter, or reports why it cannot be. `def` is the parameter from the
 * definitions; `undefined` means the code is not a search parameter of the resource.
 */
export function compileSearchParam(
  code: string,
  mapping: SearchParamMapping,
  def: SearchParamDef | undefined,
  context: SearchContext,
  report: SearchProblemReporter,
): CompiledSearchParam | undefined {
  if (def === undefined) {
    report({ message: `${context.resourceType} has no search parameter "${code}"` });
    return undefined;
  }
  const type = def.type;
  if (type !== 'string' && type !== 'token' && type !== 'date' && type !== 'reference') {
    report({ message: `search parameter type ${type} is not supported yet` });
    return undefined;
  }
  if (type === 'reference') {
    return compileReferenceParam(code, mapping, def, context, report);
  }
  if (mapping.type !== undefined) {
    report({
      message: `type applies only to reference parameters; ${code} is a ${type} parameter`,
    });
    return undefined;
  }
  const columnNames =
    mapping.column !== undefined && mapping.columns !== undefined
      ? undefined
      : (mapping.columns ?? (mapping.column === undefined ? undefined : [mapping.column]));
  let ok = true;
  if (columnNames === undefined) {
    report({
      ...(mapping.column === undefined ? {} : { column: mapping.column }),
      message: 'a search parameter needs exactly one of column or columns',
    });
    ok = false;
  }
  if (type !== 'string' && mapping.match !== undefined) {
    report({ message: `match applies only to string parameters; ${code} is a ${type} parameter` });
    ok = false;
  }
  if (type !== 'token' && (mapping.system !== undefined || mapping.map !== undefined)) {
    report({
      message: `system and map apply only to token parameters; ${code} is a ${type} parameter`,
    });
    ok = false;
  }
  let child: ChildTableSql | undefined;
  if (mapping.rows !== undefined) {
    child = context.childTables.get(mapping.rows);
    if (child === undefined) {
      report({ message: 'rows must name a rows element of this resource, e.g. telecom' });
      ok = false;
    }
  }
  if (!ok || columnNames === undefined) {
    return undefined;
  }

  // Columns of the resource's row, or (with rows) of the child table and its joins.
  const scope: ColumnScope = child === undefined ? context.scope : child.source;
  const resolved: ResolvedColumn[] = [];
  for (const name of columnNames) {
    const column = scope.resolve(name);
    if (column === undefined) {
      report({ column: name, message: unknownJoinMessage(name, 'search parameters') });
      return undefined;
    }
    resolved.push(column);
    context.uses.push({
      table: column.table,
      column: column.column,
      resource: context.resource,
      path: `search:${code}`,
      transforms: [],
    });
  }
  const target: Target = {
    columns: resolved.map((c) => c.expr),
    wrap:
      child === undefined
        ? (inner) => inner
        : (inner) =>
            exists({
              kind: 'select',
              items: [],
              from: { table: child.source.table, as: child.source.alias },
              joins: child.source.joins,
              where: and(
                eq(
                  { kind: 'column', source: child.source.alias, column: child.key },
                  child.parentKey.expr,
                ),
                child.filters,
                inner,
              ),
            }),
  };

  const present = orOverColumns(target.columns, (column) =>
    type === 'string'
      ? and(isNull(column, true), { kind: 'compare', op: '<>', left: column, right: param('') })
      : isNull(column, true),
  );

  const perValue = valueCompiler(type, mapping, target);
  const allowed: readonly SearchModifier[] =
    type === 'string' ? ['exact', 'contains', 'missing'] : ['missing'];

  const first = resolved[0];
  return {
    code,
    ...(child === undefined && first !== undefined ? { sortColumn: first } : {}),
    toSql(query) {
      const values = searchValues(query, allowed);
      if (values.length === 0) {
        return undefined;
      }
      if (query.modifier === 'missing') {
        return missingCondition(query, values, target, present);
      }
      const matching = or(...values.map((value) => perValue(query, value)));
      return matching === FALSE ? FALSE : target.wrap(matching);
    },
  };
}

type ValueCompiler = (query: SearchParamQuery, value: string) => Expr;

function valueCompiler(
  type: SupportedSearchType,
  mapping: SearchParamMapping,
  target: Target,
): ValueCompiler {
  if (type === 'string') {
    const wordMatch = mapping.match === 'word';
    return (query, value) => {
      const text = value.trim();
      const escaped = escapeLike(text);
      return orOverColumns(target.columns, (column) => {
        if (query.modifier === 'exact') {
          return eq(column, param(text));
        }
        if (query.modifier === 'contains') {
          return like(column, `%${escaped}%`);
        }
        if (wordMatch) {
          return or(like(column, `${escaped}%`), like(column, `% ${escaped}%`));
        }
        return like(column, `${escaped}%`);
      });
    };
  }
  if (type === 'date') {
    return (query, value) => {
      const range = parseDateValue(value);
      if (range === undefined) {
        throw badInput(
          query.code,
          'has a value that is not a date ([eq|ne|gt|lt|ge|le]YYYY[-MM[-DD]])',
        );
      }
      return orOverColumns(target.columns, (column) => dateCondition(column, range));
    };
  }
  const system = mapping.system;
  const map = mapping.map === undefined ? undefined : new Map(Object.entries(mapping.map));
  return (query, value) => {
    const token = parseToken(value.trim());
    if (token.code === '' && (token.system === undefined || token.system === '')) {
      throw badInput(query.code, 'has a value that cannot be parsed');
    }
    if (system !== undefined && token.system !== undefined && token.system !== system) {
      // A foreign system, or `|code` (explicitly no system), matches nothing here.
      return FALSE;
    }
    if (token.code === '') {
      // `system|`: any code of the system.
      return orOverColumns(target.columns, (column) => isNull(column, true));
    }
    let params: readonly SqlValue[] = [token.code];
    if (map !== undefined) {
      const mapped = map.get(token.code);
      if (mapped === undefined) {
        return FALSE;
      }
      params = mapped;
    }
    return orOverColumns(target.columns, (column) => inList(column, params.map(param)));
  };
}

/**
 * The id a reference search value points at, or `undefined` when it cannot point at `type`:
 * `Patient/123` and `123` give `123`; `Group/123`, `Patient/` and absolute URLs give nothing.
 */
export function parseReferenceValue(value: string, type: string): string | undefined {
  const text = value.trim();
  const slash = text.indexOf('/');
  if (slash < 0) {
    return text;
  }
  const id = text.slice(slash + 1);
  return text.slice(0, slash) === type && !id.includes('/') ? id : undefined;
}

/** A `reference` parameter: one main-table column holding ids of one target type. */
function compileReferenceParam(
  code: string,
  mapping: SearchParamMapping,
  def: SearchParamDef,
  context: SearchContext,
  report: SearchProblemReporter,
): CompiledSearchParam | undefined {
  const { column } = mapping;
  const at = column === undefined ? {} : { column };
  let ok = true;
  if (column === undefined || mapping.columns !== undefined || mapping.rows !== undefined) {
    report({
      ...at,
      message: 'a reference parameter reads exactly one column of the row: write column',
    });
    ok = false;
  }
  if (mapping.match !== undefined || mapping.system !== undefined || mapping.map !== undefined) {
    report({ ...at, message: `match, system and map do not apply to reference parameters` });
    ok = false;
  }
  const targets = def.targets ?? [];
  const inferred = column === undefined ? undefined : context.elementReferences.get(column);
  const type = mapping.type ?? (targets.length === 1 ? targets[0] : inferred);
  if (type === undefined) {
    report({
      ...at,
      message: `${code} can refer to ${targets.join(', ')}; say which type the column holds with "type"`,
    });
    ok = false;
  } else if (targets.length > 0 && !targets.includes(type)) {
    report({
      ...at,
      message: `${code} cannot refer to ${type}; allowed targets: ${targets.join(', ')}`,
    });
    ok = false;
  }
  if (!ok || column === undefined || type === undefined) {
    return undefined;
  }
  const resolved = context.scope.resolve(column);
  if (resolved === undefined) {
    report({ column, message: unknownJoinMessage(column, 'search parameters') });
    return undefined;
  }
  context.uses.push({
    table: resolved.table,
    column: resolved.column,
    resource: context.resource,
    path: `search:${code}`,
    transforms: [],
  });
  const reference: ReferenceTarget = {
    column: resolved,
    type,
    idType: context.idTypeOf(type),
  };
  const target: Target = { columns: [resolved.expr], wrap: (inner) => inner };
  const present = isNull(resolved.expr, true);
  return {
    code,
    sortColumn: resolved,
    reference,
    toSql(query) {
      const values = searchValues(query, ['missing']);
      if (values.length === 0) {
        return undefined;
      }
      if (query.modifier === 'missing') {
        return missingCondition(query, values, target, present);
      }
      const params = new Set<SqlValue>();
      for (const value of values) {
        const id = parseReferenceValue(value, type);
        const bound = id === undefined ? undefined : toForeignKeyParam(id, reference.idType);
        if (bound !== undefined) {
          params.add(bound);
        }
      }
      return inList(resolved.expr, [...params].map(param));
    },
  };
}
