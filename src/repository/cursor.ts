import { createHash } from 'node:crypto';
import { gatewayError } from '../errors.js';
import type { ListLimits, PageRequest } from './search-request.js';

/**
 * Opaque `XConnection` cursors: base64url of `{"o":offset,"c":count,"h":hash}`, where the hash
 * covers the search (type, parameters, sort) and the page. A cursor therefore only opens a page
 * of the search that produced it, and an edited offset or count no longer matches its hash.
 * The hash is not keyed: this is a check against mistakes and casual edits, not a security
 * boundary, and needs none: a forged cursor gives nothing that `_offset` and `_count` would not.
 * Unkeyed, cursors survive restarts and work on every replica.
 */

/** Longer input is refused before decoding. */
const MAX_CURSOR_LENGTH = 256;

const DOMAIN = 'fhirgate-cursor/1';

function hashOf(searchKey: string, page: PageRequest): string {
  return createHash('sha256')
    .update(`${DOMAIN}\n${searchKey}\n${page.offset}\n${page.count}`)
    .digest('base64url')
    .slice(0, 22);
}

/** The cursor of one page of the search `searchKey` (see `ParsedSearch.key`). */
export function encodeCursor(searchKey: string, page: PageRequest): string {
  const body = JSON.stringify({ o: page.offset, c: page.count, h: hashOf(searchKey, page) });
  return Buffer.from(body, 'utf8').toString('base64url');
}

function invalidCursor() {
  return gatewayError('BAD_USER_INPUT', 'The cursor does not belong to this search.', {
    argument: '_cursor',
  });
}

function isPageNumber(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max;
}

/**
 * The page a cursor opens, when it was made for the search `searchKey` and fits the limits;
 * `BAD_USER_INPUT` for anything else (another search's cursor, an edited one, garbage).
 */
export function decodeCursor(cursor: string, searchKey: string, limits: ListLimits): PageRequest {
  if (
    cursor.length === 0 ||
    cursor.length > MAX_CURSOR_LENGTH ||
    !/^[A-Za-z0-9_-]+$/.test(cursor)
  ) {
    throw invalidCursor();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidCursor();
  }
  const { o, c, h } = parsed as Record<string, unknown>;
  if (
    !isPageNumber(o, limits.maxOffset) ||
    !isPageNumber(c, limits.maxCount) ||
    typeof h !== 'string'
  ) {
    throw invalidCursor();
  }
  const page = { offset: o, count: c };
  // Byte for byte what we hand out: no other encoding of the same page (padding bits, a
  // trailing character base64 ignores, reordered keys) is accepted.
  if (h !== hashOf(searchKey, page) || cursor !== encodeCursor(searchKey, page)) {
    throw invalidCursor();
  }
  return page;
}
