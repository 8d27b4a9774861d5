import type { GraphQLSchema } from 'graphql';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { createBuilder } from './builder.js';
import { registerFhirTypes } from './fhir-types.js';
import { type ListLimits, registerResourceQueries } from './resources.js';

export interface SchemaOptions {
  readonly defs: FhirDefinitions;
  /** Resource types served; every tenant maps a subset. */
  readonly resourceTypes: readonly string[];
  readonly limits: ListLimits;
}

/**
 * The gateway schema: FHIR object types generated from the R4 definitions for the enabled
 * resource types, and their query fields. One schema serves every tenant; which types a tenant
 * actually answers is its mapping's business.
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
  registerResourceQueries(builder, refs, options.defs, options.resourceTypes, options.limits);
  return builder.toSchema({ sortSchema: true });
}
