import { LRUCache } from 'lru-cache';

/**
 * Per-user distinct-patient limit (SECURITY-TESTS C48): a user who reads more than
 * `maxDistinctPatients` different patients within `windowMs` is refused (`RATE_LIMITED`, no data)
 * and a security alert is logged. It catches enumeration that stays under the request rate limit
 * (15 aliases x different ids per request, repeated). Re-reading patients already seen in the
 * window costs nothing, so a clinician working through a ward list is not affected.
 *
 * State is per replica and bounded: at most `maxUsers` users, each holding at most
 * `maxDistinctPatients` references with the time each was last read.
 */
export interface PatientEnumerationLimit {
  /** Distinct patients per user and window; 0 turns the limit off. @default 300 */
  readonly maxDistinctPatients: number;
  /** @default 300000 (5 min) */
  readonly windowMs: number;
  /** Users tracked at once (least recently active dropped first). @default 10000 */
  readonly maxUsers?: number;
}

export type EnumerationVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryAfterSeconds: number; readonly distinct: number };

export interface PatientEnumerationGuard {
  /**
   * Admits a request that read `patients` (references such as `Patient/7`, duplicates allowed)
   * for `user`, recording them; or refuses it, recording nothing.
   */
  admit(user: string, patients: readonly string[], now?: number): EnumerationVerdict;
}

export function createPatientEnumerationGuard(
  limit: PatientEnumerationLimit,
): PatientEnumerationGuard {
  const users = new LRUCache<string, Map<string, number>>({ max: limit.maxUsers ?? 10_000 });
  return {
    admit(user, patients, now = Date.now()) {
      if (limit.maxDistinctPatients <= 0 || patients.length === 0) {
        return { ok: true };
      }
      let seen = users.get(user);
      if (seen === undefined) {
        seen = new Map();
        users.set(user, seen);
      }
      // Insertion order is last-read order (entries are re-inserted on each read), so expired
      // entries are at the front.
      for (const [patient, at] of seen) {
        if (now - at < limit.windowMs) {
          break;
        }
        seen.delete(patient);
      }
      // Each patient once: a request lists one per resource read about them (S3: 220 for 20).
      const distinct = new Set(patients);
      let fresh = 0;
      for (const patient of distinct) {
        if (!seen.has(patient)) {
          fresh++;
        }
      }
      if (seen.size + fresh > limit.maxDistinctPatients) {
        const oldest = seen.values().next().value ?? now;
        const retryAfterSeconds = Math.max(1, Math.ceil((oldest + limit.windowMs - now) / 1000));
        return { ok: false, retryAfterSeconds, distinct: seen.size + fresh };
      }
      for (const patient of distinct) {
        seen.delete(patient);
        seen.set(patient, now);
      }
      return { ok: true };
    },
  };
}
