import { describe, expect, it } from 'vitest';
import { createPatientEnumerationGuard } from '../../../src/audit/patient-enumeration.js';

const refs = (...ids: number[]) => ids.map((id) => `Patient/${id}`);

describe('createPatientEnumerationGuard', () => {
  it('admits up to the limit, refuses past it, and forgets reads older than the window', () => {
    const guard = createPatientEnumerationGuard({ maxDistinctPatients: 3, windowMs: 1000 });
    expect(guard.admit('u', refs(1, 2), 0)).toEqual({ ok: true });
    expect(guard.admit('u', refs(1, 2, 2, 3), 100)).toEqual({ ok: true });
    // Patient 1 was last read at 100 ms, so the window frees a place at 1100 ms.
    expect(guard.admit('u', refs(4), 500)).toEqual({
      ok: false,
      retryAfterSeconds: 1,
      distinct: 4,
    });
    // A refused read recorded nothing: 1-3 are still the only ones.
    expect(guard.admit('u', refs(3, 1), 600)).toEqual({ ok: true });
    expect(guard.admit('u', refs(4), 1_700)).toEqual({ ok: true });
  });

  it('keeps users apart and is off at 0', () => {
    const guard = createPatientEnumerationGuard({ maxDistinctPatients: 1, windowMs: 60_000 });
    expect(guard.admit('a', refs(1), 0).ok).toBe(true);
    expect(guard.admit('b', refs(2), 0).ok).toBe(true);
    expect(guard.admit('a', refs(2), 0).ok).toBe(false);
    const off = createPatientEnumerationGuard({ maxDistinctPatients: 0, windowMs: 60_000 });
    expect(off.admit('a', refs(1, 2, 3, 4), 0).ok).toBe(true);
  });
});
