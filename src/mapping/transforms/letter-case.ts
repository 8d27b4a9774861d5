import { z } from 'zod';
import { toText } from './cell-values.js';
import type { TransformFn } from './transform-types.js';

/** `uppercase`: upper-cases text (for code systems that expect upper-case codes). */
export const UppercaseOptionsSchema = z.strictObject({ fn: z.literal('uppercase') });

/** `lowercase`: lower-cases text (FHIR codes such as `male` are lower-case). */
export const LowercaseOptionsSchema = z.strictObject({ fn: z.literal('lowercase') });

export type UppercaseOptions = z.infer<typeof UppercaseOptionsSchema>;
export type LowercaseOptions = z.infer<typeof LowercaseOptionsSchema>;

/** Locale-independent on purpose: a server locale must not change what a code becomes. */
export function createUppercase(_options: UppercaseOptions): TransformFn {
  return (value) => toText(value)?.toUpperCase();
}

/** Locale-independent on purpose: a server locale must not change what a code becomes. */
export function createLowercase(_options: LowercaseOptions): TransformFn {
  return (value) => toText(value)?.toLowerCase();
}
