/** A literal reference this gateway can follow: `Type/id`, relative to itself. */
export interface LocalReference {
  readonly resourceType: string;
  readonly id: string;
}

/** `Patient/123`: a resource type name and a FHIR id, nothing before or after. */
const RELATIVE_REFERENCE = /^[A-Z][A-Za-z]{0,63}\/[A-Za-z0-9\-.]{1,64}$/;

/**
 * The `Type/id` a `Reference.reference` names, or `undefined` for what the gateway cannot
 * follow: absolute URLs (another server), `#id` (contained; mappings cannot produce contained
 * resources), versioned references (no history here), logical references without `reference`.
 */
export function parseReference(value: unknown): LocalReference | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  // `test` and two slices: no match array per reference (S3 follows 200 of them per request).
  if (!RELATIVE_REFERENCE.test(value)) {
    return undefined;
  }
  const slash = value.indexOf('/');
  return { resourceType: value.slice(0, slash), id: value.slice(slash + 1) };
}
