import type { Dialect, Row } from '../db/dialect.js';
import type { TenantDatabase } from '../db/tenant-database.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { ColumnUse } from './column-use.js';
import { compileMapping } from './compile-mapping.js';
import type { MappingProblem } from './mapping-problem.js';
import { MappingDocumentSchema, type ResourceMapping } from './mapping-schema.js';

/**
 * Holds a mapping document against a tenant's live schema before it is activated: every table,
 * view and column the mapping reads must exist, and column types must suit the elements, ids and
 * search parameters they feed. It reads the catalogue only (`information_schema`, `sqlite_master`
 * and `PRAGMA table_xinfo`), never a row, so no message can carry patient data.
 */

/** What {@link checkMapping} needs besides the document. */
export interface CheckMappingOptions {
  /** The R4 definitions the document is compiled against. */
  readonly defs: FhirDefinitions;
  /** The tenant's database; its dialect decides how the mapping compiles and how the catalogue is read. */
  readonly database: TenantDatabase;
}

/** The outcome of {@link checkMapping}. `ok` is true exactly when `problems` is empty. */
export interface CheckResult {
  readonly ok: boolean;
  readonly problems: MappingProblem[];
}

/**
 * What a column holds, as far as the checks care. `unknown` (a SQLite column without a declared
 * type, a view's computed column, an exotic type) is never a type problem.
 */
export type ColumnKind =
  | 'integer'
  | 'decimal'
  | 'bit'
  | 'boolean'
  | 'year'
  | 'date'
  | 'datetime'
  | 'time'
  | 'text'
  | 'binary'
  | 'unknown';

/** One column of a live table or view. */
export interface LiveColumn {
  /** The name as the catalogue spells it. */
  readonly name: string;
  /** The declared type, lower-case (`varchar(10)`, `int(11) unsigned`, `date`); `''` when none. */
  readonly type: string;
  readonly kind: ColumnKind;
  /** The length of a `char(n)`/`varchar(n)` column. */
  readonly length?: number;
}

/** One live table or view, as the mapping named it. */
export interface LiveTable {
  /** The name as the catalogue spells it. */
  readonly name: string;
  /** Columns by lower-case name: MySQL and SQLite both match column names case-insensitively. */
  readonly columns: ReadonlyMap<string, LiveColumn>;
}

/** The outcome of {@link loadLiveTables}: each found table under the name the mapping used. */
export interface LiveTables {
  readonly tables: ReadonlyMap<string, LiveTable>;
  /** Tables that exist only with another letter case, on a server where case matters. */
  readonly wrongCase: ReadonlyMap<string, string>;
}

/**
 * Compiles `document` for the database's dialect, then checks it against the live schema.
 *
 * Compile problems are returned as they are, without touching the database. Otherwise the
 * catalogue is read with one statement on MySQL/MariaDB (`information_schema.COLUMNS`, which
 * covers views), and on SQLite with one `sqlite_master` statement plus one `PRAGMA table_xinfo`
 * per table or view. Problems name the resource, the path and the column; messages quote names
 * and declared types, never values.
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
  if (!compiled.ok) {
    return { ok: false, problems: compiled.problems };
  }
  // The compiler accepted the document, so it has the schema's shape.
  const mappings = MappingDocumentSchema.parse(document).resources;

  const usesByResource = new Map<string, readonly ColumnUse[]>();
  const tableNames = new Set<string>();
  for (const type of compiled.mapping.resourceTypes) {
    const uses = compiled.mapping.resource(type)?.columnUses ?? [];
    usesByResource.set(type, uses);
    for (const use of uses) {
      tableNames.add(use.table);
    }
  }
  const live = await loadLiveTables(database, [...tableNames]);

  const problems: MappingProblem[] = [];
  const seen = new Set<string>();
  const add = (problem: MappingProblem) => {
    const key = [problem.resource, problem.path, problem.column, problem.message].join('\u0000');
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  };

  for (const [resource, uses] of usesByResource) {
    const mapping = mappings[resource];
    const places = mapping === undefined ? new Map<string, string>() : tablePlaces(mapping);
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
      // A template joins its columns into text first: their types do not reach the element.
      let message = templates.has(use.path)
        ? undefined
        : typeProblem(use, column, { defs, resource, idType });
      if (message === undefined && column.kind === 'text' && isDateSearch(use, defs, resource)) {
        message = await textDateProblem(database, use, column);
      }
      if (message !== undefined) {
        add({ resource, path, column: use.column, message });
      }
    }
  }
  return { ok: problems.length === 0, problems };
}

/**
 * Reads the columns of `tables` from the live catalogue, one aggregated statement per catalogue
 * query (never one per column). Tables that do not exist are absent from the result.
 */
export async function loadLiveTables(
  database: TenantDatabase,
  tables: readonly string[],
): Promise<LiveTables> {
  if (tables.length === 0) {
    return { tables: new Map(), wrongCase: new Map() };
  }
  return database.dialect.name === 'mysql'
    ? loadMysqlTables(database, tables)
    : loadSqliteTables(database, tables);
}

async function loadMysqlTables(
  database: TenantDatabase,
  tables: readonly string[],
): Promise<LiveTables> {
  const rows = await database.query({
    sql:
      'SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name, DATA_TYPE AS data_type, ' +
      'COLUMN_TYPE AS column_type, @@lower_case_table_names AS lower_case_table_names ' +
      'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ' +
      `AND TABLE_NAME IN (${tables.map(() => '?').join(', ')}) ` +
      'ORDER BY TABLE_NAME, ORDINAL_POSITION',
    params: [...tables],
  });
  // With lower_case_table_names = 0 table names are case-sensitive, yet information_schema may
  // still match them case-insensitively: compare here.
  const caseSensitive = rows.length > 0 && Number(rows[0]?.['lower_case_table_names']) === 0;
  const byName = new Map<string, Map<string, LiveColumn>>();
  for (const row of rows) {
    const table = text(row, 'table_name');
    const columnType = text(row, 'column_type').toLowerCase();
    const column: LiveColumn = {
      name: text(row, 'column_name'),
      type: columnType,
      kind: mysqlKind(text(row, 'data_type').toLowerCase()),
      ...lengthOf(columnType),
    };
    const columns = byName.get(table) ?? new Map<string, LiveColumn>();
    columns.set(column.name.toLowerCase(), column);
    byName.set(table, columns);
  }
  return matchTables(tables, byName, caseSensitive);
}

async function loadSqliteTables(
  database: TenantDatabase,
  tables: readonly string[],
): Promise<LiveTables> {
  const wanted = [...new Set(tables.map((t) => t.toLowerCase()))];
  const found = await database.query({
    sql:
      "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') " +
      `AND lower(name) IN (${wanted.map(() => '?').join(', ')})`,
    params: wanted,
  });
  const byName = new Map<string, Map<string, LiveColumn>>();
  const dialect: Dialect = database.dialect;
  for (const row of found) {
    const table = text(row, 'name');
    // table_xinfo also lists generated columns, which a SELECT can read.
    const info = await database.query({
      sql: `PRAGMA table_xinfo(${dialect.quoteId(table)})`,
      params: [],
    });
    const columns = new Map<string, LiveColumn>();
    for (const col of info) {
      const type = text(col, 'type').toLowerCase();
      const column: LiveColumn = {
        name: text(col, 'name'),
        type,
        kind: sqliteKind(type),
        ...lengthOf(type),
      };
      columns.set(column.name.toLowerCase(), column);
    }
    byName.set(table, columns);
  }
  return matchTables(tables, byName, false);
}

/** Pairs the mapping's table names with the catalogue's, exactly or ignoring case. */
function matchTables(
  tables: readonly string[],
  byName: ReadonlyMap<string, ReadonlyMap<string, LiveColumn>>,
  caseSensitive: boolean,
): LiveTables {
  const result = new Map<string, LiveTable>();
  const wrongCase = new Map<string, string>();
  for (const wanted of tables) {
    const exact = byName.get(wanted);
    if (exact !== undefined) {
      result.set(wanted, { name: wanted, columns: exact });
      continue;
    }
    const other = [...byName.keys()].find((name) => name.toLowerCase() === wanted.toLowerCase());
    if (other === undefined) {
      continue;
    }
    if (caseSensitive) {
      wrongCase.set(wanted, other);
    } else {
      result.set(wanted, { name: other, columns: byName.get(other) ?? new Map() });
    }
  }
  return { tables: result, wrongCase };
}

/** A catalogue cell as text; MySQL 8 returns some information_schema columns as binary. */
function text(row: Row, key: string): string {
  const value = row[key];
  if (typeof value === 'string') {
    return value;
  }
  if (Buffer.isBuffer(value)) {
    return value.toString('utf8');
  }
  return value === null || value === undefined ? '' : String(value);
}

function lengthOf(type: string): { length?: number } {
  const match = /^(?:national\s+)?(?:var)?char(?:acter)?\s*\(\s*(\d+)\s*\)/.exec(type);
  return match === null ? {} : { length: Number(match[1]) };
}

const MYSQL_KINDS: Readonly<Record<string, ColumnKind>> = {
  tinyint: 'integer',
  smallint: 'integer',
  mediumint: 'integer',
  int: 'integer',
  integer: 'integer',
  bigint: 'integer',
  decimal: 'decimal',
  numeric: 'decimal',
  float: 'decimal',
  double: 'decimal',
  real: 'decimal',
  bit: 'bit',
  bool: 'boolean',
  boolean: 'boolean',
  year: 'year',
  date: 'date',
  datetime: 'datetime',
  timestamp: 'datetime',
  time: 'time',
  char: 'text',
  varchar: 'text',
  tinytext: 'text',
  text: 'text',
  mediumtext: 'text',
  longtext: 'text',
  enum: 'text',
  set: 'text',
  json: 'text',
  uuid: 'text',
  binary: 'binary',
  varbinary: 'binary',
  tinyblob: 'binary',
  blob: 'binary',
  mediumblob: 'binary',
  longblob: 'binary',
};

/** A kind from `information_schema.COLUMNS.DATA_TYPE`. */
function mysqlKind(dataType: string): ColumnKind {
  return MYSQL_KINDS[dataType] ?? 'unknown';
}

/**
 * A kind from a SQLite declared type. SQLite stores any value in any column, so the declared
 * type is the author's intent: `DATE` means ISO text dates, as the demo's tables use it.
 */
function sqliteKind(declared: string): ColumnKind {
  const t = declared.toUpperCase();
  if (t === '') {
    return 'unknown';
  }
  if (t.includes('BOOL')) {
    return 'boolean';
  }
  if (t.includes('INT')) {
    return 'integer';
  }
  if (t.startsWith('DATETIME') || t.startsWith('TIMESTAMP')) {
    return 'datetime';
  }
  if (t.startsWith('DATE')) {
    return 'date';
  }
  if (t.startsWith('TIME')) {
    return 'time';
  }
  if (t.startsWith('YEAR')) {
    return 'year';
  }
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) {
    return 'text';
  }
  if (t.includes('BLOB')) {
    return 'binary';
  }
  if (/REAL|FLOA|DOUB|DEC|NUMERIC/.test(t)) {
    return 'decimal';
  }
  return 'unknown';
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

/** Where each table of a resource mapping is named: `table` for the main one, the rows path else. */
function tablePlaces(mapping: ResourceMapping): Map<string, string> {
  const places = new Map<string, string>([[mapping.table, 'table']]);
  for (const [path, source] of Object.entries(mapping.elements)) {
    if (typeof source === 'object' && 'rows' in source && !places.has(source.rows.table)) {
      places.set(source.rows.table, `${path}.rows.table`);
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
