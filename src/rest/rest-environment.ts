import type { FhirDefinitions } from '../fhir/definitions.js';
import type { ListLimits } from '../repository/search-request.js';

/** What the FHIR REST handlers share: the definitions, the served types and the paging limits. */
export interface RestEnvironment {
  readonly defs: FhirDefinitions;
  /** The resource types the gateway serves (each tenant maps a subset). */
  readonly served: ReadonlySet<string>;
  readonly limits: ListLimits;
  /**
   * The request's resource budget (`FHIRGATE_MAX_RESOURCES_PER_REQUEST`, the GraphQL one): a
   * search whose worst case, includes counted, is above it is refused. Absent: off.
   */
  readonly maxResources?: number | undefined;
  /** The REST base path (`/fhir`). */
  readonly base: string;
  /**
   * The URL clients reach the gateway at (`FHIRGATE_PUBLIC_BASE_URL`, no trailing slash): the
   * absolute URLs the API writes start with it and the base path. Absent: the request's origin.
   */
  readonly publicBaseUrl?: string | undefined;
  /** The token issuer (the realm URL), for the security section and SMART configuration. */
  readonly issuer?: string | undefined;
}

/**
 * The absolute FHIR base clients use (`fullUrl`s, paging links, `implementation.url`): under the
 * configured public URL behind a proxy or ingress, else at the origin the request was sent to.
 */
export function publicFhirBase(env: RestEnvironment, requestUrl: URL): string {
  return `${env.publicBaseUrl ?? requestUrl.origin}${env.base}`;
}
