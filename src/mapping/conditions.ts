import type { Row } from '../db/dialect.js';
import { todayPlus } from './filters.js';
import type { Comparison } from './mapping-schema.js';
import { toText } from './transforms/cell-values.js';
import { DEFAULT_DATE_MATCHERS, toFhirDate } from './transforms/date.js';

/**
 * The conditions of `when` rules and choice variants, compiled into predicates over a row that
 * has been read. They follow SQL, so a condition means here what the same comparison means in a
 * `where`: a NULL cell matches only `isNull` (`ne` and `notIn` never match it); numbers compare
 * numerically when the cell is a number (or numeric text against a number); booleans are 1 and 0;
 * `{ "today": n }` compares the cell as a date (zero and unreadable dates are NULL); anything else
 * compares as text, exactly (case and spaces count).
 */

/** A compiled condition list: true when every comparison holds for the row. */
export type RowPredicate = (row: Row) => boolean;

/** How a cell compares with one value: <0, 0, >0, or `undefined` when it cannot (NULL). */
type Comparator = (cell: unknown) => number | undefined;

const NUMERIC_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

const MS_PER_DAY = 86_400_000;

/** The number in numeric text, or `undefined`. */
function numberInText(text: string): number | undefined {
  if (!NUMERIC_TEXT.test(text)) {
    return undefined;
  }
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The cell as a number when it is one: numbers, bigints, booleans (1/0), numeric text, and a
 * one-byte Buffer that is not a digit (MySQL `BIT(1)`), as the `boolean` transform reads it.
 */
function numberOfCell(cell: unknown): number | undefined {
  switch (typeof cell) {
    case 'number':
      return Number.isFinite(cell) ? cell : undefined;
    case 'bigint':
      return Number(cell);
    case 'boolean':
      return cell ? 1 : 0;
    case 'string':
      return numberInText(cell);
    default:
      if (Buffer.isBuffer(cell)) {
        return numberInText(cell.toString('utf8')) ?? (cell.length === 1 ? cell[0] : undefined);
      }
      return undefined;
  }
}

/** Whether the cell is a number in the database (not text that happens to hold one). */
function isNumericCell(cell: unknown): boolean {
  return typeof cell === 'number' || typeof cell === 'bigint' || typeof cell === 'boolean';
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The cell as text; a JS Date (mysql2 without `dateStrings`) as its local `YYYY-MM-DD hh:mm:ss`. */
function textOfCell(cell: unknown): string | undefined {
  if (cell instanceof Date) {
    if (Number.isNaN(cell.getTime())) {
      return undefined;
    }
    return `${String(cell.getFullYear()).padStart(4, '0')}-${pad2(cell.getMonth() + 1)}-${pad2(cell.getDate())} ${pad2(cell.getHours())}:${pad2(cell.getMinutes())}:${pad2(cell.getSeconds())}`;
  }
  return toText(cell);
}

const compareNumbers = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0);
const compareTexts = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Compares cells with a number (or a boolean, as 1/0). */
function numberComparator(value: number): Comparator {
  const asText = String(value);
  return (cell) => {
    const n = numberOfCell(cell);
    if (n !== undefined) {
      return compareNumbers(n, value);
    }
    const text = textOfCell(cell);
    return text === undefined ? undefined : compareTexts(text, asText);
  };
}

/** Compares cells with a string: as numbers when the cell is a number and the string numeric. */
function textComparator(value: string): Comparator {
  const asNumber = numberInText(value);
  return (cell) => {
    if (asNumber !== undefined && isNumericCell(cell)) {
      return compareNumbers(numberOfCell(cell) as number, asNumber);
    }
    const text = textOfCell(cell);
    return text === undefined ? undefined : compareTexts(text, value);
  };
}

/** `YYYY-MM-DD` of the UTC date today plus `days`, recomputed when the day changes. */
function createToday(days: number): () => string {
  let day = Number.NaN;
  let text = '';
  return () => {
    const now = Math.floor(Date.now() / MS_PER_DAY);
    if (now !== day) {
      day = now;
      text = todayPlus(days, new Date(now * MS_PER_DAY));
    }
    return text;
  };
}

/** Compares the cell, read as a date with the default matchers, with today plus `days`. */
function todayComparator(days: number): Comparator {
  const today = createToday(days);
  return (cell) => {
    const date = toFhirDate(cell, DEFAULT_DATE_MATCHERS);
    return date === undefined ? undefined : compareTexts(date, today());
  };
}

function comparatorOf(value: string | number | boolean | { today: number }): Comparator {
  if (typeof value === 'object') {
    return todayComparator(value.today);
  }
  if (typeof value === 'boolean') {
    return numberComparator(value ? 1 : 0);
  }
  return typeof value === 'number' ? numberComparator(value) : textComparator(value);
}

const isNull = (cell: unknown) => cell === null || cell === undefined;

/** One comparison as a predicate over its cell. */
function compileComparison(comparison: Comparison): (cell: unknown) => boolean {
  switch (comparison.op) {
    case 'isNull':
      return isNull;
    case 'notNull':
      return (cell) => !isNull(cell);
    case 'in':
    case 'notIn': {
      const comparators = comparison.value.map(comparatorOf);
      const wanted = comparison.op === 'in';
      return (cell) => {
        if (isNull(cell)) {
          return false;
        }
        for (const compare of comparators) {
          const c = compare(cell);
          if (c === undefined) {
            return false;
          }
          if (c === 0) {
            return wanted;
          }
        }
        return !wanted;
      };
    }
    default: {
      const compare = comparatorOf(comparison.value);
      const holds = OP_TESTS[comparison.op];
      return (cell) => {
        if (isNull(cell)) {
          return false;
        }
        const c = compare(cell);
        return c !== undefined && holds(c);
      };
    }
  }
}

const OP_TESTS: Readonly<Record<'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', (c: number) => boolean>> =
  {
    eq: (c) => c === 0,
    ne: (c) => c !== 0,
    lt: (c) => c < 0,
    le: (c) => c <= 0,
    gt: (c) => c > 0,
    ge: (c) => c >= 0,
  };

/** Compiles a condition list (ANDed) into one predicate over a row keyed by column reference. */
export function compileConditions(conditions: readonly Comparison[]): RowPredicate {
  const tests = conditions.map((c) => ({ column: c.column, holds: compileComparison(c) }));
  if (tests.length === 1) {
    const [only] = tests as [(typeof tests)[number]];
    const { column, holds } = only;
    return (row) => holds(row[column]);
  }
  return (row) => {
    for (const { column, holds } of tests) {
      if (!holds(row[column])) {
        return false;
      }
    }
    return true;
  };
}

/** The columns a condition list reads, each once, in order. */
export function conditionColumns(conditions: readonly Comparison[]): string[] {
  return [...new Set(conditions.map((c) => c.column))];
}
