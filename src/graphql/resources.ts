import { hasRole } from '../auth/principal.js';
import type { GatewayContext } from '../context.js';
import { gatewayError } from '../errors.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { CompiledResource } from '../mapping/compiled-resource.js';
import type { SearchQuery } from '../mapping/search.js';
import type { FhirJson, GatewayBuilder } from './builder.js';
import type { FhirTypeRefs } from './fhir-types.js';

/** Paging limits of the `XList` fields. */
export interface ListLimits {
  /** Largest `_count` a client may ask for; more is an error, never a silent cut. @default 100 */
  readonly maxCount: number;
  /** `_count` when the client gives none. @default 20 */
  readonly defaultCount: number;
  /** Largest `_offset`; deep offsets scan the tenant's table. @default 10000 */
  readonly maxOffset: number;
}

/** Search parameter types the `XList` fields expose as arguments. */
const EXPOSED_PARAM_TYPES = new Set(['string', 'token', 'date', 'reference', 'number', 'uri']);

/** FHIR search codes use `-`; GraphQL names cannot, so the FHIR GraphQL page writes `_`. */
export function toArgumentName(code: string): string {
  return code.replace(/-/g, '_');
}

function assertCanRead(ctx: GatewayContext): void {
  if (!hasRole(ctx.principal, 'fhir-read')) {
    throw gatewayError('FORBIDDEN', 'Reading resources needs the fhir-read role.');
  }
}

function mappedResource(ctx: GatewayContext, resourceType: string): CompiledResource {
  const resource = ctx.tenant.runtime.mapping.resource(resourceType);
  if (resource === undefined) {
    throw gatewayError(
      'RESOURCE_NOT_SUPPORTED',
      `This tenant does not serve ${resourceType} resources.`,
      { resourceType },
    );
  }
  return resource;
}

/** Errors the mapping engine raises for a search it cannot run carry a code and a fixed message. */
function translateSearchError(err: unknown): never {
  const code = (err as { code?: unknown }).code;
  if (code === 'SEARCH_PARAM_NOT_SUPPORTED' || code === 'BAD_USER_INPUT') {
    throw gatewayError(code, (err as Error).message);
  }
  throw err;
}

/**
 * Adds `X(id:)` and `XList(...)` for each enabled resource type, named as on the HL7 FHIR GraphQL
 * page. Resolvers return FHIR JSON from the tenant's mapping; they never see rows or SQL.
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

    const params = [
      { code: '_id', type: 'token', description: 'Logical id.' },
      ...defs.searchParams(resourceType).filter((p) => p.code !== '_id'),
    ].filter((p) => EXPOSED_PARAM_TYPES.has(p.type));

    builder.queryField(`${resourceType}List`, (t) => {
      const args = {
        _count: t.arg.int({
          required: false,
          description: `Page size, at most ${limits.maxCount} (default ${limits.defaultCount}).`,
        }),
        _offset: t.arg.int({ required: false, description: 'Rows to skip.' }),
        ...Object.fromEntries(
          params.map((p) => [
            toArgumentName(p.code),
            t.arg.stringList({
              required: false,
              description: `${p.description ?? ''} (${p.type}; several values are ORed)`.trim(),
            }),
          ]),
        ),
      };
      return t.field({
        type: [ref],
        nullable: true,
        description: `Search ${resourceType} resources. Parameters AND; the values of one parameter OR.`,
        args,
        resolve: async (_root, rawArgs, ctx) => {
          assertCanRead(ctx);
          const resource = mappedResource(ctx, resourceType);
          const argValues = rawArgs as Record<string, unknown>;
          const count = (argValues['_count'] as number | null | undefined) ?? limits.defaultCount;
          const offset = (argValues['_offset'] as number | null | undefined) ?? 0;
          if (count < 0 || count > limits.maxCount) {
            throw gatewayError(
              'BAD_USER_INPUT',
              `_count must be between 0 and ${limits.maxCount}.`,
              { argument: '_count', max: limits.maxCount },
            );
          }
          if (offset < 0 || offset > limits.maxOffset) {
            throw gatewayError(
              'BAD_USER_INPUT',
              `_offset must be between 0 and ${limits.maxOffset}.`,
              { argument: '_offset', max: limits.maxOffset },
            );
          }
          const query: SearchQuery = params.flatMap((p) => {
            const values = argValues[toArgumentName(p.code)];
            return Array.isArray(values) && values.length > 0
              ? [{ code: p.code, values: values.map(String) }]
              : [];
          });
          if (count === 0) {
            return [];
          }
          let found: FhirJson[];
          try {
            found = await resource.search(ctx.tenant.executor, query, { count, offset });
          } catch (err) {
            return translateSearchError(err);
          }
          // A later read of the same id in this request is served without SQL.
          const loader = ctx.loaders.byId(resourceType);
          for (const r of found) {
            loader.prime(String(r['id']), r);
          }
          return found;
        },
      });
    });
  }
}
