import type { DialectName } from '../db/dialect.js';
import type { ColumnKind, LiveColumn, LiveTables } from './live-catalogue.js';
import type { MappingProblem } from './mapping-problem.js';

/**
 * Checks of the column pairs a mapping compares across tables (a join's `on`, an `exists`' `on`,
 * a child table's key against its parent column) and of the joins' uniqueness, against the live
 * schema. A join must be a lookup: when its `on` columns are not a unique key of the joined
 * table, one row of the source may meet several joined rows and its resource is repeated.
 */

/** Kinds that compare with each other without surprises. */
type KindClass = 'number' | 'boolean' | 'bit' | 'text' | 'temporal' | 'time' | 'binary' | 'uuid';

const CLASS_OF: Readonly<Partial<Record<ColumnKind, KindClass>>> = {
  integer: 'number',
  decimal: 'number',
  bit: 'number',
  boolean: 'number',
  year: 'number',
  text: 'text',
  date: 'temporal',
  datetime: 'temporal',
  time: 'time',
  binary: 'binary',
};

/**
 * PostgreSQL has no implicit cast between these classes: `integer = boolean`, `int = varchar`
 * or `uuid = text` between two columns is an error when the statement runs.
 */
const POSTGRES_CLASS_OF: Readonly<Partial<Record<ColumnKind, KindClass>>> = {
  ...CLASS_OF,
  bit: 'bit',
  boolean: 'boolean',
  uuid: 'uuid',
};

/**
 * Pairs that the database compares by converting one side (it works for well-formed values but
 * gives up the index of the converted side, and MySQL reads non-numeric text as 0): legacy
 * schemas often store a key as text in one table and as a number in another, so these warn.
 * Every other mismatch (a date against a number, ...) never matches as meant: an error.
 */
const CONVERTIBLE: ReadonlySet<string> = new Set(['number|text', 'temporal|text', 'binary|text']);

/**
 * How `left` compared with `right` fares on a `dialect` server: `undefined` when their kinds suit
 * each other.
 */
export function pairProblem(
  left: { readonly table: string; readonly column: LiveColumn },
  right: { readonly table: string; readonly column: LiveColumn },
  what: string,
  dialect: DialectName,
): { severity: 'error' | 'warning'; message: string } | undefined {
  const classes = dialect === 'postgres' ? POSTGRES_CLASS_OF : CLASS_OF;
  const a = classes[left.column.kind];
  const b = classes[right.column.kind];
  if (a === undefined || b === undefined || a === b) {
    return undefined;
  }
  const names = `"${left.table}.${left.column.name}" (${left.column.type}) is compared with "${right.table}.${right.column.name}" (${right.column.type})`;
  if (dialect === 'postgres') {
    return {
      severity: 'error',
      message: `${what}: ${names}; PostgreSQL does not convert between these types, so every statement that compares them fails (make both columns one type, or map a view that casts one)`,
    };
  }
  if (CONVERTIBLE.has([a, b].sort().join('|'))) {
    return {
      severity: 'warning',
      message: `${what}: ${names}; the database converts one side for every row, which cannot use that side's index, and MySQL/MariaDB read text that is not a number as 0`,
    };
  }
  return {
    severity: 'error',
    message: `${what}: ${names}; these types never compare as the same value`,
  };
}

/** What a pair's `ColumnUse.path` compares, for a message. */
export function pairLabel(path: string): string {
  if (path.startsWith('join:')) {
    return `join "${path.slice('join:'.length)}"`;
  }
  return path === 'exists' ? 'exists' : 'child key';
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A join of the raw mapping and where it is written. */
interface JoinAt {
  readonly path: string;
  readonly as: string;
  readonly table: string;
  /** The joined table's columns the join fixes: its `on` keys and its `where` eq columns. */
  readonly fixed: readonly string[];
  readonly on: readonly string[];
}

function joinsOf(joins: unknown, prefix: string): JoinAt[] {
  if (!Array.isArray(joins)) {
    return [];
  }
  return joins.flatMap((join, i): JoinAt[] => {
    if (
      !isObject(join) ||
      typeof join['table'] !== 'string' ||
      typeof join['as'] !== 'string' ||
      !isObject(join['on'])
    ) {
      return [];
    }
    const on = Object.keys(join['on']);
    const eq = (Array.isArray(join['where']) ? join['where'] : []).flatMap((f) =>
      isObject(f) && f['op'] === 'eq' && typeof f['column'] === 'string' ? [f['column']] : [],
    );
    return [
      {
        path: `${prefix}joins[${i}]`,
        as: join['as'],
        table: join['table'],
        fixed: [...on, ...eq],
        on,
      },
    ];
  });
}

/** Every join of a raw resource mapping: its own and those of its `rows` elements. */
function allJoins(mapping: unknown): JoinAt[] {
  if (!isObject(mapping)) {
    return [];
  }
  const found = joinsOf(mapping['joins'], '');
  for (const [path, source] of Object.entries(
    isObject(mapping['elements']) ? mapping['elements'] : {},
  )) {
    if (isObject(source) && isObject(source['rows'])) {
      found.push(...joinsOf(source['rows']['joins'], `${path}.rows.`));
    }
  }
  return found;
}

/**
 * A warning for each join of `mapping` (raw document text) whose `on` columns, together with the
 * columns its `where` fixes with `eq`, cover no unique key of the joined table. Joined views and
 * tables or columns that do not exist are left alone (other checks report those).
 */
export function joinKeyWarnings(
  resource: string,
  mapping: unknown,
  live: LiveTables,
): MappingProblem[] {
  const warnings: MappingProblem[] = [];
  for (const join of allJoins(mapping)) {
    const table = live.tables.get(join.table);
    if (
      table === undefined ||
      table.kind === 'view' ||
      join.on.some((c) => !table.columns.has(c.toLowerCase()))
    ) {
      continue;
    }
    const fixed = new Set(join.fixed.map((c) => c.toLowerCase()));
    if (table.uniqueKeys.some((key) => key.every((c) => fixed.has(c)))) {
      continue;
    }
    const columns = join.on.map((c) => `"${c}"`).join(', ');
    warnings.push({
      severity: 'warning',
      resource,
      path: join.path,
      ...(join.on.length === 1 && join.on[0] !== undefined ? { column: join.on[0] } : {}),
      message: `join "${join.as}": ${columns} ${join.on.length === 1 ? 'is' : 'are'} not a unique key of table "${join.table}" (no primary key or unique index is covered by the on columns and the where eq columns), so a row may meet several "${join.table}" rows and its resource be repeated; a join must be a lookup (use rows for one-to-many)`,
    });
  }
  return warnings;
}
