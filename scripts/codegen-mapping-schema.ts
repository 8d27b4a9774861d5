import { mappingJsonSchema } from '../src/mapping/mapping-schema.js';

/**
 * A graphql-codegen plugin that writes the JSON Schema of the tenant mapping document, generated
 * from its zod schema, so `npm run schema` produces every public contract in one run.
 */
export const plugin = (): string => `${JSON.stringify(mappingJsonSchema(), null, 2)}\n`;
