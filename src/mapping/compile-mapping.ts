import type { Dialect } from '../db/dialect.js';
import { column, flag, inList, type Order, param } from '../db/statement.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { type CompiledChoices, compileChoices } from './choices.js';
import type { ColumnUse, FieldColumnUse } from './column-use.js';
import {
  type ChildPlan,
  type CompiledResource,
  createCompiledResource,
  RESERVED_COLUMN_PREFIX,
} from './compiled-resource.js';
import {
  compileFanOutIdSearch,
  compileFanOutKeySearch,
  compileSkip,
  constantCodings,
  createFanOutIds,
  type FanOutItemPlan,
  type FanOutPlan,
  fanOutKeyProblems,
} from './fan-out.js';
import { resolvePath } from './fhir-path.js';
import { compileFilterList, toSqlValue } from './filters.js';
import { compileItemArray, withItemArrays } from './item-arrays.js';
import { type MappingProblem, toMappingProblems } from './mapping-problem.js';
import {
  type ChildElementSource,
  type DelimitedSource,
  type FanOutItem,
  type JsonSource,
  MappingDocumentSchema,
  type ResourceMapping,
  ResourceMappingSchema,
  ResourceTypeSchema,
  type RowsSource,
} from './mapping-schema.js';
import type { IdType } from './resource-id.js';
import {
  compileRowSource,
  type ResolvedColumn,
  type RowSource,
  unknownJoinMessage,
} from './row-source.js';
import { type CompiledFields, compileFields, topElement } from './row-to-resource.js';
import {
  type ChildTableSql,
  type CompiledSearchParam,
  compileIdSearch,
  compileSearchParam,
  type SearchContext,
} from './search.js';
import { uniqueItems } from './statement-planner.js';

/**
 * Mapping document -> compiled mapping. Validation happens in two passes that both report
 * everything they find: the zod schema (shape, identifiers, transform names), then the semantics
 * against the R4 definitions (element paths, types, search parameters). SQL text is built here,
 * once per mapping version and dialect; at request time only placeholders are added.
 */

/** What `compileMapping` needs besides the document. */
export interface CompileOptions {
  /** The R4 definitions that element paths and search codes are checked against. */
  readonly defs: FhirDefinitions;
  /** The tenant database's dialect; the compiled statements only run on it. */
  readonly dialect: Dialect;
}

/** A mapping ready to serve; it holds no connection and no per-request state. */
export interface CompiledMapping {
  /** The mapped resource types, in document order. */
  readonly resourceTypes: readonly string[];
  /** The compiled resource type, or `undefined` when the tenant does not map it. */
  resource(type: string): CompiledResource | undefined;
}

/** The outcome of {@link compileMapping}: a mapping, or every problem found. */
export type CompileResult =
  | { ok: true; mapping: CompiledMapping }
  | { ok: false; problems: MappingProblem[] };

/**
 * Validates and compiles a tenant mapping document (format version 1). Never throws for a bad
 * document: every problem is returned, located by resource, path and column, so an operator can
 * fix them in one round. The caller caches the result per mapping version.
 */
export function compileMapping(document: unknown, options: CompileOptions): CompileResult {
  const parsed = MappingDocumentSchema.safeParse(document);
  const problems: MappingProblem[] = [];
  if (parsed.success) {
    const resources = new Map<string, CompiledResource>();
    const idTypes = idTypesOf(Object.entries(parsed.data.resources));
    for (const [type, mapping] of Object.entries(parsed.data.resources)) {
      const compiled = compileResource(type, mapping, { ...options, idTypes }, problems);
      if (compiled !== undefined) {
        resources.set(type, compiled);
      }
    }
    if (problems.length === 0) {
      const resourceTypes = Object.freeze([...resources.keys()]);
      return {
        ok: true,
        mapping: { resourceTypes, resource: (type) => resources.get(type) },
      };
    }
    return { ok: false, problems };
  }
  problems.push(...toMappingProblems(document, parsed.error.issues));
  // Resources that pass the schema on their own still get their semantic check, so one round
  // of fixes is enough.
  const rawResources =
    document !== null && typeof document === 'object'
      ? (document as Record<string, unknown>)['resources']
      : undefined;
  if (rawResources !== null && typeof rawResources === 'object' && !Array.isArray(rawResources)) {
    const valid = Object.entries(rawResources).flatMap(([type, raw]) => {
      const resource = ResourceMappingSchema.safeParse(raw);
      return ResourceTypeSchema.safeParse(type).success && resource.success
        ? [[type, resource.data] as const]
        : [];
    });
    const idTypes = idTypesOf(valid);
    for (const [type, mapping] of valid) {
      compileResource(type, mapping, { ...options, idTypes }, problems);
    }
  }
  return { ok: false, problems };
}

/** The normalised id column of a resource mapping. */
function idOf(mapping: ResourceMapping): { column: string; type: IdType } {
  return typeof mapping.id === 'string'
    ? { column: mapping.id, type: 'string' }
    : { column: mapping.id.column, type: mapping.id.type ?? 'string' };
}

/** Resource type -> id type, so references to a mapped type check ids as its reads do. */
function idTypesOf(
  resources: readonly (readonly [string, ResourceMapping])[],
): ReadonlyMap<string, IdType> {
  return new Map(resources.map(([type, mapping]) => [type, idOf(mapping).type]));
}

type AnySource = ResourceMapping['elements'][string];

function isRowsSource(source: AnySource): source is RowsSource {
  return typeof source === 'object' && 'rows' in source;
}

function isItemArraySource(source: AnySource): source is DelimitedSource | JsonSource {
  return typeof source === 'object' && ('delimited' in source || 'json' in source);
}

/** Leaf elements: everything but `rows`, `delimited` and `json`. */
function isLeafEntry(entry: [string, AnySource]): entry is [string, ChildElementSource] {
  return !isRowsSource(entry[1]) && !isItemArraySource(entry[1]);
}

/** Compiles one resource type; returns `undefined` after adding problems. */
function compileResource(
  resourceType: string,
  mapping: ResourceMapping,
  { defs, dialect, idTypes }: CompileOptions & { idTypes: ReadonlyMap<string, IdType> },
  problems: MappingProblem[],
): CompiledResource | undefined {
  const before = problems.length;
  const report = (p: { path?: string; column?: string; message: string }) => {
    problems.push({ resource: resourceType, ...p });
  };
  if (!defs.isResourceType(resourceType)) {
    report({ message: `${resourceType} is not a resource type this gateway serves` });
    return undefined;
  }
  const id = idOf(mapping);
  const columnUses: ColumnUse[] = [];
  const context = { resource: resourceType, report, uses: columnUses };
  const source = compileRowSource(
    mapping.table,
    mapping.joins,
    { alias: 't', joinPrefix: 'j_', path: '' },
    context,
  );
  /** Resolves a column reference of the resource's row, reporting an unknown join. */
  const resolveIn = (scope: RowSource, ref: string, path: string): ResolvedColumn | undefined => {
    const resolved = scope.resolve(ref);
    if (resolved === undefined) {
      report({ path, column: ref, message: unknownJoinMessage(ref, 'elements') });
    }
    return resolved;
  };
  /** Column uses of compiled fields, with the table each reference resolves to. */
  const useFields = (scope: RowSource, uses: readonly FieldColumnUse[]): ResolvedColumn[] => {
    const resolved: ResolvedColumn[] = [];
    for (const u of uses) {
      const column = resolveIn(scope, u.column, u.path);
      if (column !== undefined) {
        columnUses.push({
          ...u,
          table: column.table,
          column: column.column,
          resource: resourceType,
        });
        resolved.push(column);
      }
    }
    return resolved;
  };
  const idColumn = resolveIn(source, id.column, 'id');
  if (id.column.includes('.')) {
    report({ path: 'id', column: id.column, message: 'the id is a column of the table itself' });
  }
  columnUses.push({
    table: mapping.table,
    column: id.column,
    resource: resourceType,
    path: 'id',
    fhirType: 'id',
    transforms: [],
  });
  const filters = compileFilterList(mapping.where, source, 'where', context);

  const entries = Object.entries(mapping.elements);
  const itemArrays = entries.flatMap(([path, elementSource]) => {
    const compiled = isItemArraySource(elementSource)
      ? compileItemArray(defs, resourceType, path, elementSource, report)
      : undefined;
    return compiled === undefined ? [] : [compiled];
  });
  const choices = compileChoices(defs, resourceType, mapping, report);
  const fields = withItemArrays(
    compileFields(defs, resourceType, entries.filter(isLeafEntry), '', report, undefined, choices),
    itemArrays,
    choices,
  );
  const fieldColumns = useFields(source, fields.uses);

  const children: ChildPlan[] = [];
  const childTables = new Map<string, ChildTableSql>();
  const parentKeys: ResolvedColumn[] = [];
  for (const [path, elementSource] of entries) {
    if (!isRowsSource(elementSource)) {
      continue;
    }
    const resolved = resolvePath(defs, resourceType, path, 'rows');
    if ('problem' in resolved) {
      report({ path, message: resolved.problem });
      continue;
    }
    const childEntries = Object.entries(elementSource.elements);
    if (childEntries.length === 0) {
      report({ path, message: 'rows needs at least one element' });
      continue;
    }
    const childFields = compileFields(defs, resolved.leafType, childEntries, `${path}.`, report);
    const { table, key, where, orderBy, joins, parentKey } = elementSource.rows;
    const child = compileRowSource(
      table,
      joins,
      { alias: 'c', joinPrefix: 'k_', path: `${path}.rows.` },
      context,
    );
    const parent = resolveIn(source, parentKey ?? id.column, `${path}.rows.parentKey`);
    columnUses.push({
      table,
      column: key,
      resource: resourceType,
      path: 'key',
      transforms: [],
      ...(parent === undefined
        ? {}
        : { pairedWith: { table: parent.table, column: parent.column } }),
    });
    const childColumns = useFields(child, childFields.uses);
    const childFilters = compileFilterList(where, child, `${path}.rows.where`, context);
    const order: Order[] = [];
    for (const [i, o] of (orderBy ?? []).entries()) {
      const column = resolveIn(child, o.column, `${path}.rows.orderBy[${i}]`);
      if (column === undefined) {
        continue;
      }
      columnUses.push({
        table: column.table,
        column: column.column,
        resource: resourceType,
        path: 'orderBy',
        transforms: [],
      });
      if (o.first !== undefined) {
        // 1 for the preferred values, 0 for others and NULL: descending puts them first.
        order.push({
          expr: flag(
            inList(
              column.expr,
              o.first.map((v) => param(toSqlValue(v))),
            ),
          ),
          descending: true,
        });
      }
      order.push({ expr: column.expr, descending: o.direction === 'desc' });
    }
    if (parent === undefined) {
      continue;
    }
    parentKeys.push(parent);
    children.push({
      source: child,
      key,
      parentKey: parent.key,
      items: uniqueItems([{ expr: column('c', key), key, table, column: key }, ...childColumns]),
      filters: childFilters,
      order,
      element: topElement(path),
      fields: childFields,
      part: { path: resolved, kind: 'items' },
    });
    childTables.set(path, { source: child, key, parentKey: parent, filters: childFilters });
  }

  const fanOut =
    mapping.fanOut === undefined
      ? undefined
      : compileFanOutItems(defs, resourceType, mapping.fanOut, fields, choices, source, report);
  const fanOutColumns: ResolvedColumn[] = [];
  for (const item of fanOut?.items ?? []) {
    fanOutColumns.push(...useFields(source, item.uses));
  }

  const searchContext: SearchContext = {
    ...context,
    resourceType,
    scope: source,
    idColumn: idColumn ?? {
      expr: column('t', id.column),
      key: id.column,
      table: mapping.table,
      column: id.column,
    },
    idType: id.type,
    childTables,
    elementReferences: fields.references,
    idTypeOf: (type) => idTypes.get(type) ?? 'string',
  };
  const searchParams = new Map<string, CompiledSearchParam>([
    [
      '_id',
      fanOut === undefined
        ? compileIdSearch(searchContext)
        : compileFanOutIdSearch(fanOut, searchContext.idColumn, id.type),
    ],
  ]);
  for (const [code, param] of Object.entries(mapping.search ?? {})) {
    const path = `search.${code}`;
    if (code === '_id') {
      if (Object.keys(param).length > 0) {
        report({
          path,
          message: '_id always searches the id column and takes no options; write {}',
        });
      }
      continue;
    }
    if (param.fanOutKey === true) {
      const def = defs.searchParam(resourceType, code);
      const problem =
        fanOut === undefined
          ? 'fanOutKey applies only to a resource mapping with fanOut'
          : def?.type !== 'token'
            ? `fanOutKey applies only to token parameters; ${code} is ${def === undefined ? 'not a parameter of this resource' : `a ${def.type} parameter`}`
            : Object.keys(param).length > 1
              ? 'fanOutKey takes no other options: the items are the values'
              : undefined;
      if (problem !== undefined || fanOut === undefined) {
        report({ path, message: problem ?? 'fanOutKey needs fanOut' });
      } else {
        searchParams.set(code, compileFanOutKeySearch(code, fanOut.items));
      }
      continue;
    }
    const compiled = compileSearchParam(
      code,
      param,
      defs.searchParam(resourceType, code),
      searchContext,
      (p) => report({ path, ...p }),
    );
    if (compiled !== undefined) {
      searchParams.set(code, compiled);
    }
  }

  const reserved = columnUses.find((u) => u.column.startsWith(RESERVED_COLUMN_PREFIX));
  if (reserved !== undefined) {
    report({
      column: reserved.column,
      message: `column names starting with ${RESERVED_COLUMN_PREFIX} are reserved for the gateway's own statements`,
    });
  }
  if (problems.length > before || idColumn === undefined) {
    return undefined;
  }
  return createCompiledResource({
    resourceType,
    dialect,
    source,
    id: idColumn,
    idType: id.type,
    columns: [idColumn, ...fieldColumns, ...fanOutColumns, ...parentKeys],
    filters,
    fields,
    children,
    searchParams,
    columnUses,
    fanOut,
  });
}

/** A fan-out plan with what the compiler still needs from each item. */
interface CompiledFanOut extends FanOutPlan {
  readonly items: readonly (FanOutItemPlan & {
    readonly skipColumn: string | undefined;
    readonly uses: readonly FieldColumnUse[];
  })[];
}

/** Compiles a resource mapping's `fanOut` list over its shared `fields`. */
function compileFanOutItems(
  defs: FhirDefinitions,
  resourceType: string,
  list: readonly FanOutItem[],
  shared: CompiledFields,
  choices: CompiledChoices | undefined,
  source: RowSource,
  report: (p: { path?: string; column?: string; message: string }) => void,
): CompiledFanOut {
  const keys = list.map((item) => item.key);
  for (const message of fanOutKeyProblems(keys)) {
    report({ path: 'fanOut', message });
  }
  const items = list.map((item, i) => {
    const prefix = `fanOut[${i}].`;
    const fields = compileFields(
      defs,
      resourceType,
      Object.entries(item.elements),
      prefix,
      report,
      shared,
      choices,
    );
    if (item.skipWhen !== undefined && item.skipColumn === undefined) {
      report({ path: `${prefix}skipWhen`, message: 'skipWhen needs skipColumn' });
    }
    const uses: FieldColumnUse[] = fields.uses.map((u) => ({
      ...u,
      path: u.path.startsWith(prefix)
        ? u.path.slice(prefix.length)
        : u.path.startsWith(`if:${prefix}`)
          ? `if:${u.path.slice(prefix.length + 3)}`
          : u.path,
    }));
    if (item.skipColumn !== undefined) {
      uses.push({ column: item.skipColumn, path: `fanOut:${item.key}`, transforms: [] });
    }
    return {
      key: item.key,
      fields,
      skipColumn: item.skipColumn,
      uses,
      codings: constantCodings([...shared.constants, ...fields.constants]),
      ...compileSkip(
        item,
        item.skipColumn === undefined ? undefined : source.resolve(item.skipColumn),
      ),
    };
  });
  return { items, ...createFanOutIds(keys) };
}
