import type { Dialect } from '../db/dialect.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import {
  type ChildPlan,
  type CompiledResource,
  createCompiledResource,
} from './compiled-resource.js';
import { resolvePath } from './fhir-path.js';
import { type MappingProblem, toMappingProblems } from './mapping-problem.js';
import {
  type ChildElementSource,
  MappingDocumentSchema,
  type ResourceMapping,
  ResourceMappingSchema,
  ResourceTypeSchema,
  type RowsSource,
} from './mapping-schema.js';
import { compileFields, createItemsAppender } from './row-to-resource.js';
import {
  type ChildTableSql,
  type CompiledSearchParam,
  compileIdSearch,
  compileSearchParam,
  type SearchContext,
} from './search.js';
import { compileFilters } from './sql-fragment.js';

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
    for (const [type, mapping] of Object.entries(parsed.data.resources)) {
      const compiled = compileResource(type, mapping, options, problems);
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
    for (const [type, raw] of Object.entries(rawResources)) {
      const resource = ResourceMappingSchema.safeParse(raw);
      if (ResourceTypeSchema.safeParse(type).success && resource.success) {
        compileResource(type, resource.data, options, problems);
      }
    }
  }
  return { ok: false, problems };
}

function isRowsSource(source: ResourceMapping['elements'][string]): source is RowsSource {
  return typeof source === 'object' && 'rows' in source;
}

/** Compiles one resource type; returns `undefined` after adding problems. */
function compileResource(
  resourceType: string,
  mapping: ResourceMapping,
  { defs, dialect }: CompileOptions,
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
  const q = (id: string) => dialect.quoteId(id);
  const id =
    typeof mapping.id === 'string'
      ? { column: mapping.id, type: 'string' as const }
      : { column: mapping.id.column, type: mapping.id.type ?? 'string' };

  const entries = Object.entries(mapping.elements);
  const leafEntries = entries.filter(
    (entry): entry is [string, ChildElementSource] => !isRowsSource(entry[1]),
  );
  const fields = compileFields(defs, resourceType, leafEntries, '', report);

  const children: ChildPlan[] = [];
  const childTables = new Map<string, ChildTableSql>();
  const tables = new Map<string, Set<string>>();
  const use = (table: string, columns: readonly string[]) => {
    const set = tables.get(table) ?? new Set<string>();
    for (const c of columns) {
      set.add(c);
    }
    tables.set(table, set);
  };

  for (const [path, source] of entries) {
    if (!isRowsSource(source)) {
      continue;
    }
    const resolved = resolvePath(defs, resourceType, path, 'rows');
    if ('problem' in resolved) {
      report({ path, message: resolved.problem });
      continue;
    }
    const childEntries = Object.entries(source.elements);
    if (childEntries.length === 0) {
      report({ path, message: 'rows needs at least one element' });
      continue;
    }
    const childFields = compileFields(defs, resolved.leafType, childEntries, `${path}.`, report);
    const { table, key, where, orderBy } = source.rows;
    const filters = compileFilters(where, 'c', dialect);
    const columns = [...new Set([key, ...childFields.columns])];
    const order = [
      `c.${q(key)}`,
      ...(orderBy ?? []).map((o) => `c.${q(o.column)}${o.direction === 'desc' ? ' DESC' : ''}`),
    ];
    children.push({
      selectPrefix: `SELECT ${columns.map((c) => `c.${q(c)}`).join(', ')} FROM ${q(table)} AS c WHERE ${filters === undefined ? '' : `${filters.sql} AND `}c.${q(key)} IN (`,
      filterParams: filters?.params ?? [],
      selectSuffix: `) ORDER BY ${order.join(', ')}`,
      key,
      fields: childFields,
      append: createItemsAppender(resolved),
    });
    childTables.set(path, { table, key, filters });
    use(table, [
      ...columns,
      ...(where ?? []).map((f) => f.column),
      ...(orderBy ?? []).map((o) => o.column),
    ]);
  }

  const context: SearchContext = {
    resourceType,
    dialect,
    idColumn: id.column,
    idType: id.type,
    childTables,
  };
  const searchParams = new Map<string, CompiledSearchParam>([['_id', compileIdSearch(context)]]);
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
    const compiled = compileSearchParam(
      code,
      param,
      defs.searchParam(resourceType, code),
      context,
      (p) => report({ path, ...p }),
    );
    if (compiled !== undefined) {
      searchParams.set(code, compiled);
      if (param.rows === undefined) {
        use(mapping.table, param.columns ?? (param.column === undefined ? [] : [param.column]));
      } else {
        const child = childTables.get(param.rows);
        if (child !== undefined) {
          use(child.table, param.columns ?? (param.column === undefined ? [] : [param.column]));
        }
      }
    }
  }

  if (problems.length > before) {
    return undefined;
  }
  const filters = compileFilters(mapping.where, 't', dialect);
  const mainColumns = [...new Set([id.column, ...fields.columns])];
  use(mapping.table, [...mainColumns, ...(mapping.where ?? []).map((f) => f.column)]);
  return createCompiledResource({
    resourceType,
    dialect,
    idColumn: id.column,
    idType: id.type,
    selectMain: `SELECT ${mainColumns.map((c) => `t.${q(c)}`).join(', ')} FROM ${q(mapping.table)} AS t`,
    filters,
    fields,
    children,
    searchParams,
    tables,
  });
}
