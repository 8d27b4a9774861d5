/**
 * The read hook of the audit trail, called by the request's DataLoaders for every resource the
 * request reads (by id, from a search, from a reverse-reference list). It must stay cheap: it
 * pushes the resource's reference and, for a resource about a patient, that patient's reference
 * (a string the resource already holds), and allocates nothing else. Duplicates are dropped
 * once per request when the AuditEvent is built.
 */
export function noteRead(reads: string[], resourceType: string, resource: unknown): void {
  if (resource === null || typeof resource !== 'object') {
    return;
  }
  const r = resource as Record<string, unknown>;
  const id = r['id'];
  if (typeof id === 'string') {
    reads.push(`${resourceType}/${id}`);
  }
  if (resourceType !== 'Patient') {
    // BALP: the patient a resource is about is an entity with the patient role. R4 names that
    // reference `subject` (Observation, Condition, Encounter...) or `patient` (AllergyIntolerance,
    // Immunization).
    const subject = patientReference(r['subject']) ?? patientReference(r['patient']);
    if (subject !== undefined) {
      reads.push(subject);
    }
  }
}

function patientReference(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') {
    return undefined;
  }
  const reference = (value as Record<string, unknown>)['reference'];
  return typeof reference === 'string' && reference.startsWith('Patient/') ? reference : undefined;
}
