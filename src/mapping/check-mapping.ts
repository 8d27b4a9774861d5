import type { TenantDatabase } from '../db/tenant-database.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { ColumnUse } from './column-use.js';
import { type CompileResult, compileMapping } from './compile-mapping.js';
import { joinKeyWarnings, pairLabel, pairProblem } from './join-checks.js';
import { type ColumnKind, type LiveColumn, loadLiveTables } from './live-catalogue.js';
import { isBlocking, type MappingProblem } from './mapping-problem.js';
import { type ResourceMapping, ResourceMappingSchema } from './mapping-schema.js';
import { rawColumnUses } from './raw-column-uses.js';
import { sampleProblem } from './value-samples.js';

/**
 * Holds a mapping document against a tenant's live schema before it is activated: every table,
 * view and column the mapping reads must exist, column types must suit the elements, ids and
 * search parameters they feed, and the two columns of each join, exists and child-key pair must
 * compare. Errors block activation; warnings (`severity: 'warning'`) flag what is almost
 * certainly wrong but may be meant: a join that is not a lookup, a key compared across text and
 * number, a text column whose sampled values do not read as the date, boolean or number it feeds.
 * Messages never carry a database value.
 */

/** What {@link checkMapping} needs besides the document. */
export interface CheckMappingOptions {
  /** The R4 definitions the document is compiled against. */
  readonly defs: FhirDefinitions;
  /** The tenant's database; its dialect decides how the mapping compiles and how the catalogue is read. */
  readonly database: TenantDatabase;
}

/**
 * The outcome of {@link checkMapping}: every problem, errors and warnings. `ok` is true exactly
 * when no problem is an error (warnings do not block activation).
 */
export interface CheckResult {
  readonly ok: boolean;
  readonly problems: MappingProblem[];
}

/** One resource whose live schema is checked, and how much is known about it. */
interface Target {
  readonly resource: string;
  /** The resource's mapping as written in the document. */
  readonly raw: unknown;
  readonly uses: readonly ColumnUse[];
  /**
   * The resource compiled, so its uses carry FHIR types and transforms and its mapping has the
   * schema's shape; otherwise its uses are read from the raw document (existence checks only).
   */
  readonly mapping?: ResourceMapping;
}

/**
 * Compiles `document` for the database's dialect and checks it against the live schema, reporting
 * every problem in one pass: the compile problems, then the live-database problems of every
 * resource, including those that did not compile (see {@link targetsOf}).
 *
 * The catalogue is read with three statements on MySQL/MariaDB (`information_schema`), two on
 * PostgreSQL (`pg_catalog`), and on SQLite with one `sqlite_master` statement plus `PRAGMA`s per
 * table (see `live-catalogue.ts`).
 * Rows are read only to sample text columns whose declared type cannot tell (text dates under a
 * date search; text feeding a date, boolean or number element), at most 50 to 100 values per
 * column, judged in memory. Problems name the resource, the path and the column; messages quote
 * names and declared types, never values.
 *
 * @throws DatabaseError when the catalogue cannot be read (the database is unreachable, or the
 *   user may not read it).
 */
export async function checkMapping(
  document: unknown,
  options: CheckMappingOptions,
): Promise<CheckResult> {
  const { defs, database } = options;
  const compiled = compileMapping(document, { defs, dialect: database.dialect });
  const problems: MappingProblem[] = [];
  const seen = new Set<string>();
  const add = (problem: MappingProblem) => {
    const key = [problem.resource, problem.path, problem.column, problem.message].join('\u0000');
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  };
  if (!compiled.ok) {
    compiled.problems.forEach(add);
  }
  const targets = targetsOf(document, compiled, options);

  const tableNames = new Set<string>();
  for (const { uses } of targets) {
    for (const use of uses) {
      tableNames.add(use.table);
      if (use.pairedWith !== undefined) {
        tableNames.add(use.pairedWith.table);
      }
    }
  }
  const live = await loadLiveTables(database, [...tableNames]);
  const liveColumn = (table: string, column: string) =>
    live.tables.get(table)?.columns.get(column.toLowerCase());

  for (const { resource, raw, uses, mapping } of targets) {
    const places = tablePlaces(raw);
    const templates = mapping === undefined ? new Set<string>() : templatePaths(mapping);
    const idType =
      mapping === undefined || typeof mapping.id === 'string'
        ? 'string'
        : (mapping.id.type ?? 'string');
    for (const table of new Set(uses.map((u) => u.table))) {
      if (live.tables.has(table)) {
        continue;
      }
      const place = places.get(table);
      const other = live.wrongCase.get(table);
      add({
        resource,
        ...(place === undefined ? {} : { path: place }),
        message:
          other === undefined
            ? `table or view "${table}" does not exist in the database`
            : `table or view "${table}" does not exist in the database; table names are case-sensitive on this server, and there is "${other}"`,
      });
    }
    const pairs = new Set<string>();
    for (const use of uses) {
      const table = live.tables.get(use.table);
      if (table === undefined) {
        continue;
      }
      const path = problemPath(use.path);
      const column = table.columns.get(use.column.toLowerCase());
      if (column === undefined) {
        add({
          resource,
          path,
          column: use.column,
          message: `column "${use.column}" does not exist in table "${use.table}"`,
        });
        continue;
      }
      if (live.caseSensitiveColumns && column.name !== use.column) {
        add({
          resource,
          path,
          column: use.column,
          message: `column "${use.column}" does not exist in table "${use.table}"; column names are case-sensitive on this server, and there is "${column.name}"`,
        });
        continue;
      }
      const paired = use.pairedWith;
      const other = paired === undefined ? undefined : liveColumn(paired.table, paired.column);
      if (paired !== undefined && live.tables.has(paired.table) && other === undefined) {
        // A child key's parent column has no use of its own: report it here.
        add({
          resource,
          path,
          column: paired.column,
          message: `column "${paired.column}" does not exist in table "${paired.table}"`,
        });
      }
      if (paired !== undefined && other !== undefined) {
        const key = [`${use.table}.${use.column}`, `${paired.table}.${paired.column}`]
          .map((k) => k.toLowerCase())
          .sort()
          .join('\u0000');
        const found = pairs.has(key)
          ? undefined
          : pairProblem(
              { table: use.table, column },
              { table: paired.table, column: other },
              pairLabel(use.path),
              database.dialect.name,
            );
        pairs.add(key);
        if (found !== undefined) {
          add({
            ...(found.severity === 'warning' ? { severity: 'warning' as const } : {}),
            resource,
            path,
            column: use.column,
            message: found.message,
          });
        }
      }
      if (mapping === undefined || templates.has(use.path)) {
        // Only existence can be judged without the compiled types; a template joins its
        // columns into text first, so their types do not reach the element.
        continue;
      }
      let message = typeProblem(use, column, { defs, resource, idType });
      if (message === undefined && column.kind === 'text' && isDateSearch(use, defs, resource)) {
        message = await textDateProblem(database, use, column);
      }
      if (message !== undefined) {
        add({ resource, path, column: use.column, message });
        continue;
      }
      const sampled = await sampleProblem(database, use, column, defs);
      if (sampled !== undefined) {
        add({ severity: 'warning', resource, path, column: use.column, message: sampled });
      }
    }
    joinKeyWarnings(resource, raw, live).forEach(add);
  }
  return { ok: !problems.some(isBlocking), problems };
}

/**
 * The resources to check against the live schema. A compiled document gives every resource with
 * its typed column uses. Otherwise each resource is compiled on its own, so the resources that
 * compile are checked in full; the column uses of the others are read from the raw document, so
 * their missing tables and columns are reported together with their compile problems.
 */
function targetsOf(
  document: unknown,
  compiled: CompileResult,
  options: CheckMappingOptions,
): Target[] {
  const rawResources =
    document !== null && typeof document === 'object'
      ? (document as Record<string, unknown>)['resources']
      : undefined;
  const raws =
    rawResources !== null && typeof rawResources === 'object' && !Array.isArray(rawResources)
      ? (rawResources as Record<string, unknown>)
      : {};
  if (compiled.ok) {
    return compiled.mapping.resourceTypes.map((resource) => {
      const raw = raws[resource];
      const mapping = ResourceMappingSchema.safeParse(raw);
      return {
        resource,
        raw,
        uses: compiled.mapping.resource(resource)?.columnUses ?? [],
        ...(mapping.success ? { mapping: mapping.data } : {}),
      };
    });
  }
  return Object.entries(raws).map(([resource, raw]): Target => {
    // Format 2 reads format 1 documents unchanged, so it compiles either alone.
    const alone = compileMapping(
      { formatVersion: 2, resources: { [resource]: raw } },
      { defs: options.defs, dialect: options.database.dialect },
    );
    const mapping = ResourceMappingSchema.safeParse(raw);
    const uses = alone.ok ? alone.mapping.resource(resource)?.columnUses : undefined;
    if (uses !== undefined && mapping.success) {
      return { resource, raw, uses, mapping: mapping.data };
    }
    return { resource, raw, uses: rawColumnUses(resource, raw) };
  });
}

const NUMERIC_KINDS: ReadonlySet<ColumnKind> = new Set([
  'integer',
  'decimal',
  'bit',
  'boolean',
  'year',
]);
const NON_NUMERIC_KINDS: ReadonlySet<ColumnKind> = new Set([
  'text',
  'date',
  'datetime',
  'time',
  'binary',
  'uuid',
]);
const TEMPORAL_KINDS: ReadonlySet<ColumnKind> = new Set(['date', 'datetime', 'time']);
const DATE_ELEMENT_TYPES: ReadonlySet<string> = new Set(['date', 'dateTime', 'instant']);
/** Transforms that read a number out of the cell. */
const NUMBER_TRANSFORMS: ReadonlySet<string> = new Set(['number', 'unit', 'scale']);
/** Transforms that read a date out of the cell, with an explicit format. */
const DATE_TRANSFORMS: ReadonlySet<string> = new Set(['date', 'dateTime']);

/** Whether the default boolean rules can read this column without a transform. */
function isBooleanLike(column: LiveColumn): boolean {
  switch (column.kind) {
    case 'integer':
    case 'bit':
    case 'boolean':
    case 'unknown':
      return true;
    case 'text':
      // A short code column (`S`/`N`, `true`/`false`), not free text.
      return (
        /^(?:national\s+)?(?:var)?char/.test(column.type) &&
        column.length !== undefined &&
        column.length >= 1 &&
        column.length <= 5
      );
    default:
      return false;
  }
}

/** `search:<code>` (how `ColumnUse` names a search parameter) -> `search.<code>` (a mapping key). */
function problemPath(path: string): string {
  return path.startsWith('search:') ? `search.${path.slice('search:'.length)}` : path;
}

/** `a date`, `an integer`. */
function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;
}

/**
 * Where each table of a raw resource mapping is named: `table` for the main one, `joins[i]` for
 * a join, the rows path (`telecom.rows.table`) for a child table.
 */
function tablePlaces(raw: unknown): Map<string, string> {
  const places = new Map<string, string>();
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(raw)) {
    return places;
  }
  const place = (table: unknown, path: string) => {
    if (typeof table === 'string' && !places.has(table)) {
      places.set(table, path);
    }
  };
  const joins = (list: unknown, prefix: string) => {
    (Array.isArray(list) ? list : []).forEach((join, i) => {
      if (isObject(join)) {
        place(join['table'], `${prefix}joins[${i}].table`);
      }
    });
  };
  place(raw['table'], 'table');
  joins(raw['joins'], '');
  for (const [path, source] of Object.entries(isObject(raw['elements']) ? raw['elements'] : {})) {
    if (isObject(source) && isObject(source['rows'])) {
      place(source['rows']['table'], `${path}.rows.table`);
      joins(source['rows']['joins'], `${path}.rows.`);
    }
  }
  return places;
}

/** The element paths (as `ColumnUse.path` spells them) fed by a template. */
function templatePaths(mapping: ResourceMapping): Set<string> {
  const paths = new Set<string>();
  for (const [path, source] of Object.entries(mapping.elements)) {
    if (typeof source !== 'object') {
      continue;
    }
    if ('template' in source) {
      paths.add(path);
    } else if ('rows' in source) {
      for (const [childPath, child] of Object.entries(source.elements)) {
        if (typeof child === 'object' && 'template' in child) {
          paths.add(`${path}.${childPath}`);
        }
      }
    }
  }
  return paths;
}

/** The use is a date search parameter of `resource`. */
function isDateSearch(use: ColumnUse, defs: FhirDefinitions, resource: string): boolean {
  return (
    use.path.startsWith('search:') &&
    defs.searchParam(resource, use.path.slice('search:'.length))?.type === 'date'
  );
}

/** ISO date text as date search compares it (zero dates included: search keeps them out). */
const ISO_DATE_TEXT = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/;
/** Rows a text date column is sampled on. */
const DATE_SAMPLE_ROWS = 100;

/**
 * Date search compares a text column as text, which is right only for ISO dates
 * (`YYYY-MM-DD...`); a `DD/MM/YYYY` column would answer every range wrongly. The catalogue cannot
 * tell them apart, so up to 100 non-empty values are read and matched here (in memory only,
 * never logged or returned): all ISO passes; any other value, or no value to judge by, is a
 * problem.
 */
async function textDateProblem(
  database: TenantDatabase,
  use: ColumnUse,
  column: LiveColumn,
): Promise<string | undefined> {
  const code = use.path.slice('search:'.length);
  const q = database.dialect.quoteId;
  const rows = await database.query({
    sql:
      `SELECT ${q(use.column)} AS v FROM ${q(use.table)} ` +
      `WHERE ${q(use.column)} IS NOT NULL AND ${q(use.column)} <> '' LIMIT ${DATE_SAMPLE_ROWS}`,
    params: [],
  });
  const values = rows.map((r) => String(r['v']).trim());
  if (values.length > 0 && values.every((v) => ISO_DATE_TEXT.test(v))) {
    return undefined;
  }
  const found =
    values.length === 0
      ? 'has no values to confirm they are ISO dates'
      : `holds values that are not ISO dates (YYYY-MM-DD) in the ${values.length} rows sampled`;
  return `search parameter "${code}" is a date search but column "${use.column}" is ${column.type} and ${found}; date comparisons need a DATE or DATETIME column, or ISO text (map a view that converts it)`;
}

/** Why `column` cannot feed `use`, or `undefined` when its type suits it. */
function typeProblem(
  use: ColumnUse,
  column: LiveColumn,
  context: { defs: FhirDefinitions; resource: string; idType: 'string' | 'integer' },
): string | undefined {
  if (column.kind === 'unknown') {
    return undefined;
  }
  const name = `column "${use.column}" is ${column.type}`;
  const reading = `to read column "${use.column}", which is ${column.type}`;
  if (use.path === 'id') {
    return context.idType === 'integer' && column.kind !== 'integer'
      ? `id is declared "integer" but ${name}; declare the id "string", or map an integer column`
      : undefined;
  }
  if (use.path.startsWith('search:')) {
    const code = use.path.slice('search:'.length);
    const param = context.defs.searchParam(context.resource, code);
    if (
      param?.type === 'date' &&
      column.kind !== 'date' &&
      column.kind !== 'datetime' &&
      // Text may hold ISO dates: the values decide (textDateProblem).
      column.kind !== 'text'
    ) {
      return `search parameter "${code}" is a date search but ${name}; date comparisons need a DATE or DATETIME column (map a view that converts it)`;
    }
    return undefined;
  }
  const transforms = use.transforms;
  const numberTransform = transforms.find((t) => NUMBER_TRANSFORMS.has(t));
  if (numberTransform !== undefined && TEMPORAL_KINDS.has(column.kind)) {
    return `transform "${numberTransform}" reads numbers but ${name}`;
  }
  if (use.fhirType === undefined) {
    return undefined;
  }
  const hasTransform = (names: readonly string[]) => transforms.some((t) => names.includes(t));
  if (
    DATE_ELEMENT_TYPES.has(use.fhirType) &&
    NUMERIC_KINDS.has(column.kind) &&
    !transforms.some((t) => DATE_TRANSFORMS.has(t))
  ) {
    return `${withArticle(use.fhirType)} element needs a "date" or "dateTime" transform naming the format (e.g. YYYYMMDD) ${reading}`;
  }
  const primitive = context.defs.type(use.fhirType);
  if (primitive?.kind !== 'primitive') {
    return undefined;
  }
  if (
    primitive.json === 'boolean' &&
    !isBooleanLike(column) &&
    !hasTransform(['boolean', 'valueMap'])
  ) {
    return `a boolean element needs a "boolean" transform naming the true and false values ${reading}`;
  }
  if (
    primitive.json === 'number' &&
    NON_NUMERIC_KINDS.has(column.kind) &&
    !hasTransform(['number', 'valueMap'])
  ) {
    return `${withArticle(use.fhirType)} element needs a "number" transform ${reading}`;
  }
  return undefined;
}
