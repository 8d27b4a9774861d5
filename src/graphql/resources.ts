import type { GatewayContext } from '../context.js';
import { gatewayError } from '../errors.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { FhirJson } from '../fhir/fhir-json.js';
import { type ListLimits, type PageRequest, resolvePage } from '../repository/search-request.js';
import type { ResultPage } from '../repository/tenant-repository.js';
import type { GatewayBuilder } from './builder.js';
import { type ConnectionRef, registerConnectionType } from './connection.js';
import type { FhirTypeRefs } from './fhir-types.js';
import {
  assertWhole,
  type SearchArgument,
  searchArgumentsOf,
  searchFieldArgs,
  toListPage,
  toParsedSearch,
} from './search-args.js';
import { selectsAnyField } from './selection.js';

/** Fields of `XConnection` whose value needs the total, and so the COUNT statement. */
const NEEDS_TOTAL: ReadonlySet<string> = new Set(['count', 'last']);

/** The page of a connection: from `cursor`/`_cursor` when given, else `_count`/`_offset`. */
export function connectionPage(
  args: Record<string, unknown>,
  search: Parameters<typeof resolvePage>[1],
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
  return resolvePage(
    {
      cursor: typeof cursor === 'string' ? cursor : undefined,
      count: args['_count'] as number | null | undefined,
      offset: args['_offset'] as number | null | undefined,
    },
    search,
    limits,
  );
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
): ReadonlyMap<string, ConnectionRef> {
  const connections = new Map<string, ConnectionRef>();
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
          // Checked first, so an unmapped type is reported before a missing argument.
          ctx.repository.resource(resourceType);
          const id = args.id ?? args._id;
          if (id === null || id === undefined || (args.id != null && args._id != null)) {
            throw gatewayError('BAD_USER_INPUT', 'Give exactly one of id and _id.');
          }
          return ctx.repository.read(resourceType, String(id));
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
    connections.set(resourceType, connection);
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
  return connections;
}

function searchList(
  ctx: GatewayContext,
  resourceType: string,
  searchArgs: readonly SearchArgument[],
  args: Record<string, unknown>,
  limits: ListLimits,
): Promise<FhirJson[]> {
  ctx.repository.resource(resourceType);
  const page = toListPage(args, limits);
  const search = toParsedSearch(resourceType, searchArgs, args);
  return ctx.repository
    .search(search, page)
    .then((found) => assertWhole(found, args, limits) as FhirJson[]);
}

function searchConnection(
  ctx: GatewayContext,
  resourceType: string,
  searchArgs: readonly SearchArgument[],
  args: Record<string, unknown>,
  limits: ListLimits,
  wantsTotal: boolean,
): Promise<ResultPage> {
  ctx.repository.resource(resourceType);
  const search = toParsedSearch(resourceType, searchArgs, args);
  const page = connectionPage(args, search, limits);
  return ctx.repository.searchPage(search, page, { limits, withTotal: wantsTotal });
}
