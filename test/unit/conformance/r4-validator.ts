/**
 * Offline FHIR R4 validation for tests. The validator lives in src/fhir/r4-validation.ts (the
 * mapping preview uses it too); the tests keep importing it from here.
 */
import type { Resource } from '@medplum/fhirtypes';
import * as r4 from '../../../src/fhir/r4-validation.js';

export type ValidationIssue = r4.ValidationIssue;

/** See {@link r4.loadR4Definitions}. */
export function loadR4Definitions(): void {
  r4.loadR4Definitions();
}

/** See {@link r4.validateR4}. */
export function validateR4(resource: Resource): ValidationIssue[] {
  return r4.validateR4(resource);
}

/** GraphQL answers `null` for elements a resource lacks; FHIR JSON omits them. */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(withoutNulls);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}
