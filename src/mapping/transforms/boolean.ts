import { z } from 'zod';
import type { TransformFn } from './transform-types.js';

const BooleanTokenSchema = z.union([z.string().max(50), z.number()]);

/**
 * `boolean`: reads legacy flags. Defaults cover TINYINT `1`/`0`, `'Y'`/`'N'`, Spanish
 * `'S'`/`'N'` (si/no), `'T'`/`'F'` and `'true'`/`'false'`. Listing `true` or `false` replaces that
 * side's defaults.
 */
export const BooleanOptionsSchema = z.strictObject({
  fn: z.literal('boolean'),
  /** Values that mean true. @default ['1','Y','y','S','s','T','t','true','TRUE',1] */
  true: z.array(BooleanTokenSchema).min(1).max(50).optional(),
  /** Values that mean false. @default ['0','N','n','F','f','false','FALSE',0] */
  false: z.array(BooleanTokenSchema).min(1).max(50).optional(),
});

export type BooleanOptions = z.infer<typeof BooleanOptionsSchema>;

/** The default true values; see {@link BooleanOptionsSchema}. */
export const DEFAULT_TRUE_VALUES: readonly (string | number)[] = [
  '1',
  'Y',
  'y',
  'S',
  's',
  'T',
  't',
  'true',
  'TRUE',
  1,
];

/** The default false values; see {@link BooleanOptionsSchema}. */
export const DEFAULT_FALSE_VALUES: readonly (string | number)[] = [
  '0',
  'N',
  'n',
  'F',
  'f',
  'false',
  'FALSE',
  0,
];

/**
 * Converts a cell to a boolean with the given value lists; anything unlisted is absent. Strings
 * are trimmed (CHAR padding), a one-byte Buffer is read as a number (MySQL `BIT(1)`), and a real
 * boolean passes through.
 */
export function toBooleanWith(
  trueValues: ReadonlySet<string | number>,
  falseValues: ReadonlySet<string | number>,
  value: unknown,
): boolean | undefined {
  if (typeof value === 'boolean') {
    return value;
  }
  let key: string | number | undefined;
  if (typeof value === 'string') {
    key = value.trim();
  } else if (typeof value === 'number') {
    key = value;
  } else if (typeof value === 'bigint') {
    key = Number(value);
  } else if (Buffer.isBuffer(value) && value.length === 1) {
    key = value[0];
  }
  if (key === undefined) {
    return undefined;
  }
  if (trueValues.has(key)) {
    return true;
  }
  if (falseValues.has(key)) {
    return false;
  }
  return undefined;
}

const DEFAULT_TRUE_SET: ReadonlySet<string | number> = new Set(DEFAULT_TRUE_VALUES);
const DEFAULT_FALSE_SET: ReadonlySet<string | number> = new Set(DEFAULT_FALSE_VALUES);

/** The default rules, also used by boolean elements that have no transform. */
export function toBooleanDefault(value: unknown): boolean | undefined {
  return toBooleanWith(DEFAULT_TRUE_SET, DEFAULT_FALSE_SET, value);
}

export function createBoolean(options: BooleanOptions): TransformFn {
  const trueValues = new Set(options.true ?? DEFAULT_TRUE_VALUES);
  const falseValues = new Set(options.false ?? DEFAULT_FALSE_VALUES);
  return (value) => toBooleanWith(trueValues, falseValues, value);
}
