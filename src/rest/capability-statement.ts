import type { FhirJson } from '../fhir/fhir-json.js';
import type { TypeCapability } from '../repository/tenant-capabilities.js';
import { smartEndpoints } from './smart-configuration.js';

/** The CapabilityStatement's fixed parts; `date` is when this process started serving. */
const STARTED = new Date().toISOString();
const SOFTWARE = { name: 'fhirgate', version: '0.1.0' };

/** The operations every tenant's CapabilityStatement lists. */
const GRAPHQL_OPERATION = {
  name: 'graphql',
  definition: 'http://hl7.org/fhir/OperationDefinition/Resource-graphql',
};

function security(issuer: string | undefined): FhirJson {
  const endpoints = issuer === undefined ? undefined : smartEndpoints(issuer);
  return {
    cors: false,
    service: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
            code: 'SMART-on-FHIR',
          },
        ],
        text: 'OAuth2 bearer tokens (SMART on FHIR); the token selects the tenant.',
      },
    ],
    ...(endpoints === undefined
      ? {}
      : {
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [
                { url: 'token', valueUri: endpoints.token },
                { url: 'authorize', valueUri: endpoints.authorize },
              ],
            },
          ],
        }),
  };
}

/**
 * A CapabilityStatement. With the caller's tenant's capabilities (an authenticated request) it
 * lists that tenant's types, interactions, search parameters and includes; without (no token),
 * it says how to connect and nothing about any tenant: no types, no parameters.
 */
export function capabilityStatement(
  baseUrl: string,
  issuer: string | undefined,
  types: readonly TypeCapability[] | undefined,
): FhirJson {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: STARTED,
    publisher: 'fhirgate',
    kind: 'instance',
    software: SOFTWARE,
    implementation: {
      description:
        types === undefined
          ? 'fhirgate: send a bearer token to see what your tenant serves.'
          : "fhirgate: the resource types and search parameters of the caller's tenant.",
      url: baseUrl,
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: security(issuer),
        ...(types === undefined
          ? {}
          : {
              resource: types.map((t) => ({
                type: t.type,
                interaction: [{ code: 'read' }, { code: 'search-type' }],
                // `versioned`: meta.versionId is kept (no history); `not-match`: If-None-Match.
                ...(t.versioned ? { versioning: 'versioned', conditionalRead: 'not-match' } : {}),
                searchParam: t.searchParams.map((p) => ({
                  name: p.code,
                  ...(p.code === '_id'
                    ? { definition: 'http://hl7.org/fhir/SearchParameter/Resource-id' }
                    : {}),
                  type: p.type,
                  documentation:
                    p.modifiers.length === 0
                      ? 'Several values, comma-separated, are ORed.'
                      : `Several values, comma-separated, are ORed. Modifiers: ${p.modifiers.map((m) => `:${m}`).join(' ')}.`,
                })),
                ...(t.searchInclude.length === 0 ? {} : { searchInclude: t.searchInclude }),
                ...(t.searchRevInclude.length === 0
                  ? {}
                  : { searchRevInclude: t.searchRevInclude }),
                operation: [GRAPHQL_OPERATION],
              })),
            }),
        operation: [GRAPHQL_OPERATION],
      },
    ],
  };
}
