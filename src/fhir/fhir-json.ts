/**
 * FHIR JSON as the mapping engine builds it and every door serves it (GraphQL's generated types read
 * it with default resolvers; REST writes it as it is). Shared by mapping, repository, GraphQL and REST,
 * so it lives here rather than beside the Pothos builder.
 */
export type FhirJson = Record<string, unknown>;
