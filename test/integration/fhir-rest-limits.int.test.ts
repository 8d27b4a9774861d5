import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clinicalTenant } from '../fixtures/clinical-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * The refusals FHIR REST shares with GraphQL, as OperationOutcomes: 429 from the per-user rate
 * limit (with Retry-After), 503 from a tenant whose database cannot run its statements, and 400
 * `QUERY_TOO_COSTLY` from the resource budget (150 here) counting `_include` and `_revinclude`.
 */
let gw: TestGateway;
const MAX_RESOURCES = 150;

beforeAll(async () => {
  gw = await createTestGateway({
    tenants: [clinicalTenant()],
    resourceTypes: ['Patient', 'Observation'],
    rateLimits: { user: { perSecond: 0.01, burst: 3 }, tenant: { perSecond: 0, burst: 0 } },
    maxResources: MAX_RESOURCES,
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

  it('counts _include and _revinclude in the resource budget: over it is 400 QUERY_TOO_COSTLY before any statement', async () => {
    // A user of its own per request: this gateway's per-user burst is 3.
    let n = 0;
    const token = () => gw.tokenFor('clinic', ['fhir-read'], { sub: `rest-budget-${n++}` });
    // Worst case: each match plus one subject (single-valued) per match; 100 x 2 > 150.
    for (const path of [
      '/Observation?_count=100&_include=Observation:subject',
      // Each match plus up to _count's maximum (100) observations per match: 2 x 101 > 150.
      '/Patient?_count=2&_revinclude=Observation:subject',
    ]) {
      const before = gw.statements.length;
      const refused = await get(path, await token());
      expect(refused.status, path).toBe(400);
      expect(refused.json).toMatchObject({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'too-costly' }],
      });
      expect(JSON.stringify(refused.json)).toContain(`at most ${MAX_RESOURCES} are allowed`);
      expect(gw.statements.length, path).toBe(before);
    }
    // Within the budget the same searches answer, includes and all.
    const included = await get(
      '/Observation?_count=75&_include=Observation:subject',
      await token(),
    );
    expect(included.status).toBe(200);
    const entries = included.json['entry'] as Array<{ search: { mode: string } }>;
    expect(entries.some((e) => e.search.mode === 'include')).toBe(true);
    const reverse = await get(
      '/Patient?_id=1&_count=1&_revinclude=Observation:subject',
      await token(),
    );
    expect(reverse.status).toBe(200);
    const revEntries = reverse.json['entry'] as Array<{ search: { mode: string } }>;
    expect(revEntries.filter((e) => e.search.mode === 'include').length).toBeGreaterThan(0);
  });
});
