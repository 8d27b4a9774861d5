import { z } from 'zod';
import { toText } from './cell-values.js';
import type { TransformFn } from './transform-types.js';

/**
 * `split`: one delimited cell into the items of a primitive array (`given`, `line`):
 * `'MARIA, JOSE'` -> `['MARIA', 'JOSE']`. Items are trimmed and empty ones dropped, so a trailing
 * separator or a double one costs nothing.
 */
export const SplitOptionsSchema = z.strictObject({
  fn: z.literal('split'),
  /** What separates the items. @default ',' */
  separator: z.string().min(1).max(5).optional(),
});

export type SplitOptions = z.infer<typeof SplitOptionsSchema>;

/** The most items read from one cell. */
export const MAX_SPLIT_ITEMS = 100;

export function createSplit(options: SplitOptions): TransformFn {
  const separator = options.separator ?? ',';
  return (value) => {
    const items =
      toText(value)
        ?.split(separator)
        .map((item) => item.trim())
        .filter((item) => item !== '')
        .slice(0, MAX_SPLIT_ITEMS) ?? [];
    return items.length === 0 ? undefined : items;
  };
}
