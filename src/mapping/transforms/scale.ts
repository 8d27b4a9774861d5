import { z } from 'zod';
import { roundNumber, toNumber } from './number.js';
import type { TransformFn } from './transform-types.js';
import { DecimalsSchema } from './unit.js';

/**
 * `scale`: `value * factor + offset`, for conversions the `unit` table leaves out on purpose
 * (analyte-specific ones such as glucose mg/dL -> mmol/L, factor 0.0555) and for columns stored
 * in odd units (tenths of a degree).
 */
export const ScaleOptionsSchema = z.strictObject({
  fn: z.literal('scale'),
  /** The multiplier. */
  factor: z.number().refine((n) => Number.isFinite(n) && n !== 0, {
    error: 'factor is a finite number other than 0',
  }),
  /** Added after multiplying. @default 0 */
  offset: z.number().optional(),
  /** Decimal places to round to. @default 10 (removes floating-point noise only) */
  decimals: DecimalsSchema.optional(),
});

export type ScaleOptions = z.infer<typeof ScaleOptionsSchema>;

export function createScale(options: ScaleOptions): TransformFn {
  const offset = options.offset ?? 0;
  return (value) => {
    const n = toNumber(value);
    return n === undefined ? undefined : roundNumber(n * options.factor + offset, options.decimals);
  };
}
