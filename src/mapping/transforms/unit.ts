import { z } from 'zod';
import { roundNumber, toNumber } from './number.js';
import type { TransformFn } from './transform-types.js';

/**
 * `unit`: converts a measurement between UCUM units, for legacy columns kept in pounds, inches or
 * degrees Fahrenheit. The table is small on purpose: only conversions that are exact and need no
 * knowledge of the analyte. `mg/dL` to `mmol/L` depends on the substance (glucose differs from
 * cholesterol), so it is not here; use `scale` with the analyte's factor.
 */

type Dimension = 'mass' | 'length' | 'temperature';

interface UnitDef {
  readonly dimension: Dimension;
  /** Multiplies into the dimension's base unit (kg, m, K). */
  readonly factor: number;
  /** Added after multiplying (temperature only). */
  readonly offset: number;
}

/** The UCUM codes `unit` converts between. */
export const UNIT_TABLE: Readonly<Record<string, UnitDef>> = {
  kg: { dimension: 'mass', factor: 1, offset: 0 },
  g: { dimension: 'mass', factor: 0.001, offset: 0 },
  '[lb_av]': { dimension: 'mass', factor: 0.45359237, offset: 0 },
  '[oz_av]': { dimension: 'mass', factor: 0.028349523125, offset: 0 },
  m: { dimension: 'length', factor: 1, offset: 0 },
  cm: { dimension: 'length', factor: 0.01, offset: 0 },
  mm: { dimension: 'length', factor: 0.001, offset: 0 },
  '[in_i]': { dimension: 'length', factor: 0.0254, offset: 0 },
  '[ft_i]': { dimension: 'length', factor: 0.3048, offset: 0 },
  K: { dimension: 'temperature', factor: 1, offset: 0 },
  Cel: { dimension: 'temperature', factor: 1, offset: 273.15 },
  '[degF]': { dimension: 'temperature', factor: 5 / 9, offset: 459.67 * (5 / 9) },
};

const UNIT_CODES = Object.keys(UNIT_TABLE) as [string, ...string[]];

/** Decimal places of a rounded result. */
export const DecimalsSchema = z.number().int().min(0).max(10);

export const UnitOptionsSchema = z
  .strictObject({
    fn: z.literal('unit'),
    /** The UCUM code of the column's unit (`[lb_av]`, `[in_i]`, `[degF]`, ...). */
    from: z.enum(UNIT_CODES),
    /** The UCUM code to write (`kg`, `cm`, `Cel`, ...); same dimension as `from`. */
    to: z.enum(UNIT_CODES),
    /** Decimal places to round to. @default 10 (removes floating-point noise only) */
    decimals: DecimalsSchema.optional(),
  })
  .refine((o) => UNIT_TABLE[o.from]?.dimension === UNIT_TABLE[o.to]?.dimension, {
    error: 'unit converts only within one dimension (mass, length or temperature)',
    path: ['to'],
  });

export type UnitOptions = z.infer<typeof UnitOptionsSchema>;

export function createUnit(options: UnitOptions): TransformFn {
  const from = UNIT_TABLE[options.from];
  const to = UNIT_TABLE[options.to];
  if (from === undefined || to === undefined) {
    throw new Error('createUnit: unknown unit');
  }
  return (value) => {
    const n = toNumber(value);
    if (n === undefined) {
      return undefined;
    }
    const base = n * from.factor + from.offset;
    return roundNumber((base - to.offset) / to.factor, options.decimals);
  };
}
