import type { Dialect, Row } from '../db/dialect.js';
import type { TenantDatabase } from '../db/tenant-database.js';

/**
 * The live schema of the tables a mapping names, read from the catalogue only
 * (`information_schema` on MySQL/MariaDB; `pg_catalog` on PostgreSQL; `sqlite_master` and
 * `PRAGMA` on SQLite), never a row: each table's columns with their declared types, whether it is
 * a view, and its unique keys.
 */
/**
 * What a column holds, as far as the checks care. `unknown` (a SQLite column without a declared
 * type, a view's computed column, an exotic type, a PostgreSQL enum, json or array) is never a
 * type problem and is never sampled.
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
  | 'uuid'
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
  /** A view has no keys of its own, so nothing is known about its uniqueness. */
  readonly kind: 'table' | 'view';
  /** Columns by lower-case name: MySQL and SQLite both match column names case-insensitively. */
  readonly columns: ReadonlyMap<string, LiveColumn>;
  /**
   * The table's unique keys (primary key, unique indexes; partial indexes left out), each as its
   * lower-case column names. Empty for a view.
   */
  readonly uniqueKeys: readonly (readonly string[])[];
}

/** A table's catalogue entry before it is matched with the name the mapping used. */
interface CatalogueTable {
  readonly kind: 'table' | 'view';
  readonly columns: ReadonlyMap<string, LiveColumn>;
  readonly uniqueKeys: readonly (readonly string[])[];
}

/** The outcome of {@link loadLiveTables}: each found table under the name the mapping used. */
export interface LiveTables {
  readonly tables: ReadonlyMap<string, LiveTable>;
  /** Tables that exist only with another letter case, on a server where case matters. */
  readonly wrongCase: ReadonlyMap<string, string>;
  /**
   * Column names match only with the same letter case (PostgreSQL: fhirgate quotes every name,
   * and a quoted name keeps its case); MySQL and SQLite ignore it.
   */
  readonly caseSensitiveColumns: boolean;
}

/**
 * Reads the columns and unique keys of `tables` from the live catalogue: on MySQL/MariaDB three
 * aggregated statements (`COLUMNS`, `TABLES`, `STATISTICS`), on PostgreSQL two (`pg_attribute`,
 * `pg_index`, tables as the session's `search_path` finds them), on SQLite one `sqlite_master`
 * statement plus `PRAGMA table_xinfo` / `index_list` / `index_info` per table. Tables that do
 * not exist are absent from the result.
 */
export async function loadLiveTables(
  database: TenantDatabase,
  tables: readonly string[],
): Promise<LiveTables> {
  const dialect = database.dialect.name;
  if (tables.length === 0) {
    return {
      tables: new Map(),
      wrongCase: new Map(),
      caseSensitiveColumns: dialect === 'postgres',
    };
  }
  switch (dialect) {
    case 'mysql':
      return loadMysqlTables(database, tables);
    case 'postgres':
      return loadPostgresTables(database, tables);
    case 'sqlite':
      return loadSqliteTables(database, tables);
  }
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
  const columnsByName = new Map<string, Map<string, LiveColumn>>();
  for (const row of rows) {
    const table = text(row, 'table_name');
    const columnType = text(row, 'column_type').toLowerCase();
    const column: LiveColumn = {
      name: text(row, 'column_name'),
      type: columnType,
      kind: mysqlKind(text(row, 'data_type').toLowerCase()),
      ...lengthOf(columnType),
    };
    const columns = columnsByName.get(table) ?? new Map<string, LiveColumn>();
    columns.set(column.name.toLowerCase(), column);
    columnsByName.set(table, columns);
  }
  const found = [...columnsByName.keys()];
  const views = new Set<string>();
  const keys = new Map<string, Map<string, string[]>>();
  if (found.length > 0) {
    const inList = found.map(() => '?').join(', ');
    const kinds = await database.query({
      sql:
        'SELECT TABLE_NAME AS table_name FROM information_schema.TABLES ' +
        `WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'VIEW' AND TABLE_NAME IN (${inList})`,
      params: found,
    });
    for (const row of kinds) {
      views.add(text(row, 'table_name'));
    }
    const indexRows = await database.query({
      sql:
        'SELECT TABLE_NAME AS table_name, INDEX_NAME AS index_name, COLUMN_NAME AS column_name ' +
        'FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 ' +
        `AND TABLE_NAME IN (${inList}) ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
      params: found,
    });
    addIndexColumns(keys, indexRows);
  }
  const byName = new Map<string, CatalogueTable>();
  for (const [table, columns] of columnsByName) {
    byName.set(table, {
      kind: views.has(table) ? 'view' : 'table',
      columns,
      uniqueKeys: [...(keys.get(table)?.values() ?? [])],
    });
  }
  return matchTables(tables, byName, caseSensitive);
}

/**
 * PostgreSQL: the tables and views an unqualified name reaches through the session's
 * `search_path` (`pg_table_is_visible`: the first schema on the path that has the name, `public`
 * by default), found ignoring case so that a name in the wrong case can be reported. Domains are
 * judged by their base type.
 */
async function loadPostgresTables(
  database: TenantDatabase,
  tables: readonly string[],
): Promise<LiveTables> {
  const p = database.dialect.placeholder;
  const wanted = [...new Set(tables.map((t) => t.toLowerCase()))];
  const rows = await database.query({
    sql:
      'SELECT c.relname AS table_name, c.relkind AS relkind, a.attname AS column_name, ' +
      'pg_catalog.format_type(a.atttypid, a.atttypmod) AS column_type, ' +
      'b.typname AS type_name, b.typcategory AS type_category ' +
      'FROM pg_catalog.pg_class c ' +
      'JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ' +
      'JOIN pg_catalog.pg_type t ON t.oid = a.atttypid ' +
      "JOIN pg_catalog.pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END " +
      "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_catalog.pg_table_is_visible(c.oid) " +
      `AND lower(c.relname) IN (${wanted.map((_, i) => p(i + 1)).join(', ')}) ` +
      'ORDER BY c.relname, a.attnum',
    params: wanted,
  });
  const byName = new Map<string, { kind: 'table' | 'view'; columns: Map<string, LiveColumn> }>();
  for (const row of rows) {
    const table = text(row, 'table_name');
    const entry = byName.get(table) ?? {
      // Views, materialized views and foreign tables have no keys of their own.
      kind: ['r', 'p'].includes(text(row, 'relkind')) ? 'table' : 'view',
      columns: new Map<string, LiveColumn>(),
    };
    const type = postgresType(text(row, 'column_type'));
    const column: LiveColumn = {
      name: text(row, 'column_name'),
      type,
      kind: postgresKind(text(row, 'type_name'), text(row, 'type_category')),
      ...lengthOf(type),
    };
    entry.columns.set(column.name.toLowerCase(), column);
    byName.set(table, entry);
  }
  const keys = new Map<string, Map<string, string[]>>();
  const found = [...byName].filter(([, t]) => t.kind === 'table').map(([name]) => name);
  if (found.length > 0) {
    // Unique indexes of plain columns, without a predicate; INCLUDE columns are not key parts.
    const indexRows = await database.query({
      sql:
        'SELECT c.relname AS table_name, ic.relname AS index_name, a.attname AS column_name ' +
        'FROM pg_catalog.pg_index i ' +
        'JOIN pg_catalog.pg_class c ON c.oid = i.indrelid ' +
        'JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid ' +
        'CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position) ' +
        'JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ' +
        'WHERE i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL ' +
        'AND k.position <= i.indnkeyatts AND pg_catalog.pg_table_is_visible(c.oid) ' +
        `AND c.relname IN (${found.map((_, i) => p(i + 1)).join(', ')}) ` +
        'ORDER BY c.relname, ic.relname, k.position',
      params: found,
    });
    addIndexColumns(keys, indexRows);
  }
  const catalogue = new Map<string, CatalogueTable>();
  for (const [table, { kind, columns }] of byName) {
    catalogue.set(table, { kind, columns, uniqueKeys: [...(keys.get(table)?.values() ?? [])] });
  }
  // Quoted names keep their case, and fhirgate quotes every name.
  return { ...matchTables(tables, catalogue, true), caseSensitiveColumns: true };
}

async function loadSqliteTables(
  database: TenantDatabase,
  tables: readonly string[],
): Promise<LiveTables> {
  const wanted = [...new Set(tables.map((t) => t.toLowerCase()))];
  const found = await database.query({
    sql:
      "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') " +
      `AND lower(name) IN (${wanted.map(() => '?').join(', ')})`,
    params: wanted,
  });
  const byName = new Map<string, CatalogueTable>();
  const dialect: Dialect = database.dialect;
  for (const row of found) {
    const table = text(row, 'name');
    const kind = text(row, 'type') === 'view' ? 'view' : 'table';
    // table_xinfo also lists generated columns, which a SELECT can read.
    const info = await database.query({
      sql: `PRAGMA table_xinfo(${dialect.quoteId(table)})`,
      params: [],
    });
    const columns = new Map<string, LiveColumn>();
    const primaryKey: string[] = [];
    for (const col of info) {
      if (Number(col['pk']) > 0) {
        primaryKey[Number(col['pk']) - 1] = text(col, 'name').toLowerCase();
      }
      const type = text(col, 'type').toLowerCase();
      const column: LiveColumn = {
        name: text(col, 'name'),
        type,
        kind: sqliteKind(type),
        ...lengthOf(type),
      };
      columns.set(column.name.toLowerCase(), column);
    }
    const uniqueKeys: string[][] = [];
    if (kind === 'table') {
      // An INTEGER PRIMARY KEY is the rowid and has no index: the pk column flags name it.
      if (primaryKey.length > 0) {
        uniqueKeys.push(primaryKey);
      }
      const indexes = await database.query({
        sql: `PRAGMA index_list(${dialect.quoteId(table)})`,
        params: [],
      });
      for (const index of indexes) {
        if (Number(index['unique']) !== 1 || Number(index['partial']) === 1) {
          continue;
        }
        const parts = await database.query({
          sql: `PRAGMA index_info(${dialect.quoteId(text(index, 'name'))})`,
          params: [],
        });
        // An expression part has no name: such an index is no key of plain columns.
        const names = parts.map((part) => text(part, 'name').toLowerCase());
        if (names.length > 0 && !names.includes('')) {
          uniqueKeys.push(names);
        }
      }
    }
    byName.set(table, { kind, columns, uniqueKeys });
  }
  return matchTables(tables, byName, false);
}

/** Pairs the mapping's table names with the catalogue's, exactly or ignoring case. */
function matchTables(
  tables: readonly string[],
  byName: ReadonlyMap<string, CatalogueTable>,
  caseSensitive: boolean,
): LiveTables {
  const result = new Map<string, LiveTable>();
  const wrongCase = new Map<string, string>();
  for (const wanted of tables) {
    const exact = byName.get(wanted);
    if (exact !== undefined) {
      result.set(wanted, { name: wanted, ...exact });
      continue;
    }
    const other = [...byName.keys()].find((name) => name.toLowerCase() === wanted.toLowerCase());
    if (other === undefined) {
      continue;
    }
    if (caseSensitive) {
      wrongCase.set(wanted, other);
    } else {
      const table = byName.get(other);
      if (table !== undefined) {
        result.set(wanted, { name: other, ...table });
      }
    }
  }
  return { tables: result, wrongCase, caseSensitiveColumns: false };
}

/** A catalogue cell as text; MySQL 8 returns some information_schema columns as binary. */
/**
 * Groups catalogue rows of unique-index columns (`table_name`, `index_name`, `column_name`, in
 * index order) into table -> index -> columns, the shape both servers' catalogue reads share.
 */
function addIndexColumns(keys: Map<string, Map<string, string[]>>, rows: readonly Row[]): void {
  for (const row of rows) {
    const table = text(row, 'table_name');
    const byIndex = keys.get(table) ?? new Map<string, string[]>();
    const index = text(row, 'index_name');
    byIndex.set(index, [...(byIndex.get(index) ?? []), text(row, 'column_name').toLowerCase()]);
    keys.set(table, byIndex);
  }
}

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

/**
 * PostgreSQL's `format_type` text with the SQL-standard character names shortened to the forms
 * the rest of the checker reads (`varchar(12)`, `char(1)`), which PostgreSQL also accepts.
 */
function postgresType(formatted: string): string {
  return formatted
    .replace(/^character varying/, 'varchar')
    .replace(/^character(?=\(|$)/, 'char')
    .toLowerCase();
}

const POSTGRES_KINDS: Readonly<Record<string, ColumnKind>> = {
  int2: 'integer',
  int4: 'integer',
  int8: 'integer',
  numeric: 'decimal',
  float4: 'decimal',
  float8: 'decimal',
  money: 'decimal',
  bool: 'boolean',
  bit: 'bit',
  varbit: 'bit',
  date: 'date',
  timestamp: 'datetime',
  timestamptz: 'datetime',
  time: 'time',
  timetz: 'time',
  text: 'text',
  varchar: 'text',
  bpchar: 'text',
  citext: 'text',
  bytea: 'binary',
  uuid: 'uuid',
};

/**
 * A kind from a PostgreSQL base type name. Enums, json, arrays and the rest are `unknown`: they
 * compare with no text value (`<> ''` fails on them), so they are never sampled or judged.
 */
function postgresKind(typeName: string, category: string): ColumnKind {
  return POSTGRES_KINDS[typeName] ?? (category === 'S' ? 'text' : 'unknown');
}

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
