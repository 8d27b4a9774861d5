import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clinicalTenant } from '../fixtures/clinical-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * Work bounded by what it returns (issue 11, item 2): an operation's worst case counts list
 * multiplicity (parent `_count` x child `_count`), and one above the budget is refused before
 * any statement. The issue's heavy read (three aliased PatientList(_count: 100), each with
 * ObservationList(_count: 100)) is 30,300 resources in the worst case.
 */
let gw: TestGateway;
let token: string;

const HEAVY = `{ ${[0, 100, 200]
  .map(
    (offset, i) =>
      `p${i}: PatientList(_count: 100, _offset: ${offset}) { id ObservationList(_reference: subject, _count: 100) { id } }`,
  )
  .join(' ')} }`;

beforeAll(async () => {
  gw = await createTestGateway({
    tenants: [clinicalTenant()],
    resourceTypes: ['Patient', 'Practitioner', 'Encounter', 'Observation'],
    maxResources: 5000,
  });
  token = await gw.tokenFor('clinic');
});

afterAll(async () => {
  await gw?.close();
});

async function refusedBeforeAnyStatement(query: string, variables?: Record<string, unknown>) {
  const from = gw.statements.length;
  const res = await gw.post(query, { token, ...(variables === undefined ? {} : { variables }) });
  expect(res.status).toBe(400);
  expect(res.json.data ?? null).toBeNull();
  expect(res.json.errors?.[0]?.extensions?.['code']).toBe('QUERY_TOO_COSTLY');
  expect(gw.statements.length).toBe(from);
  return res;
}

describe('resource budget', () => {
  it("refuses the issue's heavy legal read before any statement, naming its worst case", async () => {
    const res = await refusedBeforeAnyStatement(HEAVY);
    expect(res.json.errors?.[0]?.message).toContain('30300 resources');
    expect(res.json.errors?.[0]?.extensions?.['resource']).toMatchObject({
      issue: [{ code: 'too-costly' }],
    });
  });

  it('counts _count from variables, defaults and connections, and references once per parent', async () => {
    // 50 patients x (1 + 100 observations) = 5050: just over.
    await refusedBeforeAnyStatement(
      'query($n: Int) { PatientList(_count: 50) { id ObservationList(_reference: subject, _count: $n) { id } } }',
      { n: 100 },
    );
    // 100 observations, each with its subject resolved: 200.
    const ok = await gw.post(
      '{ ObservationList(_count: 100) { id subject { resource { ... on Patient { id } } } } }',
      { token },
    );
    expect(ok.json.errors).toBeUndefined();
    // A _count above the maximum (100) is refused by its field: it counts as 100.
    const over = await gw.post(
      '{ a: Patient(id: "1") { id } b: PatientList(_count: 100000) { id } }',
      {
        token,
      },
    );
    expect(over.json.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    await refusedBeforeAnyStatement(
      '{ PatientList(_count: 100000) { id ObservationList(_reference: subject, _count: 100) { id } } }',
    );
    // Connections multiply like lists: 60 x (1 + 100) = 6060.
    await refusedBeforeAnyStatement(
      '{ PatientConnection(_count: 60) { edges { resource { id ObservationList(_reference: subject, _count: 100) { id } } } } }',
    );
  });

  it('lets a read within the budget through (49 x 101 = 4949)', async () => {
    const res = await gw.post(
      '{ PatientList(_count: 49) { id ObservationList(_reference: subject, _count: 100) { id } } }',
      { token },
    );
    expect(res.status).toBe(200);
    expect(res.json.errors).toBeUndefined();
    expect(res.json.data?.['PatientList']).toEqual(expect.arrayContaining([expect.anything()]));
  });
});
