import { lexicographicSortSchema } from 'graphql';
import { loadConfig } from '../src/config.js';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { buildGatewaySchema } from '../src/graphql/schema.js';

/** The defaults of an empty environment: what a deployment gets without FHIRGATE_* settings. */
const { graphql } = loadConfig({});

/**
 * The schema as `npm run schema` prints it into `schema/gateway.graphql`: the default resource
 * types and limits, the same call `main.ts` makes. Read by `codegen.ts`.
 */
export const schema = lexicographicSortSchema(
  buildGatewaySchema({
    defs: loadDefinitions(),
    resourceTypes: graphql.resourceTypes,
    limits: { maxCount: graphql.maxCount, defaultCount: graphql.defaultCount, maxOffset: 10_000 },
  }),
);
