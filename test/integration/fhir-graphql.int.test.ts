import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R4_EXTRACT_RESOURCE_TYPES } from '../../src/fhir/build-extract.js';
import { clinicalTenant, OBSERVATIONS_PER_PATIENT } from '../fixtures/clinical-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * `[base]/$graphql` and `[base]/[type]/[id]/$graphql` as the HL7 FHIR GraphQL page defines
 * them, and the `tenantCapabilities` query, over a real gateway (real HTTP, RS256, MariaDB).
 */
let gw: TestGateway;
let token: string;

type Json = Record<string, unknown>;

beforeAll(async () => {
  gw = await createTestGateway({
    tenants: [clinicalTenant()],
    resourceTypes: R4_EXTRACT_RESOURCE_TYPES,
  });
  token = await gw.tokenFor('clinic');
});

afterAll(async () => {
  await gw?.close();
});

async function call(
  path: string,
  init: { method?: string; body?: unknown; token?: string | null } = {},
) {
  const t = init.token === undefined ? token : init.token;
  const response = await fetch(`${gw.fhirUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(t === null ? {} : { authorization: `Bearer ${t}` }),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    requestId: response.headers.get('x-request-id'),
    contentLength: response.headers.get('content-length'),
    bytes: Buffer.byteLength(text),
    json: JSON.parse(text) as Json,
  };
}

describe('[base]/$graphql', () => {
  it('runs a query by POST and by GET', async () => {
    const query = '{ PatientList(_id: ["1", "2"]) { id gender } }';
    const post = await call('/$graphql', { body: { query } });
    expect(post.status).toBe(200);
    expect(post.json).toEqual({
      data: {
        PatientList: [
          { id: '1', gender: expect.any(String) },
          { id: '2', gender: expect.any(String) },
        ],
      },
    });
    const get = await call(`/$graphql?query=${encodeURIComponent(query)}`);
    expect([get.status, get.json]).toEqual([post.status, post.json]);
    // The same answer when a client percent-encodes the `$`.
    const encoded = await call(`/%24graphql?query=${encodeURIComponent(query)}`);
    expect([encoded.status, encoded.json]).toEqual([post.status, post.json]);
  });

  it('passes the same door: 401 without a token, the audit trail with one', async () => {
    const anonymous = await call('/$graphql', {
      body: { query: '{ Patient(id: "1") { id } }' },
      token: null,
    });
    expect(anonymous.status).toBe(401);
    const audited = await call('/$graphql', { body: { query: '{ Patient(id: "6") { id } }' } });
    expect(audited.status).toBe(200);
    const rows = await gw.auditStore.readEvents({ requestId: audited.requestId! });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows[0]!.event)).toContain('Patient/6');
  });

  it('refuses a mutation by GET with 405, and keeps POST for it', async () => {
    const mutation = 'mutation { reloadTenantConfig(clientId: "clinic") { published } }';
    const get = await call(`/$graphql?query=${encodeURIComponent(mutation)}`);
    expect(get.status).toBe(405);
    // By POST it runs, and the admin field refuses a hospital token as it does at /graphql.
    const post = await call('/$graphql', { body: { query: mutation } });
    expect(post.status).toBe(403);
    expect((post.json['errors'] as Json[])[0]!['extensions']).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('[base]/[type]/[id]/$graphql', () => {
  it('runs the query with the focal resource as its root', async () => {
    const res = await call('/Patient/2/$graphql', {
      body: {
        query:
          '{ id gender ObservationList(_reference: subject, _count: 100) { id subject { reference } } }',
      },
    });
    expect(res.status).toBe(200);
    const data = res.json['data'] as Json;
    expect(data['id']).toBe('2');
    const observations = data['ObservationList'] as Json[];
    expect(observations).toHaveLength(OBSERVATIONS_PER_PATIENT);
    expect(observations.every((o) => JSON.stringify(o).includes('Patient/2'))).toBe(true);
    // Written once from the unwrapped result, with its length (not parsed back and rewritten).
    expect(res.contentLength).toBe(String(res.bytes));
  });

  it('takes fragments, variables and GET, and errors at paths below the root', async () => {
    const query =
      'query($n: Int) { ...F ObservationList(_reference: subject, _count: $n) { id } } fragment F on Patient { id }';
    const res = await call(
      `/Patient/2/$graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent('{"n":2}')}`,
    );
    expect(res.status).toBe(200);
    expect((res.json['data'] as Json)['id']).toBe('2');
    expect((res.json['data'] as Json)['ObservationList']).toHaveLength(2);
    const bad = await call('/Patient/2/$graphql', {
      body: { query: '{ id ObservationList(_reference: subject, _count: 1000) { id } }' },
    });
    const error = (bad.json['errors'] as Json[])[0]!;
    expect(error['path']).toEqual(['ObservationList']);
    expect(error['extensions']).toMatchObject({ code: expect.any(String) });
  });

  it('answers 404 for a resource that does not exist', async () => {
    const res = await call('/Patient/99999/$graphql', { body: { query: '{ id }' } });
    expect(res.status).toBe(404);
    expect((res.json['errors'] as Json[])[0]!['extensions']).toMatchObject({
      code: 'RESOURCE_NOT_FOUND',
    });
  });
});

describe('tenantCapabilities', () => {
  it("lists the caller's tenant's types and search parameters", async () => {
    const res = await gw.post(
      '{ tenantCapabilities { type searchParams { code argument type modifiers targets } searchInclude } }',
      { token },
    );
    expect(res.json.errors).toBeUndefined();
    const types = res.json.data!['tenantCapabilities'] as Json[];
    expect(types.map((t) => t['type'])).toEqual([
      'Patient',
      'Practitioner',
      'Encounter',
      'Observation',
      'Condition',
    ]);
    const patient = types[0]!['searchParams'] as Json[];
    expect(patient).toContainEqual({
      code: 'general-practitioner',
      argument: 'general_practitioner',
      type: 'reference',
      modifiers: ['missing'],
      targets: ['Practitioner'],
    });
    expect(patient).toContainEqual({
      code: 'family',
      argument: 'family',
      type: 'string',
      modifiers: ['exact', 'contains', 'missing'],
      targets: null,
    });
  });
});
