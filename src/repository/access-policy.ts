import { hasRole, type Principal } from '../auth/principal.js';
import { GatewayError, gatewayError } from '../errors.js';
import { isMappingQueryError } from '../mapping/mapping-query-error.js';

/**
 * The access rules of the repository, checked by every read it makes (by id, search, count,
 * reverse search), so GraphQL fields, references, reverse references and REST answer alike.
 */

/** Reading needs `fhir-read`; authentication has already refused tokens with no fhirgate role. */
export function assertCanRead(principal: Principal): void {
  if (!hasRole(principal, 'fhir-read')) {
    throw gatewayError('FORBIDDEN', 'Reading resources needs the fhir-read role.');
  }
}

/** The error for a resource type the tenant does not map (or the gateway does not serve). */
export function resourceNotSupported(resourceType: string): GatewayError {
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
    throw new GatewayError(
      err.code,
      err.message,
      err.parameter === undefined ? {} : { parameter: err.parameter },
    );
  }
  throw err;
}

/** The error for a search parameter the tenant does not map for a type. */
export function searchParamNotSupported(code: string, resourceType: string): GatewayError {
  return gatewayError(
    'SEARCH_PARAM_NOT_SUPPORTED',
    `Search parameter "${code}" is not supported for ${resourceType}.`,
    { parameter: code },
  );
}
