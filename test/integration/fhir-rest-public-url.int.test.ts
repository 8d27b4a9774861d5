import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clinicalTenant } from '../fixtures/clinical-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * `FHIRGATE_PUBLIC_BASE_URL`: a gateway behind an ingress writes the URLs clients reach (the
 * public origin and path prefix, then the FHIR base) in Bundle `fullUrl`s, paging links and the
 * CapabilityStatement, whatever Host the request arrived with. The links work once the ingress
 * maps them back, which the test does by hand.
 */
const PUBLIC = 'https://fhir.example.org/hospital';
let gw: TestGateway;
let token: string;

beforeAll(async () => {
  gw = await createTestGateway({
    tenants: [clinicalTenant()],
    resourceTypes: ['Patient', 'Observation'],
    publicBaseUrl: PUBLIC,
  });
  token = await gw.tokenFor('clinic');
});

afterAll(async () => {
  await gw?.close();
});

type Json = Record<string, unknown>;

async function get(
  url: string,
  bearer: string | null = token,
): Promise<{ status: number; json: Json }> {
  const res = await fetch(url, {
    headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` },
  });
  return { status: res.status, json: (await res.json()) as Json };
}

/** What the ingress does: the public URL back to the gateway's own address. */
function throughIngress(url: string): string {
  expect(url.startsWith(`${PUBLIC}/fhir/`)).toBe(true);
  return `${gw.fhirUrl}${url.slice(`${PUBLIC}/fhir`.length)}`;
}

describe('public base URL', () => {
  it('writes fullUrls and paging links under it, and the links page when followed', async () => {
    const first = await get(`${gw.fhirUrl}/Observation?_count=2`);
    expect(first.status).toBe(200);
    const entries = first.json['entry'] as Array<{ fullUrl: string; resource: Json }>;
    expect(entries).toHaveLength(2);
    for (const entry of entries) {
      expect(entry.fullUrl).toBe(`${PUBLIC}/fhir/Observation/${String(entry.resource['id'])}`);
    }
    const links = first.json['link'] as Array<{ relation: string; url: string }>;
    const self = links.find((l) => l.relation === 'self');
    const next = links.find((l) => l.relation === 'next');
    expect(self?.url).toBe(`${PUBLIC}/fhir/Observation?_count=2`);
    expect(next?.url).toMatch(/^https:\/\/fhir\.example\.org\/hospital\/fhir\/Observation\?/);
    const second = await get(throughIngress(next?.url ?? ''));
    expect(second.status).toBe(200);
    const secondIds = (second.json['entry'] as Array<{ resource: Json }>).map(
      (e) => e.resource['id'],
    );
    expect(secondIds).toHaveLength(2);
    expect(secondIds).not.toContain(entries[0]?.resource['id']);
  });

  it('names it as the CapabilityStatement implementation URL, with and without a token', async () => {
    for (const bearer of [token, null]) {
      const metadata = await get(`${gw.fhirUrl}/metadata`, bearer);
      expect(metadata.status).toBe(200);
      expect(metadata.json['implementation']).toMatchObject({ url: `${PUBLIC}/fhir` });
    }
  });

  it('does not follow the Host header', async () => {
    const res = await fetch(`${gw.fhirUrl}/Patient?_count=1`, {
      headers: { authorization: `Bearer ${token}`, host: 'evil.example.com' },
    });
    const bundle = (await res.json()) as { entry: Array<{ fullUrl: string }> };
    expect(bundle.entry[0]?.fullUrl.startsWith(`${PUBLIC}/fhir/Patient/`)).toBe(true);
  });
});
