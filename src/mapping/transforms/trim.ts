import { z } from 'zod';
import { toText } from './cell-values.js';
import type { TransformFn } from './transform-types.js';

/** `trim`: strips leading and trailing whitespace (CHAR columns pad with spaces). */
export const TrimOptionsSchema = z.strictObject({ fn: z.literal('trim') });

export type TrimOptions = z.infer<typeof TrimOptionsSchema>;

/** Non-text cells become text first, so `trim` also normalises numbers into strings. */
export function createTrim(_options: TrimOptions): TransformFn {
  return (value) => toText(value)?.trim();
}
