import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R4_EXTRACT_RESOURCE_TYPES } from '../../src/fhir/build-extract.js';
import { tenantHash } from '../../src/logger.js';
import {
  CLINIC_PATIENTS,
  clinicalTenant,
  OBSERVATIONS_PER_PATIENT,
} from '../fixtures/clinical-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * The FHIR REST API over a real gateway, real HTTP, real RS256 tokens and a real MariaDB tenant:
 * read, search (GET and POST _search), Bundles and paging links, _total, _summary=count,
 * _elements, _include/_revinclude, modifiers, date prefixes, the error statuses, audit, metadata
 * and SMART discovery.
 */
let gw: TestGateway;
let token: string;

type Json = Record<string, unknown>;
interface Bundle {
  resourceType: string;
  type: string;
  total?: number;
  link: Array<{ relation: string; url: string }>;
  entry?: Array<{ fullUrl?: string; resource: Json; search: { mode: string } }>;
}

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

async function get(path: string, options: { token?: string | null; accept?: string } = {}) {
  const t = options.token === undefined ? token : options.token;
  const response = await fetch(path.startsWith('http') ? path : `${gw.fhirUrl}${path}`, {
    headers: {
      ...(t === null ? {} : { authorization: `Bearer ${t}` }),
      ...(options.accept === undefined ? {} : { accept: options.accept }),
    },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: JSON.parse(text) as Json };
}

function ids(bundle: Bundle, mode = 'match'): string[] {
  return (bundle.entry ?? [])
    .filter((e) => e.search.mode === mode)
    .map((e) => `${String(e.resource['resourceType'])}/${String(e.resource['id'])}`);
}

function clinicStatements(from: number) {
  return gw.statements.slice(from).filter((s) => s.tenantHash === tenantHash('clinic'));
}

function issueOf(json: Json): { code: string; text: string } {
  const issue = (json['issue'] as Array<{ code: string; details: { text: string } }>)[0]!;
  return { code: issue.code, text: issue.details.text };
}

describe('read', () => {
  it('answers a resource as application/fhir+json', async () => {
    const res = await get('/Patient/3');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect(res.json).toMatchObject({ resourceType: 'Patient', id: '3', gender: 'male' });
    expect(res.headers.get('x-request-id')).toMatch(/.+/);
  });

  it('answers 404 OperationOutcomes for a missing resource and an unmapped type', async () => {
    const missing = await get('/Patient/99999');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect(missing.json['resourceType']).toBe('OperationOutcome');
    expect(issueOf(missing.json)).toEqual({
      code: 'not-found',
      text: 'The Patient was not found.',
    });
    const unmapped = await get('/Immunization/1');
    expect(unmapped.status).toBe(404);
    expect(issueOf(unmapped.json).code).toBe('not-supported');
    const unknownType = await get('/Nonsense/1');
    expect(unknownType.status).toBe(404);
  });

  it('keeps only _elements, tagged SUBSETTED', async () => {
    const res = await get('/Patient/3?_elements=gender');
    expect(res.status).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(['gender', 'id', 'meta', 'resourceType']);
    expect(JSON.stringify(res.json['meta'])).toContain('SUBSETTED');
  });
});

describe('search', () => {
  it('returns a searchset Bundle with fullUrls, ORing comma-separated values', async () => {
    const res = await get('/Patient?family=APELLIDO01,APELLIDO04,APELLIDO07&_sort=_id');
    expect(res.status).toBe(200);
    const bundle = res.json as unknown as Bundle;
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('searchset');
    expect(ids(bundle)).toEqual(['Patient/1', 'Patient/4', 'Patient/7']);
    expect(bundle.entry![0]!.fullUrl).toBe(`${gw.fhirUrl}/Patient/1`);
    expect(bundle.link[0]!.relation).toBe('self');
    expect(bundle.total).toBeUndefined();
  });

  it('ANDs repeated parameters and applies date prefixes', async () => {
    const all = (await get('/Observation?patient=Patient/2&_count=100')).json as unknown as Bundle;
    expect(ids(all)).toHaveLength(OBSERVATIONS_PER_PATIENT);
    const dates = (all.entry ?? []).map((e) => String(e.resource['effectiveDateTime']));
    const cut = [...dates].sort()[6]!.slice(0, 10);
    const later = (await get(`/Observation?patient=2&date=ge${cut}&_count=100`))
      .json as unknown as Bundle;
    const expected = dates.filter((d) => d.slice(0, 10) >= cut).length;
    expect(ids(later)).toHaveLength(expected);
    const window = (await get(`/Observation?patient=2&date=ge${cut}&date=le${cut}&_count=100`))
      .json as unknown as Bundle;
    expect(ids(window)).toHaveLength(dates.filter((d) => d.slice(0, 10) === cut).length);
  });

  it('supports :exact, :contains and :missing', async () => {
    const exact = (await get('/Patient?family:exact=APELLIDO01')).json as unknown as Bundle;
    expect(ids(exact)).toEqual(['Patient/1']);
    const prefix = (await get('/Patient?family:exact=APELLIDO0')).json as unknown as Bundle;
    expect(ids(prefix)).toEqual([]);
    const contains = (await get('/Patient?family:contains=LLIDO1&_count=100'))
      .json as unknown as Bundle;
    expect(ids(contains).length).toBeGreaterThan(1);
    const missing = (await get('/Observation?encounter:missing=true&_count=100'))
      .json as unknown as Bundle;
    for (const e of missing.entry ?? []) {
      expect(e.resource['encounter']).toBeUndefined();
    }
  });

  it('pages with opaque next/previous cursors, and counts with _total=accurate', async () => {
    const seen: string[] = [];
    let url: string | undefined = `${gw.fhirUrl}/Patient?_count=10&_sort=-_id&_total=accurate`;
    let pages = 0;
    let previous: string | undefined;
    while (url !== undefined) {
      const bundle = (await get(url)).json as unknown as Bundle;
      expect(bundle.total).toBe(CLINIC_PATIENTS);
      seen.push(...ids(bundle));
      const rel = (r: string) => bundle.link.find((l) => l.relation === r)?.url;
      expect(rel('last')).toContain('_cursor=');
      if (pages > 0) {
        previous = rel('previous');
        expect(previous).toContain('_cursor=');
      }
      url = rel('next');
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(CLINIC_PATIENTS);
    expect(new Set(seen).size).toBe(CLINIC_PATIENTS);
    expect(seen[0]).toBe(`Patient/${CLINIC_PATIENTS}`);
    const back = (await get(previous!)).json as unknown as Bundle;
    expect(ids(back)).toEqual(seen.slice(10, 20));
    // A cursor of another search is refused.
    const cursor = new URL(previous!).searchParams.get('_cursor')!;
    const other = await get(`/Patient?gender=male&_count=10&_cursor=${cursor}`);
    expect(other.status).toBe(400);
  });

  it('answers _summary=count with one COUNT and no entries', async () => {
    const from = gw.statements.length;
    const res = await get('/Patient?gender=female&_summary=count');
    const bundle = res.json as unknown as Bundle;
    expect(bundle.entry).toBeUndefined();
    expect(bundle.total).toBeGreaterThan(0);
    const statements = clinicStatements(from);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.sql).toMatch(/COUNT/i);
  });

  it('includes referenced and referring resources, one statement per included type', async () => {
    const from = gw.statements.length;
    const res = await get(
      '/Observation?patient=1,2&_count=30&_include=Observation:subject&_include=Observation:encounter',
    );
    const bundle = res.json as unknown as Bundle;
    expect(ids(bundle)).toHaveLength(2 * OBSERVATIONS_PER_PATIENT);
    const included = ids(bundle, 'include');
    expect(included.filter((r) => r.startsWith('Patient/')).sort()).toEqual([
      'Patient/1',
      'Patient/2',
    ]);
    expect(included.some((r) => r.startsWith('Encounter/'))).toBe(true);
    // The search, the Patients (and their phones' child table), the Encounters.
    const tables = clinicStatements(from).map((s) => /FROM `(\w+)`/.exec(s.sql)?.[1]);
    expect(tables.sort()).toEqual(['atenciones', 'examenes', 'pac', 'pac_fonos']);

    const rev = (await get('/Patient?_id=1,2&_revinclude=Observation:subject'))
      .json as unknown as Bundle;
    expect(ids(rev)).toEqual(['Patient/1', 'Patient/2']);
    expect(ids(rev, 'include')).toHaveLength(2 * OBSERVATIONS_PER_PATIENT);
  });

  it('takes POST _search with a form body, URL parameters included', async () => {
    const response = await fetch(`${gw.fhirUrl}/Patient/_search?_sort=_id`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'family=APELLIDO01,APELLIDO04',
    });
    expect(response.status).toBe(200);
    expect(ids((await response.json()) as Bundle)).toEqual(['Patient/1', 'Patient/4']);
    const json = await fetch(`${gw.fhirUrl}/Patient/_search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    const big = await fetch(`${gw.fhirUrl}/Patient/_search`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `family=${'A'.repeat(70_000)}`,
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as Json)['resourceType']).toBe('OperationOutcome');
  });

  it('refuses unknown parameters, bad values and unmapped parameters with 400', async () => {
    for (const [path, code] of [
      ['/Patient?nosuch=1', 'not-supported'],
      ['/Patient?birthdate=yesterday', 'invalid'],
      ['/Patient?_count=1000', 'invalid'],
      ['/Observation?performer=Practitioner/1', 'not-supported'],
      ['/Patient?_sort=nosuch', 'invalid'],
    ] as const) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(issueOf(res.json).code, path).toBe(code);
    }
  });
});

describe('the same door as GraphQL', () => {
  it('401 without a token (with WWW-Authenticate), 403 without a role, as OperationOutcomes', async () => {
    const anonymous = await get('/Patient/1', { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    expect(anonymous.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect(issueOf(anonymous.json).code).toBe('login');
    const bad = await get('/Patient/1', { token: 'garbage' });
    expect(bad.status).toBe(401);
    const noRole = await get('/Patient/1', { token: await gw.tokenFor('clinic', []) });
    expect(noRole.status).toBe(403);
    expect(noRole.json['resourceType']).toBe('OperationOutcome');
    const other = await get('/Patient/1', { token: await gw.tokenFor('nobody') });
    expect(other.status).toBe(403);
  });

  it('passes the front door: no URL ending in a Yoga path, bodies with a declared length', async () => {
    for (const path of ['/Patient?x=/health', '/Patient?x=/graphql', '/Patient/x/graphql']) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.json['resourceType'], path).toBe('OperationOutcome');
    }
    const chunked = await fetch(`${gw.fhirUrl}/Patient/_search`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('family=APELLIDO01'));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(411);
    expect(((await chunked.json()) as Json)['resourceType']).toBe('OperationOutcome');
  });

  it('406 for an Accept or _format it cannot answer, 405 for other methods', async () => {
    expect((await get('/Patient/1', { accept: 'application/fhir+xml' })).status).toBe(406);
    expect((await get('/Patient/1?_format=xml')).status).toBe(406);
    expect(
      (await get('/Patient/1', { accept: 'application/fhir+xml;q=0.9, application/json' })).status,
    ).toBe(200);
    const del = await fetch(`${gw.fhirUrl}/Patient/1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET');
  });

  it('writes an AuditEvent before data leaves, and answers 503 without data when it cannot', async () => {
    const res = await fetch(`${gw.fhirUrl}/Patient/5`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const rows = await gw.auditStore.readEvents({ requestId: res.headers.get('x-request-id')! });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows[0]!.event)).toContain('Patient/5');

    await gw.registryDb.exec('RENAME TABLE fhirgate_audit_events TO fhirgate_audit_away');
    try {
      const down = await get('/Patient?_count=3');
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('5');
      expect(down.json['resourceType']).toBe('OperationOutcome');
      expect(JSON.stringify(down.json)).not.toContain('"Patient"');
    } finally {
      await gw.registryDb.exec('RENAME TABLE fhirgate_audit_away TO fhirgate_audit_events');
    }
  });
});

describe('metadata and discovery', () => {
  it('without a token: how to connect, nothing about any tenant', async () => {
    const res = await get('/metadata', { token: null });
    expect(res.status).toBe(200);
    expect(res.json['resourceType']).toBe('CapabilityStatement');
    const rest = (res.json['rest'] as Json[])[0]!;
    expect(rest['resource']).toBeUndefined();
    expect(JSON.stringify(res.json)).not.toContain('clinic');
    expect(JSON.stringify(rest['security'])).toContain('/protocol/openid-connect/token');
  });

  it("with a token: the tenant's types, search parameters and includes", async () => {
    const res = await get('/metadata');
    const resources = (res.json['rest'] as Json[])[0]!['resource'] as Json[];
    expect(resources.map((r) => r['type'])).toEqual([
      'Patient',
      'Practitioner',
      'Encounter',
      'Observation',
      'Condition',
    ]);
    const observation = resources.find((r) => r['type'] === 'Observation')!;
    const params = (observation['searchParam'] as Json[]).map((p) => `${p['name']}:${p['type']}`);
    expect(params).toContain('code:token');
    expect(params).toContain('date:date');
    expect(params).not.toContain('performer:reference');
    expect(observation['searchInclude']).toContain('Observation:subject:Patient');
    const patient = resources.find((r) => r['type'] === 'Patient')!;
    expect(patient['searchRevInclude']).toContain('Observation:subject:Patient');
  });

  it('serves the SMART configuration at the base and at the root', async () => {
    for (const url of [
      `${gw.fhirUrl}/.well-known/smart-configuration`,
      gw.fhirUrl.replace(/\/fhir$/, '/.well-known/smart-configuration'),
    ]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
      const json = (await res.json()) as Json;
      expect(json['issuer']).toBe(gw.keycloak.issuer());
      expect(json['token_endpoint']).toBe(`${gw.keycloak.issuer()}/protocol/openid-connect/token`);
    }
  });
});
