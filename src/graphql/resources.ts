import type { GatewayContext } from '../context.js';
import { gatewayError } from '../errors.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { MAX_SEARCH_COUNT } from '../mapping/compiled-resource.js';
import type { FhirJson, GatewayBuilder } from './builder.js';
import { type ConnectionPage, registerConnectionType } from './connection.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { FhirTypeRefs } from './fhir-types.js';
import { assertCanRead, mappedResource, translateSearchError } from './resource-access.js';
import {
  type ListLimits,
  type PageRequest,
  type ParsedSearch,
  type SearchArgument,
  searchArgumentsOf,
  searchFieldArgs,
  toPageRequest,
  toParsedSearch,
} from './search-args.js';
import { selectsAnyField } from './selection.js';

/** Fields of `XConnection` whose value needs the total, and so the COUNT statement. */
const NEEDS_TOTAL: ReadonlySet<string> = new Set(['count', 'last']);

/** A lazily started promise: `get()` starts it on first use, later calls share it. */
function lazy<T>(start: () => Promise<T>): { get(): Promise<T> } {
  let promise: Promise<T> | undefined;
  return {
    get() {
      promise ??= start();
      return promise;
    },
  };
}

/** A later read of the same id in this request is served without SQL. */
function prime(ctx: GatewayContext, resourceType: string, found: readonly FhirJson[]): void {
  const loader = ctx.loaders.byId(resourceType);
  for (const r of found) {
    loader.prime(String(r['id']), r);
  }
}

/**
 * The page of a connection: from a cursor when there is one, which must agree with any
 * `_count`/`_offset` also given, or from `_count`/`_offset`.
 */
function connectionPage(
  args: Record<string, unknown>,
  search: ParsedSearch,
  limits: ListLimits,
): PageRequest {
  const plain = args['cursor'];
  const prefixed = args['_cursor'];
  if (typeof plain === 'string' && typeof prefixed === 'string' && plain !== prefixed) {
    throw gatewayError('BAD_USER_INPUT', 'Give the cursor once, as cursor or _cursor.', {
      argument: '_cursor',
    });
  }
  const cursor = typeof prefixed === 'string' ? prefixed : plain;
  const requested = toPageRequest(args, limits);
  if (typeof cursor !== 'string') {
    return requested;
  }
  const page = decodeCursor(cursor, search.key, limits);
  const count = args['_count'];
  const offset = args['_offset'];
  if ((typeof count === 'number' && count !== page.count) || typeof offset === 'number') {
    throw gatewayError(
      'BAD_USER_INPUT',
      'A cursor fixes the page: leave out _offset, and give _count only as the cursor has it.',
      { argument: '_cursor' },
    );
  }
  return page;
}

/**
 * Adds `X(id:)`, `XList(...)` and `XConnection(...)` for each enabled resource type, named as on
 * the HL7 FHIR GraphQL page. Resolvers return FHIR JSON from the tenant's mapping; they never see
 * rows or SQL.
 */
export function registerResourceQueries(
  builder: GatewayBuilder,
  refs: FhirTypeRefs,
  defs: FhirDefinitions,
  resourceTypes: readonly string[],
  limits: ListLimits,
): void {
  for (const resourceType of resourceTypes) {
    const ref = refs.resource(resourceType);
    const searchArgs = searchArgumentsOf(defs, resourceType);

    builder.queryField(resourceType, (t) =>
      t.field({
        type: ref,
        nullable: true,
        description: `A ${resourceType} by its logical id (null when the tenant has none).`,
        args: {
          id: t.arg.id({ required: false }),
          _id: t.arg.id({ required: false, description: 'Same as `id`.' }),
        },
        resolve: (_root, args, ctx): Promise<FhirJson | null> => {
          assertCanRead(ctx);
          mappedResource(ctx, resourceType);
          const id = args.id ?? args._id;
          if (id === null || id === undefined || (args.id != null && args._id != null)) {
            throw gatewayError('BAD_USER_INPUT', 'Give exactly one of id and _id.');
          }
          // Returning through the DataLoader batches every read of this type in the operation.
          return ctx.loaders.byId(resourceType).load(String(id));
        },
      }),
    );

    builder.queryField(`${resourceType}List`, (t) =>
      t.field({
        type: [ref],
        nullable: { list: true, items: false },
        description: `Search ${resourceType} resources. Parameters AND; the values of one parameter OR.`,
        args: searchFieldArgs(t.arg, searchArgs, limits),
        resolve: (_root, args, ctx) =>
          searchList(ctx, resourceType, searchArgs, args as Record<string, unknown>, limits),
      }),
    );

    const connection = registerConnectionType(builder, resourceType, ref);
    builder.queryField(`${resourceType}Connection`, (t) =>
      t.field({
        type: connection,
        nullable: true,
        description: `Search ${resourceType} resources page by page, with cursors and a total.`,
        args: {
          ...searchFieldArgs(t.arg, searchArgs, limits),
          cursor: t.arg.string({ required: false, description: 'Same as `_cursor`.' }),
          _cursor: t.arg.string({
            required: false,
            description: 'A `first`, `previous`, `next` or `last` cursor of this same search.',
          }),
        },
        resolve: (_root, args, ctx, info) => {
          const wantsTotal = selectsAnyField(info, NEEDS_TOTAL);
          return searchConnection(
            ctx,
            resourceType,
            searchArgs,
            args as Record<string, unknown>,
            limits,
            wantsTotal,
          );
        },
      }),
    );
  }
}

async function searchList(
  ctx: GatewayContext,
  resourceType: string,
  searchArgs: readonly SearchArgument[],
  args: Record<string, unknown>,
  limits: ListLimits,
): Promise<FhirJson[]> {
  assertCanRead(ctx);
  const resource = mappedResource(ctx, resourceType);
  const page = toPageRequest(args, limits);
  const search = toParsedSearch(resourceType, searchArgs, args);
  if (page.count === 0) {
    return [];
  }
  let found: FhirJson[];
  try {
    found = await resource.search(
      ctx.tenant.executor,
      search.query,
      { ...page, sort: search.sort },
      ctx.loaders.elements(resourceType),
    );
  } catch (err) {
    return translateSearchError(err);
  }
  prime(ctx, resourceType, found);
  return found;
}

async function searchConnection(
  ctx: GatewayContext,
  resourceType: string,
  searchArgs: readonly SearchArgument[],
  args: Record<string, unknown>,
  limits: ListLimits,
  wantsTotal: boolean,
): Promise<ConnectionPage> {
  assertCanRead(ctx);
  const resource = mappedResource(ctx, resourceType);
  const search = toParsedSearch(resourceType, searchArgs, args);
  const page = connectionPage(args, search, limits);
  const exec = ctx.tenant.executor;

  const total = lazy(async () => {
    try {
      return await resource.count(exec, search.query);
    } catch (err) {
      return translateSearchError(err);
    }
  });
  // Started beside the search rather than after it; awaited (and its error surfaced) only by
  // the fields that read it.
  if (wantsTotal) {
    total.get().catch(() => undefined);
  }

  // One row more than the page says whether there is a next page, without counting.
  const probe = Math.min(page.count + 1, MAX_SEARCH_COUNT);
  let rows: FhirJson[] = [];
  if (page.count > 0) {
    try {
      rows = await resource.search(
        exec,
        search.query,
        { count: probe, offset: page.offset, sort: search.sort },
        ctx.loaders.elements(resourceType),
      );
    } catch (err) {
      return translateSearchError(err);
    }
  }
  const resources = rows.slice(0, page.count);
  prime(ctx, resourceType, resources);

  const cursorAt = (offset: number): string | null =>
    offset <= limits.maxOffset ? encodeCursor(search.key, { offset, count: page.count }) : null;
  const nextOffset = page.offset + page.count;
  let next: string | null = null;
  if (page.count > 0) {
    const more = probe > page.count ? rows.length > page.count : nextOffset < (await total.get());
    next = more ? cursorAt(nextOffset) : null;
  }
  return {
    offset: page.offset,
    pagesize: page.count,
    resources,
    first: cursorAt(0),
    previous:
      page.offset > 0 && page.count > 0 ? cursorAt(Math.max(0, page.offset - page.count)) : null,
    next,
    total: () => total.get(),
    async last() {
      const count = await total.get();
      if (page.count === 0) {
        // Pages of no resources have no last one.
        return null;
      }
      return cursorAt(count === 0 ? 0 : Math.floor((count - 1) / page.count) * page.count);
    },
  };
}
