import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hospitalA } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * SECURITY-TESTS C48 (alias-driven enumeration): a user who reads more distinct patients than
 * the limit within the window gets RATE_LIMITED (429, Retry-After) with no data, the refusal is
 * audited, and the log carries a security alert that names no patient. Re-reading known patients
 * is free, and another user is not affected. The limit is lowered to 5 patients for the test.
 */
let gw: TestGateway;

beforeAll(async () => {
  gw = await createTestGateway({
    tenants: [hospitalA()],
    patientLimit: { maxDistinctPatients: 5, windowMs: 60_000 },
  });
});

afterAll(async () => {
  await gw?.close();
});

/** One request reading the given patients through aliases, as an enumerating client would. */
function patients(ids: readonly number[]): string {
  return `{ ${ids.map((id) => `p${id}: Patient(id: "${id}") { id }`).join(' ')} }`;
}

describe('per-user distinct-patient limit', () => {
  it('refuses the read that would pass the limit, audits it and raises an alert', async () => {
    const token = await gw.tokenFor('hospital-a', ['fhir-read'], { sub: 'enumerator' });
    expect((await gw.post(patients([1, 2, 3]), { token })).json.errors).toBeUndefined();
    // The same three again cost nothing; two more reach the limit exactly.
    expect((await gw.post(patients([1, 2, 3]), { token })).json.errors).toBeUndefined();
    const fifth = await gw.post(patients([4, 5]), { token });
    expect(fifth.json.data).toEqual({ p4: { id: '4' }, p5: { id: '5' } });

    const logFrom = gw.logLines.length;
    const refused = await gw.post(patients([6, 7]), { token });
    expect(refused.status).toBe(429);
    expect(refused.json.data).toBeUndefined();
    expect(refused.json.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.text).not.toContain('"6"');

    const alerts = gw.logLines.slice(logFrom).filter((l) => l.includes('patient-enumeration'));
    expect(alerts).toHaveLength(1);
    expect(JSON.parse(alerts[0] as string)).toMatchObject({ level: 40, distinctPatients: 7 });
    expect(alerts[0]).not.toContain('Patient/');
    expect(alerts[0]).not.toContain('enumerator');

    // Known patients are still readable; the refused ones were not recorded.
    expect((await gw.post(patients([5, 1]), { token })).json.errors).toBeUndefined();

    // The refusal is in the audit trail as a denied access.
    const requestId = refused.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    let events = await gw.auditStore.readEvents({ requestId: requestId as string });
    for (let i = 0; i < 50 && events.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      events = await gw.auditStore.readEvents({ requestId: requestId as string });
    }
    expect(events).toHaveLength(1);
    expect(events[0]?.outcome).toBe(4);
    expect(JSON.stringify(events[0]?.event)).toContain('RATE_LIMITED');
  });

  it('counts per user: another user of the same tenant reads freely', async () => {
    const other = await gw.tokenFor('hospital-a', ['fhir-read'], { sub: 'ward-nurse' });
    const res = await gw.post(patients([6, 7, 8, 9, 10]), { token: other });
    expect(res.status).toBe(200);
    expect(res.json.errors).toBeUndefined();
  });
});
