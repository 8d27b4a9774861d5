import type { TenantDatabase } from '../db/tenant-database.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { ColumnUse } from './column-use.js';
import type { LiveColumn } from './live-catalogue.js';
import { toBooleanDefault } from './transforms/boolean.js';
import {
  DEFAULT_DATE_MATCHERS,
  DEFAULT_DATE_TIME_MATCHERS,
  toFhirDate,
  toFhirDateTime,
} from './transforms/date.js';
import { toNumber } from './transforms/number.js';

/**
 * Catches a mapping that is almost certainly wrong although the column types allow it: a date,
 * boolean or number element fed from a text column whose values do not read as one (`birthDate`
 * from a name column). The catalogue cannot tell, so a bounded sample of the column's non-empty
 * values is read and judged in memory. Values never leave this module: the message says how many
 * of how many sampled values fit, never what they are.
 */

/** Rows read per sampled column. */
export const SAMPLE_ROWS = 50;

/** What a sampled value must read as, and how that is judged. */
interface Expectation {
  /** `can be read as a date`, ...: completes "none of the 50 sampled values ...". */
  readonly what: string;
  readonly fits: (value: unknown) => boolean;
}

const HAS_DIGIT = /\d/;

/** Transforms that may turn any text into the element's type (their options list the values). */
const MAPPING_TRANSFORMS: ReadonlySet<string> = new Set(['valueMap', 'boolean', 'codes']);
/** Transforms that keep the value's meaning: the default readers still judge it. */
const NEUTRAL_TRANSFORMS: ReadonlySet<string> = new Set(['trim', 'uppercase', 'lowercase']);

/** How the values of a text column feeding `use` should read, or `undefined` to skip it. */
function expectationOf(use: ColumnUse, defs: FhirDefinitions): Expectation | undefined {
  if (use.fhirType === undefined || use.transforms.some((t) => MAPPING_TRANSFORMS.has(t))) {
    return undefined;
  }
  const plain = use.transforms.every((t) => NEUTRAL_TRANSFORMS.has(t));
  const type = use.fhirType;
  if (type === 'date' || type === 'dateTime' || type === 'instant') {
    const word = type === 'date' ? 'a date' : `a ${type}`;
    if (!plain) {
      // A date transform names its own formats, which are not known here: a date has digits.
      return {
        what: `can be ${word} in any format (it has digits)`,
        fits: (v) => HAS_DIGIT.test(String(v)),
      };
    }
    return type === 'date'
      ? {
          what: `can be read as ${word}`,
          fits: (v) => toFhirDate(v, DEFAULT_DATE_MATCHERS) !== undefined,
        }
      : {
          what: `can be read as ${word}`,
          fits: (v) => toFhirDateTime(v, DEFAULT_DATE_TIME_MATCHERS, 'UTC') !== undefined,
        };
  }
  const primitive = defs.type(type);
  if (primitive?.kind !== 'primitive') {
    return undefined;
  }
  if (primitive.json === 'boolean') {
    return plain
      ? { what: 'can be read as a boolean', fits: (v) => toBooleanDefault(v) !== undefined }
      : undefined;
  }
  if (primitive.json === 'number') {
    return plain
      ? { what: 'can be read as a number', fits: (v) => toNumber(v) !== undefined }
      : {
          what: 'can be a number in any format (it has digits)',
          fits: (v) => HAS_DIGIT.test(String(v)),
        };
  }
  return undefined;
}

/** Whether {@link sampleProblem} would read `column` for `use`. */
export function needsSample(use: ColumnUse, column: LiveColumn, defs: FhirDefinitions): boolean {
  return column.kind === 'text' && expectationOf(use, defs) !== undefined;
}

/**
 * Reads up to {@link SAMPLE_ROWS} non-empty values of the text column feeding `use` and returns a
 * warning message when fewer than half of them read as the element's type; `undefined` when they
 * fit, when the column is empty, or when the use is not judged (see {@link needsSample}).
 */
export async function sampleProblem(
  database: TenantDatabase,
  use: ColumnUse,
  column: LiveColumn,
  defs: FhirDefinitions,
): Promise<string | undefined> {
  const expectation = column.kind === 'text' ? expectationOf(use, defs) : undefined;
  if (expectation === undefined) {
    return undefined;
  }
  const q = database.dialect.quoteId;
  const rows = await database.query({
    sql:
      `SELECT ${q(use.column)} AS v FROM ${q(use.table)} ` +
      `WHERE ${q(use.column)} IS NOT NULL AND ${q(use.column)} <> '' LIMIT ${SAMPLE_ROWS}`,
    params: [],
  });
  const n = rows.length;
  const fitting = rows.filter((row) => expectation.fits(row['v'])).length;
  if (n === 0 || fitting * 2 >= n) {
    return undefined;
  }
  const share = fitting === 0 ? `none of the ${n}` : `only ${fitting} of the ${n}`;
  return `${share} sampled values of column "${use.column}" (${column.type}) ${expectation.what}, yet it feeds a ${use.fhirType} element; is it the right column?`;
}
