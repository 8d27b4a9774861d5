import { gatewayError } from '../errors.js';
import type { SortSpec } from '../mapping/compiled-resource.js';
import type { SearchQuery } from '../mapping/search.js';
import { decodeCursor } from './cursor.js';

/**
 * A search as the repository takes it, whichever door it came through: GraphQL arguments
 * (`search-args.ts`) and REST query parameters (`rest/search-params.ts`) both become one. The
 * same search gives the same `key` through either door, so their cursors are the same too.
 */

/** Paging limits of searches. */
export interface ListLimits {
  /** Largest `_count` a client may ask for; more is an error, never a silent cut. @default 100 */
  readonly maxCount: number;
  /** `_count` when the client gives none. @default 20 */
  readonly defaultCount: number;
  /** Largest `_offset`; deep offsets scan the tenant's table. @default 10000 */
  readonly maxOffset: number;
}

/** A page: how many resources and from where. */
export interface PageRequest {
  readonly count: number;
  readonly offset: number;
}

/** What one search asks for, paging aside. */
export interface SearchRequest {
  readonly resourceType: string;
  readonly query: SearchQuery;
  readonly sort: readonly SortSpec[];
  /**
   * The search in one canonical string (parameter order and value order do not matter): the key
   * of cursors and of reverse-reference loaders.
   */
  readonly key: string;
}

/** Splits a value at unescaped commas (FHIR search: `\,` is a literal comma). */
export function splitValues(value: string, keepEscapes: boolean): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && i + 1 < value.length) {
      const next = value[i + 1] as string;
      current += keepEscapes ? `\\${next}` : next;
      i++;
    } else if (ch === ',') {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current);
  return out;
}

/** A search with its canonical key. */
export function toSearchRequest(
  resourceType: string,
  query: SearchQuery,
  sort: readonly SortSpec[],
): SearchRequest {
  const canonical = query
    .map((q) => [q.code, q.modifier ?? '', [...q.values].sort()] as const)
    .sort((x, y) => (`${x[0]}:${x[1]}` < `${y[0]}:${y[1]}` ? -1 : 1));
  return {
    resourceType,
    query,
    sort,
    key: JSON.stringify([resourceType, canonical, sort.map((s) => [s.code, s.descending])]),
  };
}

/** `_count` and `_offset` (absent: the defaults), checked against the limits. */
export function toPageRequest(
  count: number | null | undefined,
  offset: number | null | undefined,
  limits: ListLimits,
): PageRequest {
  const c = count ?? limits.defaultCount;
  const o = offset ?? 0;
  if (!Number.isSafeInteger(c) || c < 0 || c > limits.maxCount) {
    throw gatewayError('BAD_USER_INPUT', `_count must be between 0 and ${limits.maxCount}.`, {
      argument: '_count',
      max: limits.maxCount,
    });
  }
  if (!Number.isSafeInteger(o) || o < 0 || o > limits.maxOffset) {
    throw gatewayError('BAD_USER_INPUT', `_offset must be between 0 and ${limits.maxOffset}.`, {
      argument: '_offset',
      max: limits.maxOffset,
    });
  }
  return { count: c, offset: o };
}

/**
 * The page a cursor opens, when there is one; it must agree with any `_count` also given and
 * leaves no room for `_offset`. Without a cursor, the page `_count`/`_offset` say.
 */
export function resolvePage(
  given: {
    readonly cursor?: string | undefined;
    readonly count?: number | null | undefined;
    readonly offset?: number | null | undefined;
  },
  search: SearchRequest,
  limits: ListLimits,
): PageRequest {
  const requested = toPageRequest(given.count, given.offset, limits);
  if (given.cursor === undefined) {
    return requested;
  }
  const page = decodeCursor(given.cursor, search.key, limits);
  if (
    (typeof given.count === 'number' && given.count !== page.count) ||
    typeof given.offset === 'number'
  ) {
    throw gatewayError(
      'BAD_USER_INPUT',
      'A cursor fixes the page: leave out _offset, and give _count only as the cursor has it.',
      { argument: '_cursor' },
    );
  }
  return page;
}
