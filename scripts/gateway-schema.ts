import { lexicographicSortSchema } from 'graphql';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { buildGatewaySchema } from '../src/graphql/schema.js';

/**
 * The schema as `npm run schema` prints it into `schema/gateway.graphql`: the default resource
 * types and limits, the same call `main.ts` makes. Read by `codegen.ts`.
 */
export const schema = lexicographicSortSchema(
  buildGatewaySchema({
    defs: loadDefinitions(),
    resourceTypes: ['Patient'],
    limits: { maxCount: 100, defaultCount: 20, maxOffset: 10_000 },
  }),
);
