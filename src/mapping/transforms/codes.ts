import { z } from 'zod';
import { toText } from './cell-values.js';
import type { TransformFn } from './transform-types.js';

/**
 * `codes`: reads a cell of prefixed codes into a CodeableConcept. Legacy systems keep several
 * codings of one diagnosis in one column, `'ICD10:E11.9;SNOMED:44054006'`; each prefix names a
 * code system. Parts whose prefix is not listed are skipped, not guessed.
 */

/** A code-system URL: no whitespace, as FHIR `uri` requires. */
const SystemUrlSchema = z
  .string()
  .min(1)
  .max(500)
  .regex(/^\S+$/, { error: 'a code system is a URL without spaces' });

export const CodesOptionsSchema = z
  .strictObject({
    fn: z.literal('codes'),
    /**
     * Prefix -> code-system URL (`"ICD10": "http://hl7.org/fhir/sid/icd-10"`). Prefixes match
     * ignoring case. @default {} (only `default` applies)
     */
    systems: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, {
          error: 'a code prefix is letters, digits, _ . or -, at most 40',
        }),
        SystemUrlSchema,
      )
      .optional(),
    /** What separates codings in the cell. @default ';' */
    separator: z.string().min(1).max(5).optional(),
    /** The system of parts without a prefix; without it such parts are skipped. @default none */
    default: SystemUrlSchema.optional(),
  })
  .refine((o) => Object.keys(o.systems ?? {}).length > 0 || o.default !== undefined, {
    error: 'codes needs systems, default, or both',
  });

export type CodesOptions = z.infer<typeof CodesOptionsSchema>;

/** One coding `codes` writes. */
export interface CodeOnly {
  system: string;
  code: string;
}

/** The FHIR `code` primitive: no leading, trailing or doubled whitespace. */
const FHIR_CODE = /^[^\s]+(\s[^\s]+)*$/;

/** The most codings read from one cell; the rest of a runaway cell is ignored. */
export const MAX_CODES_PER_CELL = 50;

export function createCodes(options: CodesOptions): TransformFn {
  const separator = options.separator ?? ';';
  const systems = new Map<string, string>();
  for (const [prefix, system] of Object.entries(options.systems ?? {})) {
    // The first spelling wins when case folding makes two prefixes collide.
    if (!systems.has(prefix.toLowerCase())) {
      systems.set(prefix.toLowerCase(), system);
    }
  }
  return (value) => {
    const text = toText(value);
    if (text === undefined) {
      return undefined;
    }
    const coding: CodeOnly[] = [];
    const seen = new Set<string>();
    for (const raw of text.split(separator).slice(0, MAX_CODES_PER_CELL)) {
      const part = raw.trim();
      const colon = part.indexOf(':');
      const system =
        colon < 0 ? options.default : systems.get(part.slice(0, colon).trim().toLowerCase());
      const code = (colon < 0 ? part : part.slice(colon + 1)).trim();
      const key = `${system ?? ''}|${code}`;
      if (system !== undefined && FHIR_CODE.test(code) && !seen.has(key)) {
        seen.add(key);
        coding.push({ system, code });
      }
    }
    return coding.length === 0 ? undefined : { coding };
  };
}
