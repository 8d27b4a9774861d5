import { z } from 'zod';
import { toCollapsedText } from './cell-values.js';
import type { TransformFn } from './transform-types.js';

/**
 * `splitName`: splits one full-name column into a HumanName (`family`, `given[]`, `text`). Legacy
 * systems often keep "JUAN CARLOS PEREZ GONZALEZ" in one column; Chilean and Spanish names carry
 * two surnames, hence `familyCount: 2`. A comma always means "Family, Given", whatever `order`.
 */
export const SplitNameOptionsSchema = z.strictObject({
  fn: z.literal('splitName'),
  /** Whether given names come first ("JUAN PEREZ") or last ("PEREZ JUAN"). @default 'givenFirst' */
  order: z.enum(['givenFirst', 'familyFirst']).optional(),
  /** How many words form the family name. @default 1 */
  familyCount: z.literal([1, 2]).optional(),
});

export type SplitNameOptions = z.infer<typeof SplitNameOptionsSchema>;

/** What `splitName` produces; the compiler only lets it feed a HumanName element. */
export interface SplitName {
  family?: string;
  given?: string[];
  text: string;
}

/**
 * Lower-case particles that belong to the next word: "DE LA FUENTE" is one surname and
 * "MARIA DEL CARMEN" keeps "DEL CARMEN" together. "Y" is left out on purpose: in "ORTEGA Y GASSET"
 * it joins two surnames, and guessing wrong would move a given name into the family name.
 */
const PARTICLES: ReadonlySet<string> = new Set([
  'de',
  'del',
  'la',
  'las',
  'los',
  'da',
  'das',
  'do',
  'dos',
  'di',
  'van',
  'von',
  'der',
  'den',
]);

/** Groups words so that particles stay attached to the word they precede. */
function nameWords(text: string): string[] {
  const words: string[] = [];
  let pending = '';
  for (const token of text.split(' ')) {
    if (PARTICLES.has(token.toLowerCase())) {
      pending = pending === '' ? token : `${pending} ${token}`;
      continue;
    }
    words.push(pending === '' ? token : `${pending} ${token}`);
    pending = '';
  }
  if (pending !== '') {
    // Trailing particles ("JUAN DE") have nothing to attach to; keep them as their own word.
    words.push(pending);
  }
  return words;
}

/** Splits one full name; `undefined` for a blank cell. */
export function splitFullName(value: unknown, options: SplitNameOptions): SplitName | undefined {
  const text = toCollapsedText(value);
  if (text === undefined) {
    return undefined;
  }
  const comma = text.indexOf(',');
  if (comma >= 0) {
    const family = text.slice(0, comma).trim();
    const givenText = text
      .slice(comma + 1)
      .replace(/,/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    const given = givenText === '' ? [] : nameWords(givenText);
    const display = [given.join(' '), family].filter((s) => s !== '').join(' ');
    return {
      ...(family === '' ? {} : { family }),
      ...(given.length === 0 ? {} : { given }),
      text: display,
    };
  }
  const words = nameWords(text);
  if (words.length === 1) {
    return { family: text, text };
  }
  // Leave at least one given name: "JUAN PEREZ" with familyCount 2 is given JUAN, family PEREZ.
  const familyCount = Math.min(options.familyCount ?? 1, words.length - 1);
  const familyFirst = options.order === 'familyFirst';
  const familyWords = familyFirst ? words.slice(0, familyCount) : words.slice(-familyCount);
  const givenWords = familyFirst ? words.slice(familyCount) : words.slice(0, -familyCount);
  return { family: familyWords.join(' '), given: givenWords, text };
}

export function createSplitName(options: SplitNameOptions): TransformFn {
  return (value) => splitFullName(value, options);
}
