import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * `npm run schema` writes the public contracts: the printed GraphQL SDL of the gateway and the
 * JSON Schema of the tenant mapping document. CI regenerates both and fails when they differ from
 * the checked-in files.
 */
const config: CodegenConfig = {
  schema: 'scripts/gateway-schema.ts',
  silent: true,
  generates: {
    'schema/gateway.graphql': {
      plugins: ['schema-ast'],
      config: { includeDirectives: false, commentDescriptions: false, sort: true },
    },
    'schema/tenant-mapping.schema.json': {
      plugins: ['./scripts/codegen-mapping-schema.ts'],
    },
  },
};

export default config;
