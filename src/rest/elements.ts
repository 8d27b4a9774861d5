import type { FhirJson } from '../fhir/fhir-json.js';

/** Elements every resource keeps under `_elements` (FHIR: the id and the metadata). */
const ALWAYS_KEPT = ['resourceType', 'id', 'meta'];

/** The tag a server puts on a resource it returns with elements left out (R4 `_elements`). */
const SUBSETTED = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'SUBSETTED',
};

/**
 * The resource with only the asked top-level elements, tagged SUBSETTED as FHIR asks. The
 * repository already built only those (and what the audit needs): this removes the rest.
 */
export function keepElements(resource: FhirJson, elements: readonly string[]): FhirJson {
  const kept: FhirJson = {};
  for (const name of [...ALWAYS_KEPT, ...elements]) {
    if (resource[name] !== undefined) {
      kept[name] = resource[name];
    }
  }
  const meta = (kept['meta'] as FhirJson | undefined) ?? {};
  const tags = Array.isArray(meta['tag']) ? (meta['tag'] as unknown[]) : [];
  kept['meta'] = { ...meta, tag: [...tags, SUBSETTED] };
  return kept;
}

/**
 * The elements the repository must build for `_elements`: those asked, those audit reads, and
 * `meta` (kept under `_elements`, and a read's ETag and Last-Modified come from it).
 */
export function elementsToBuild(
  elements: readonly string[],
  extra: readonly string[],
): ReadonlySet<string> {
  return new Set([...elements, ...extra, 'subject', 'patient', 'meta']);
}
