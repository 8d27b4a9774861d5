/**
 * Containers nested this deep or deeper are written by one `JSON.stringify` call each: a
 * searchset's `entry[i].resource`, a GraphQL result's `data.alias[i].field`. Above it the text is
 * written piece by piece, so a large answer is cut into pieces of about one resource (or one
 * nested list) between which the writer can yield.
 */
const WHOLE_AT_DEPTH = 3;

function isPlainContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (value === null || typeof value !== 'object') {
    return false;
  }
  // Anything with its own JSON form (a Date, an object with toJSON) is left to JSON.stringify.
  return typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** The JSON text of `value` as pieces whose concatenation is `JSON.stringify(value)`. */
function* pieces(value: unknown, depth: number): Generator<string, void, undefined> {
  if (depth >= WHOLE_AT_DEPTH || !isPlainContainer(value)) {
    // `undefined` (or a function) at the top has no JSON text; inside containers it is handled
    // by the caller as JSON.stringify would (skipped in objects, `null` in arrays).
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  if (Array.isArray(value)) {
    yield '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) {
        yield ',';
      }
      const item = value[i];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') {
        yield 'null';
      } else {
        yield* pieces(item, depth + 1);
      }
    }
    yield ']';
    return;
  }
  yield '{';
  let first = true;
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') {
      continue;
    }
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    yield* pieces(item, depth + 1);
  }
  yield '}';
}

/** A cap on the UTF-8 bytes of the text, and what passing it does (it throws). */
export interface ByteCap {
  readonly maxBytes: number;
  readonly exceeded: () => never;
}

/** Characters of pieces joined into one string as they are written. */
export const CHARS_PER_JOIN = 64 * 1024;

/**
 * The text of `JSON.stringify(value)` (see {@link WHOLE_AT_DEPTH}) in parts of about
 * `CHARS_PER_JOIN` characters, for a caller that joins them once with whatever wraps them:
 * `onPiece` gets each piece's length in UTF-16 code units and may return a promise to wait for
 * before the next piece (a yield to the event loop). Past `cap.maxBytes` UTF-8 bytes,
 * `cap.exceeded` is called.
 *
 * The pieces are joined into parts as they are written, inside the slices that write them: a
 * heavy read's answer is tens of thousands of pieces, and one join of all of them at the end held
 * the event loop for 2-3 ms while every other tenant waited; a few dozen parts join in a copy.
 *
 * The bytes are counted exactly only once the text could pass the cap, at three bytes per code
 * unit: before that its length bounds it. Measuring a piece (`Buffer.byteLength`) flattens the
 * string JSON.stringify built from parts, a copy of the whole text that nothing else uses.
 */
export async function writeInPieces(
  value: unknown,
  onPiece: (chars: number) => Promise<void> | undefined,
  cap?: ByteCap,
): Promise<string[]> {
  const out: string[] = [];
  // Pieces written since the last join, and their length.
  let group: string[] = [];
  let grouped = 0;
  const join = (): void => {
    out.push(group.length === 1 ? (group[0] as string) : group.join(''));
    group = [];
    grouped = 0;
  };
  let chars = 0;
  // Exact UTF-8 bytes so far, once they are measured.
  let bytes: number | undefined;
  for (const piece of pieces(value, 0)) {
    group.push(piece);
    grouped += piece.length;
    chars += piece.length;
    if (cap !== undefined) {
      if (bytes !== undefined) {
        bytes += Buffer.byteLength(piece);
      } else if (chars * 3 > cap.maxBytes) {
        bytes = 0;
        for (const written of out) {
          bytes += Buffer.byteLength(written);
        }
        for (const written of group) {
          bytes += Buffer.byteLength(written);
        }
      }
      // Until measured, at most `cap.maxBytes / 3` code units: below the cap, whatever they are.
      if (bytes !== undefined && bytes > cap.maxBytes) {
        cap.exceeded();
      }
    }
    if (grouped >= CHARS_PER_JOIN) {
      join();
    }
    const wait = onPiece(piece.length);
    if (wait !== undefined) {
      await wait;
    }
  }
  if (group.length > 0) {
    join();
  }
  return out;
}

/**
 * Whether `text` is longer than `maxBytes` in UTF-8, measuring it only when its length leaves
 * that open (see {@link writeInPieces} for why not always).
 */
export function longerThan(text: string, maxBytes: number): boolean {
  return (
    text.length > maxBytes || (text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes)
  );
}
