import { z } from 'zod';
import { toText } from './cell-values.js';
import type { TransformFn } from './transform-types.js';

/**
 * `valueMap`: translates legacy codes into FHIR codes (`"M"` -> `"male"`). The cell is trimmed
 * before the lookup, because CHAR columns pad.
 */
export const ValueMapOptionsSchema = z.strictObject({
  fn: z.literal('valueMap'),
  /** Legacy value -> FHIR value. */
  map: z.record(z.string().max(200), z.string().max(200)),
  /** The value for a non-empty cell that is not in `map`. @default absent */
  default: z.string().min(1).max(200).optional(),
  /** Match keys ignoring case (`"m"` finds `"M"`). @default false */
  caseInsensitive: z.boolean().optional(),
});

export type ValueMapOptions = z.infer<typeof ValueMapOptionsSchema>;

/**
 * A missing cell stays absent even when `default` is set: "we do not know" is not the same as
 * "the legacy code was something else".
 */
export function createValueMap(options: ValueMapOptions): TransformFn {
  const fold = options.caseInsensitive === true;
  const lookup = new Map<string, string>();
  for (const [from, to] of Object.entries(options.map)) {
    const key = fold ? from.trim().toLowerCase() : from.trim();
    // The first spelling wins when case folding makes two keys collide.
    if (!lookup.has(key)) {
      lookup.set(key, to);
    }
  }
  return (value) => {
    const text = toText(value)?.trim();
    if (text === undefined) {
      return undefined;
    }
    const mapped = lookup.get(fold ? text.toLowerCase() : text);
    if (mapped !== undefined) {
      return mapped;
    }
    return text === '' ? undefined : options.default;
  };
}
