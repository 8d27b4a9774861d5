import { type GraphQLSchema, specifiedDirectives } from 'graphql';
import { registerAdminFields } from '../admin/admin-fields.js';
import type { AdminService } from '../admin/admin-service.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { ListLimits } from '../repository/search-request.js';
import { createBuilder } from './builder.js';
import { registerFhirTypes } from './fhir-types.js';
import { registerReferenceResolution } from './references.js';
import { registerResourceQueries } from './resources.js';
import { registerReverseReferences } from './reverse-references.js';
import { SHAPING_DIRECTIVES } from './shaping-directives.js';
import { registerTenantCapabilities } from './tenant-capabilities-field.js';

export interface SchemaOptions {
  readonly defs: FhirDefinitions;
  /** Resource types served; every tenant maps a subset. */
  readonly resourceTypes: readonly string[];
  readonly limits: ListLimits;
  /** Serves the admin fields (src/admin); without it they exist and answer FORBIDDEN. */
  readonly admin?: AdminService;
}

/**
 * The gateway schema, shaped by the HL7 FHIR GraphQL page: FHIR object types generated from the
 * R4 definitions for the enabled resource types, `X`/`XList`/`XConnection` query fields,
 * `Reference.resource`, and reverse references (`Patient { ObservationList(_reference: subject) }`).
 * One schema serves every tenant; which types a tenant actually answers is its mapping's business.
 */
export function buildGatewaySchema(options: SchemaOptions): GraphQLSchema {
  for (const type of options.resourceTypes) {
    if (!options.defs.isResourceType(type)) {
      throw new Error(
        `buildGatewaySchema: ${type} is not a resource type of the definition extract`,
      );
    }
  }
  const builder = createBuilder();
  const refs = registerFhirTypes(builder, options.defs, options.resourceTypes);
  const connections = registerResourceQueries(
    builder,
    refs,
    options.defs,
    options.resourceTypes,
    options.limits,
  );
  registerReferenceResolution(builder, refs);
  registerReverseReferences(builder, refs, connections, options.defs, options.limits);
  registerTenantCapabilities(builder, options.defs, options.resourceTypes);
  registerAdminFields(builder, options.admin);
  return builder.toSchema({
    sortSchema: true,
    directives: [...specifiedDirectives, ...SHAPING_DIRECTIVES],
  });
}
