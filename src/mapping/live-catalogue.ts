import type { Dialect, Row } from '../db/dialect.js';
import type { TenantDatabase } from '../db/tenant-database.js';

/**
 * The live schema of the tables a mapping names, read from the catalogue only
 * (`information_schema` on MySQL/MariaDB; `sqlite_master` and `PRAGMA` on SQLite), never a row:
 * each table's columns with their declared types, whether it is a view, and its unique keys.
 */
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
}

/**
 * Reads the columns and unique keys of `tables` from the live catalogue: on MySQL/MariaDB three
 * aggregated statements (`COLUMNS`, `TABLES`, `STATISTICS`), on SQLite one `sqlite_master`
 * statement plus `PRAGMA table_xinfo` / `index_list` / `index_info` per table. Tables that do
 * not exist are absent from the result.
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
    for (const row of indexRows) {
      const table = text(row, 'table_name');
      const byIndex = keys.get(table) ?? new Map<string, string[]>();
      const index = text(row, 'index_name');
      byIndex.set(index, [...(byIndex.get(index) ?? []), text(row, 'column_name').toLowerCase()]);
      keys.set(table, byIndex);
    }
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
