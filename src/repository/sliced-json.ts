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

/**
 * `JSON.stringify(value)`, written in pieces (see {@link WHOLE_AT_DEPTH}): `onPiece` gets each
 * piece's size in UTF-8 bytes and may throw (a size cap) or return a promise to wait for before
 * the next piece (a yield to the event loop).
 */
export async function stringifyInPieces(
  value: unknown,
  onPiece: (bytes: number) => Promise<void> | undefined,
): Promise<string> {
  const out: string[] = [];
  for (const piece of pieces(value, 0)) {
    out.push(piece);
    const wait = onPiece(Buffer.byteLength(piece));
    if (wait !== undefined) {
      await wait;
    }
  }
  return out.join('');
}
