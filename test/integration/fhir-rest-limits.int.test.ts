import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clinicalTenant } from '../fixtures/clinical-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * The refusals FHIR REST shares with GraphQL, as OperationOutcomes: 429 from the per-user rate
 * limit (with Retry-After) and 503 from a tenant whose database cannot run its statements.
 */
let gw: TestGateway;

beforeAll(async () => {
  gw = await createTestGateway({
    tenants: [clinicalTenant()],
    resourceTypes: ['Patient', 'Observation'],
    rateLimits: { user: { perSecond: 0.01, burst: 3 }, tenant: { perSecond: 0, burst: 0 } },
  });
});

afterAll(async () => {
  await gw?.close();
});

async function get(path: string, token: string) {
  const res = await fetch(`${gw.fhirUrl}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: res.status,
    headers: res.headers,
    json: (await res.json()) as Record<string, unknown>,
  };
}

describe('limits and failures over REST', () => {
  it('answers 429 with Retry-After once a user spent the burst', async () => {
    const token = await gw.tokenFor('clinic', ['fhir-read'], { sub: 'rest-limited-user' });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i < 5; i++) {
      last = await get('/Patient/1', token);
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(last!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(last!.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect(last!.json).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'throttled' }],
    });
  });

  it('answers 503 when the tenant database cannot run the statement, with no data', async () => {
    const token = await gw.tokenFor('clinic', ['fhir-read'], { sub: 'rest-503-user' });
    const db = gw.tenantDbs.get('clinic')!;
    await db.exec('RENAME TABLE examenes TO examenes_away');
    try {
      const res = await get('/Observation?patient=1', token);
      expect(res.status).toBe(503);
      expect(res.json['resourceType']).toBe('OperationOutcome');
      expect(JSON.stringify(res.json)).not.toMatch(/examenes|SELECT/);
    } finally {
      await db.exec('RENAME TABLE examenes_away TO examenes');
    }
  });
});
