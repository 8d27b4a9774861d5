/**
 * Helpers that read raw cell values the way every transform should: drivers hand back strings,
 * numbers, bigints, Buffers (MySQL BINARY/BIT, SQLite BLOB) and Dates, and the catalogue treats
 * them alike.
 */

/**
 * The cell as text, or `undefined` when it has no text form (null, objects other than Buffer and
 * Date). Buffers are read as UTF-8; Dates become ISO strings; numbers use `String()`.
 */
export function toText(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? String(value) : undefined;
  }
  if (typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (Buffer.isBuffer(value)) {
    return value.toString('utf8');
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  }
  return undefined;
}

/** True for values FHIR cannot carry: null, undefined, and strings that are empty or whitespace. */
export function isBlank(value: unknown): boolean {
  return (
    value === null || value === undefined || (typeof value === 'string' && value.trim() === '')
  );
}

/** Whitespace other than single inner spaces: a run, a tab or newline, or either end. */
const UNTIDY_SPACE = /\s\s|[^\S ]|^\s|\s$/;

/**
 * `text` trimmed, with runs of whitespace collapsed to one space. Most cells already are (names,
 * codes): those come back as they are, without the copy a replace makes of every string.
 */
export function collapseWhitespace(text: string): string {
  return UNTIDY_SPACE.test(text) ? text.replace(/\s+/g, ' ').trim() : text;
}

/** Trimmed text with runs of whitespace collapsed to one space; `undefined` when nothing is left. */
export function toCollapsedText(value: unknown): string | undefined {
  const text = toText(value);
  const collapsed = text === undefined ? undefined : collapseWhitespace(text);
  return collapsed === undefined || collapsed === '' ? undefined : collapsed;
}
