import { z } from 'zod';
import type { TransformFn } from './transform-types.js';

/** `number`: reads a numeric cell, including DECIMALs that mysql2 returns as strings. */
export const NumberOptionsSchema = z.strictObject({ fn: z.literal('number') });

export type NumberOptions = z.infer<typeof NumberOptionsSchema>;

const NUMERIC_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * The cell as a finite number, or `undefined`. Text must be a plain decimal literal after trimming
 * (`'12.50'`, `'-3'`); thousands separators and decimal commas are ambiguous, so they are absent.
 */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : undefined;
  }
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (!NUMERIC_TEXT.test(text)) {
      return undefined;
    }
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function createNumber(_options: NumberOptions): TransformFn {
  return toNumber;
}
