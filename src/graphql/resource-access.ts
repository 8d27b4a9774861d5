import { hasRole } from '../auth/principal.js';
import type { GatewayContext } from '../context.js';
import { gatewayError } from '../errors.js';
import type { CompiledResource } from '../mapping/compiled-resource.js';
import { isMappingQueryError } from '../mapping/mapping-query-error.js';

/**
 * The checks every resolver that reads tenant data makes first, shared by the query fields,
 * references and reverse references so they answer the same errors.
 */

/** Reading needs `fhir-read`; authentication has already refused tokens with no fhirgate role. */
export function assertCanRead(ctx: GatewayContext): void {
  if (!hasRole(ctx.principal, 'fhir-read')) {
    throw gatewayError('FORBIDDEN', 'Reading resources needs the fhir-read role.');
  }
}

/** The tenant's compiled resource type, or `RESOURCE_NOT_SUPPORTED` when it maps none. */
export function mappedResource(ctx: GatewayContext, resourceType: string): CompiledResource {
  const resource = ctx.tenant.runtime.mapping.resource(resourceType);
  if (resource === undefined) {
    throw resourceNotSupported(resourceType);
  }
  return resource;
}

/** The error for a resource type the tenant does not map (or the schema does not serve). */
export function resourceNotSupported(resourceType: string) {
  return gatewayError(
    'RESOURCE_NOT_SUPPORTED',
    `This tenant does not serve ${resourceType} resources.`,
    { resourceType },
  );
}

/**
 * The mapping engine reports a search it cannot run with a code and a fixed message that never
 * echoes a value; those reach the client as they are. Anything else is rethrown untouched, to
 * be masked.
 */
export function translateSearchError(err: unknown): never {
  if (isMappingQueryError(err)) {
    throw gatewayError(
      err.code,
      err.message,
      err.parameter === undefined ? {} : { parameter: err.parameter },
    );
  }
  throw err;
}
