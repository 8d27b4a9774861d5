import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * `npm run schema` writes the public contracts: the printed GraphQL SDL of the gateway and the
 * JSON Schema of the tenant mapping document. It also writes the typed documents of the example
 * front-end operations (`examples/operations/*.graphql` -> `examples/generated/`), so a schema
 * change that breaks an example fails tsc. CI regenerates all three and fails when they differ
 * from the checked-in files.
 */
const config: CodegenConfig = {
  schema: 'scripts/gateway-schema.ts',
  silent: true,
  // The client preset's `index.ts` re-exports with '.js' extensions, as NodeNext resolution needs.
  emitLegacyCommonJSImports: false,
  generates: {
    'schema/gateway.graphql': {
      plugins: ['schema-ast'],
      config: { includeDirectives: false, commentDescriptions: false, sort: true },
    },
    'schema/tenant-mapping.schema.json': {
      plugins: ['./scripts/codegen-mapping-schema.ts'],
    },
    'examples/generated/': {
      documents: ['examples/operations/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        // Only the types the operations use; string unions instead of TS enums, which
        // `erasableSyntaxOnly` forbids.
        onlyOperationTypes: true,
        enumsAsTypes: true,
      },
    },
  },
};

export default config;
