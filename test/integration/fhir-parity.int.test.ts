import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R4_EXTRACT_RESOURCE_TYPES } from '../../src/fhir/build-extract.js';
import { clinicalTenant } from '../fixtures/clinical-tenant.js';
import { hospitalCTenant } from '../fixtures/hospital-c-tenant.js';
import { hospitalDTenant } from '../fixtures/hospital-d-tenant.js';
import { hospitalA, hospitalB } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { loadR4Definitions, validateR4 } from '../unit/conformance/r4-validator.js';

/**
 * One data path, proven: on every test tenant, for every type it maps, the same searches through
 * GraphQL (`XList`, `XConnection`) and through FHIR REST give the same resources in the same
 * order, and the same cursors. Each search is generated from the tenant's own capabilities
 * (`tenantCapabilities`): the plain list, `:missing=false` of each parameter, and a descending
 * sort by each sortable one, then the second page by cursor. Every REST Bundle and each
 * tenant's CapabilityStatement validate as R4 with the real validator (medplum's, against the
 * official StructureDefinitions, plus required bindings).
 */
let gw: TestGateway;

const TENANTS = [
  clinicalTenant(),
  hospitalA(),
  hospitalB(),
  hospitalCTenant(),
  hospitalDTenant(),
] as const;

type Json = Record<string, unknown>;
interface Capability {
  type: string;
  searchParams: Array<{ code: string; argument: string; type: string; modifiers: string[] }>;
}

beforeAll(async () => {
  loadR4Definitions();
  gw = await createTestGateway({ tenants: TENANTS, resourceTypes: R4_EXTRACT_RESOURCE_TYPES });
}, 120_000);

afterAll(async () => {
  await gw?.close();
});

async function graphql(token: string, query: string): Promise<Json> {
  const res = await gw.post(query, { token });
  expect(res.json.errors, `${query}\n${res.text}`).toBeUndefined();
  return res.json.data as Json;
}

async function rest(token: string, url: string): Promise<Json> {
  const response = await fetch(url.startsWith('http') ? url : `${gw.fhirUrl}${url}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const json = (await response.json()) as Json;
  expect(response.status, `${url}\n${JSON.stringify(json)}`).toBe(200);
  const issues = validateR4(json as unknown as Resource);
  expect(issues, url).toEqual([]);
  return json;
}

function bundleIds(bundle: Json): string[] {
  return ((bundle['entry'] as Array<{ resource: Json }> | undefined) ?? []).map((e) =>
    String(e.resource['id']),
  );
}

function linkOf(bundle: Json, relation: string): string | undefined {
  return (bundle['link'] as Array<{ relation: string; url: string }>).find(
    (l) => l.relation === relation,
  )?.url;
}

describe.each(TENANTS.map((t) => t.clientId))('tenant %s', (clientId) => {
  let token: string;
  let capabilities: Capability[];

  beforeAll(async () => {
    token = await gw.tokenFor(clientId);
    const data = await graphql(
      token,
      '{ tenantCapabilities { type searchParams { code argument type modifiers } } }',
    );
    capabilities = data['tenantCapabilities'] as Capability[];
  });

  it('serves a CapabilityStatement that validates and lists what tenantCapabilities lists', async () => {
    const statement = await rest(token, '/metadata');
    const resources = (statement['rest'] as Json[])[0]!['resource'] as Json[];
    expect(resources.map((r) => r['type'])).toEqual(capabilities.map((c) => c.type));
    for (const [i, r] of resources.entries()) {
      expect((r['searchParam'] as Json[]).map((p) => p['name'])).toEqual(
        capabilities[i]!.searchParams.map((p) => p.code),
      );
      // No test tenant here maps meta.versionId: no type claims versions it would not keep.
      expect(r['versioning']).toBeUndefined();
      expect(r['conditionalRead']).toBeUndefined();
    }
  });

  it('answers the same searches with the same resources in the same order', async () => {
    let compared = 0;
    let refusedAlike = 0;
    for (const { type, searchParams } of capabilities) {
      const searches: Array<{ graphql: string; rest: string }> = [
        { graphql: '_sort: ["_id"]', rest: '_sort=_id' },
      ];
      for (const p of searchParams) {
        if (p.code === '_id') {
          continue;
        }
        searches.push({
          graphql: `${p.argument}_missing: false`,
          rest: `${p.code}:missing=false`,
        });
        if (p.type !== 'reference' || p.code !== 'patient') {
          searches.push({ graphql: `_sort: ["-${p.code}"]`, rest: `_sort=-${p.code}` });
        }
      }
      for (const search of searches) {
        const query = `{ ${type}List(${search.graphql}, _count: 7) { id } }`;
        const answer = await gw.post(query, { token });
        const error = answer.json.errors?.[0];
        if (error !== undefined) {
          // A search the tenant cannot run (a sort by a child table's column...) is refused by
          // both doors alike: the same OperationOutcome, with 400 over REST.
          const refused = await fetch(`${gw.fhirUrl}/${type}?${search.rest}&_count=7`, {
            headers: { authorization: `Bearer ${token}` },
          });
          expect(refused.status, search.rest).toBe(400);
          expect(await refused.json()).toEqual(error.extensions?.['resource']);
          refusedAlike++;
          continue;
        }
        const viaGraphql = ((answer.json.data as Json)[`${type}List`] as Json[]).map((r) =>
          String(r['id']),
        );
        const bundle = await rest(token, `/${type}?${search.rest}&_count=7`);
        expect(bundleIds(bundle), `${clientId} ${type} ${search.rest}`).toEqual(viaGraphql);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(capabilities.length);
    expect(refusedAlike).toBeLessThan(compared);
  });

  it('pages alike: the next page by cursor holds the same resources, with the same cursor', async () => {
    for (const { type } of capabilities) {
      const first = await graphql(
        token,
        `{ ${type}Connection(_count: 3, _sort: ["_id"]) { next edges { resource { ... on ${type} { id } } } } }`,
      );
      const connection = first[`${type}Connection`] as { next: string | null; edges: Json[] };
      const page1 = await rest(token, `/${type}?_count=3&_sort=_id`);
      const next = linkOf(page1, 'next');
      if (connection.next === null) {
        expect(next).toBeUndefined();
        continue;
      }
      expect(new URL(next!).searchParams.get('_cursor')).toBe(connection.next);
      const second = await graphql(
        token,
        `{ ${type}Connection(_sort: ["_id"], _cursor: "${connection.next}") { edges { resource { ... on ${type} { id } } } } }`,
      );
      const viaGraphql = (
        (second[`${type}Connection`] as { edges: Array<{ resource: Json }> }).edges ?? []
      ).map((e) => String(e.resource['id']));
      expect(bundleIds(await rest(token, next!)), `${clientId} ${type}`).toEqual(viaGraphql);
    }
  });
});
