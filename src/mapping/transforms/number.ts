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

/** The places {@link roundNumber} keeps when no `decimals` are given. */
export const DEFAULT_DECIMALS = 10;

/**
 * Rounds to `decimals` places, by default 10: more than any clinical measurement has, and enough
 * to remove binary noise such as `0.30000000000000004` or `5.7e-14` for 32 degF in Cel.
 */
export function roundNumber(value: number, decimals = DEFAULT_DECIMALS): number | undefined {
  if (!Number.isFinite(value)) {
    return undefined;
  }
  const rounded = Number(value.toFixed(decimals));
  // -0 is not a FHIR decimal anyone wants to read.
  return rounded === 0 ? 0 : rounded;
}

export function createNumber(_options: NumberOptions): TransformFn {
  return toNumber;
}
