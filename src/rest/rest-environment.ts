import type { FhirDefinitions } from '../fhir/definitions.js';
import type { ListLimits } from '../repository/search-request.js';

/** What the FHIR REST handlers share: the definitions, the served types and the paging limits. */
export interface RestEnvironment {
  readonly defs: FhirDefinitions;
  /** The resource types the gateway serves (each tenant maps a subset). */
  readonly served: ReadonlySet<string>;
  readonly limits: ListLimits;
  /** The REST base path (`/fhir`). */
  readonly base: string;
  /** The token issuer (the realm URL), for the security section and SMART configuration. */
  readonly issuer?: string | undefined;
}
