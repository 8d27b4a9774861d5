import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantHash } from '../../src/logger.js';
import { type CanaryTenant, hospitalA, hospitalB, PATIENTS } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { graphiqlOptionsIn } from '../helpers/graphiql-options.js';
import { nowSec } from '../helpers/jwks-server.js';

let gw: TestGateway;
let a: CanaryTenant;
let b: CanaryTenant;

beforeAll(async () => {
  a = hospitalA();
  b = hospitalB();
  gw = await createTestGateway({
    tenants: [a, b],
    resourceTypes: ['Patient', 'Practitioner'],
    pools: { queueLimit: 100 },
    resilience: { queue: 100 },
  });
});

afterAll(async () => {
  await gw?.close();
});

const LIST = '{ PatientList(_count: 50) { id name { family given text use } gender birthDate } }';

function statementsOf(clientId: string, from: number) {
  return gw.statements.slice(from).filter((s) => s.tenantHash === tenantHash(clientId));
}

describe('the request path, end to end over HTTP and MariaDB', () => {
  it('serves each tenant its own rows through its own mapping', async () => {
    const resA = await gw.post(LIST, { token: await gw.tokenFor('hospital-a') });
    expect(resA.status).toBe(200);
    const patientsA = resA.json.data?.['PatientList'] as Array<Record<string, unknown>>;
    expect(patientsA).toHaveLength(50);
    expect(patientsA[0]).toEqual({
      id: '1',
      name: [
        {
          family: `SOTO${a.canary}`,
          given: ['JUAN'],
          text: `JUAN SOTO${a.canary} PEREZ`,
          use: 'official',
        },
      ],
      gender: 'male',
      birthDate: '1951-02-11',
    });

    const resB = await gw.post(LIST, { token: await gw.tokenFor('hospital-b') });
    expect(resB.status).toBe(200);
    const patientsB = resB.json.data?.['PatientList'] as Array<Record<string, unknown>>;
    expect(patientsB).toHaveLength(50);
    // One full-name column split into given and two family names, then the child-table name.
    expect(patientsB[0]?.['name']).toEqual([
      {
        family: `ROJAS${b.canary} DIAZ`,
        given: ['ANA', 'LUISA'],
        text: `ANA LUISA ROJAS${b.canary} DIAZ`,
        use: 'official',
      },
      { family: `VIEJO${b.canary}`, given: ['ANA'], text: null, use: 'maiden' },
    ]);
    expect(patientsB[0]?.['gender']).toBe('male');
    expect(patientsB[0]?.['birthDate']).toBe('1980-02-02');
    // '00/00/0000' is absent, not an error.
    expect(patientsB[6]?.['birthDate']).toBeNull();
  });

  it('never returns another tenant’s rows, also when asked for ids that exist there', async () => {
    const query =
      '{ p1: Patient(id: "1") { id name { family } } p2: Patient(id: "2") { id name { family } } }';
    const resA = await gw.post(query, { token: await gw.tokenFor('hospital-a') });
    const resB = await gw.post(query, { token: await gw.tokenFor('hospital-b') });
    expect(resA.text).toContain(a.canary);
    expect(resA.text).not.toContain(b.canary);
    expect(resB.text).toContain(b.canary);
    expect(resB.text).not.toContain(a.canary);
  });

  it('skips soft-deleted rows and child rows at every level', async () => {
    const token = await gw.tokenFor('hospital-a');
    const res = await gw.post(
      `{ gone: Patient(id: "${PATIENTS}") { id } p2: Patient(id: "2") { telecom { value } } }`,
      { token },
    );
    // Patient 60 is voided; patient 2's only phone is marked deleted.
    expect(res.json.data).toEqual({ gone: null, p2: { telecom: null } });
  });

  it('runs exactly 2 statements for 50 patients with child-table names', async () => {
    const from = gw.statements.length;
    const res = await gw.post('{ PatientList(_count: 50) { name { family } } }', {
      token: await gw.tokenFor('hospital-b'),
    });
    expect(res.status).toBe(200);
    expect(res.json.data?.['PatientList']).toHaveLength(50);
    const sent = statementsOf('hospital-b', from);
    expect(sent).toHaveLength(2);
    expect(sent.every((s) => s.sql.includes('?') || !/\d{3,}/.test(s.sql))).toBe(true);
  });

  it('batches every Patient(id) of one operation into one statement', async () => {
    const from = gw.statements.length;
    const aliases = Array.from({ length: 12 }, (_, i) => `p${i}: Patient(id: "${i + 1}") { id }`);
    const res = await gw.post(`{ ${aliases.join(' ')} }`, {
      token: await gw.tokenFor('hospital-a'),
    });
    expect(res.status).toBe(200);
    // One statement for the patients; their phone numbers' child table is not read, as the
    // operation selects no telecom.
    expect(statementsOf('hospital-a', from)).toHaveLength(1);
    const withPhones = gw.statements.length;
    const phones = await gw.post(
      `{ ${aliases.join(' ')} last: Patient(id: "12") { telecom { value } } }`,
      { token: await gw.tokenFor('hospital-a') },
    );
    expect(phones.json.data?.['last']).toMatchObject({ telecom: [{ value: expect.any(String) }] });
    expect(statementsOf('hospital-a', withPhones)).toHaveLength(2);
  });

  it('builds only the elements an operation selects, one set per type for the whole operation', async () => {
    const token = await gw.tokenFor('hospital-a');
    const from = gw.statements.length;
    const res = await gw.post(
      `{
        PatientList(_count: 3) { id birthDate }
        again: Patient(id: "2") { id }
        other: Patient(id: "2") { gender }
      }`,
      { token },
    );
    expect(res.json.errors).toBeUndefined();
    const list = res.json.data?.['PatientList'] as Record<string, unknown>[];
    expect(list).toHaveLength(3);
    // Every Patient this request builds holds what any of its fields reads (birthDate, gender),
    // whichever statement or cache serves the field.
    expect(res.json.data?.['again']).toEqual({ id: '2' });
    expect(res.json.data?.['other']).toEqual({
      gender: expect.stringMatching(/^(male|female|other|unknown)$/),
    });
    const sent = statementsOf('hospital-a', from);
    expect(sent.length).toBeGreaterThanOrEqual(1);
    // No telecom or name is selected: the phone child table is not read.
    expect(sent.every((s) => !s.sql.includes('fono'))).toBe(true);
    // The same rows, asked for everything LIST selects: identical values for the shared fields.
    const full = await gw.post(LIST.replace('_count: 50', '_count: 3'), { token });
    const fullList = full.json.data?.['PatientList'] as Record<string, unknown>[];
    expect(list.map((p) => p['birthDate'])).toEqual(fullList.map((p) => p['birthDate']));
  });

  it('answers 401 with WWW-Authenticate and touches no tenant database for bad tokens', async () => {
    const from = gw.statements.length;
    const poolsBefore = gw.pools.stats().poolsCreated;
    const k = gw.keycloak;
    const cases: Array<[string, string | undefined]> = [
      ['no token', undefined],
      ['expired', await k.sign({ exp: nowSec() - 120, iat: nowSec() - 400 })],
      ['wrong issuer', await k.sign({ iss: 'https://evil.test/realms/test' })],
      ['alg none', k.unsecuredToken()],
      ['HS256 with the RSA public key', await k.hmacConfusionToken('pem')],
      ['forged signature', await k.forgedToken()],
      ['garbage', 'not.a.jwt'],
    ];
    for (const [label, token] of cases) {
      const res = await gw.post(LIST, token === undefined ? {} : { token });
      expect(res.status, label).toBe(401);
      expect(res.headers.get('www-authenticate'), label).toMatch(/^Bearer realm="fhirgate"/);
      expect(res.json.errors?.[0]?.extensions?.['code'], label).toBe('UNAUTHENTICATED');
    }
    expect(gw.statements.length).toBe(from);
    expect(gw.pools.stats().poolsCreated).toBe(poolsBefore);
  });

  it('refuses introspection before validation when there is no token', async () => {
    const res = await gw.post('{ __schema { types { name } } }');
    expect(res.status).toBe(401);
    const withToken = await gw.post('{ __type(name: "Patient") { name } }', {
      token: await gw.tokenFor('hospital-a'),
    });
    expect(withToken.json.data).toEqual({ __type: { name: 'Patient' } });
  });

  it('answers 403 UNKNOWN_TENANT for a client the registry does not know', async () => {
    for (const clientId of ['hospital-z', '__proto__', 'constructor', 'HOSPITAL-A']) {
      const res = await gw.post(LIST, { token: await gw.tokenFor(clientId) });
      expect(res.status, clientId).toBe(403);
      expect(res.json.errors?.[0]?.extensions?.['code'], clientId).toBe('UNKNOWN_TENANT');
    }
  });

  it('answers 403 when client_id and azp differ or the token has no fhirgate role', async () => {
    const mismatch = await gw.post(LIST, {
      token: await gw.tokenFor('hospital-a', ['fhir-read'], { client_id: 'hospital-b' }),
    });
    expect(mismatch.status).toBe(403);
    expect(mismatch.json.errors?.[0]?.extensions?.['code']).toBe('TENANT_MISMATCH');
    const noRole = await gw.post(LIST, { token: await gw.tokenFor('hospital-a', []) });
    expect(noRole.status).toBe(403);
    expect(noRole.json.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('treats a _count above the cap as an error, not a silent cut', async () => {
    const res = await gw.post('{ PatientList(_count: 101) { id } }', {
      token: await gw.tokenFor('hospital-a'),
    });
    expect(res.json.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(res.json.errors?.[0]?.message).toBe('_count must be between 0 and 100.');
  });

  it('answers RESOURCE_NOT_SUPPORTED for a type the tenant does not map', async () => {
    const res = await gw.post('{ PractitionerList { id } }', {
      token: await gw.tokenFor('hospital-a'),
    });
    expect(res.json.errors?.[0]?.extensions?.['code']).toBe('RESOURCE_NOT_SUPPORTED');
  });

  it('searches with bound values: wildcards and injection text match literally', async () => {
    const token = await gw.tokenFor('hospital-a');
    const hostile = ['%', '_', "x' OR '1'='1", '1 OR 1=1', '1; DROP TABLE pacientes'];
    for (const value of hostile) {
      const res = await gw.post('query($v: [String!]) { PatientList(family: $v) { id } }', {
        token,
        variables: { v: [value] },
      });
      expect(res.json.data?.['PatientList'], value).toEqual([]);
    }
    const byGender = await gw.post('{ PatientList(gender: "female", _count: 100) { gender } }', {
      token,
    });
    const genders = byGender.json.data?.['PatientList'] as Array<{ gender: string }>;
    expect(genders.length).toBe(PATIENTS / 2 - 1);
    expect(new Set(genders.map((g) => g.gender))).toEqual(new Set(['female']));
    const still = await gw.post('{ Patient(id: "1") { id } }', { token });
    expect(still.json.data).toEqual({ Patient: { id: '1' } });
  });

  it('a ciphertext copied into another tenant’s row fails for that tenant only', async () => {
    const sealed = (await gw.registryDb.exec(
      'SELECT client_id, db_url_sealed FROM fhirgate_tenants ORDER BY client_id',
    )) as Array<{ client_id: string; db_url_sealed: string }>;
    const sealedA = sealed.find((r) => r.client_id === 'hospital-a')!.db_url_sealed;
    const sealedB = sealed.find((r) => r.client_id === 'hospital-b')!.db_url_sealed;
    try {
      await gw.registryDb.exec(
        "UPDATE fhirgate_tenants SET db_url_sealed = ? WHERE client_id = 'hospital-a'",
        [sealedB],
      );
      gw.resolver.invalidate('hospital-a');
      gw.resolver.invalidate('hospital-b');
      const resA = await gw.post(LIST, { token: await gw.tokenFor('hospital-a') });
      expect(resA.status).toBe(503);
      expect(resA.json.errors?.[0]?.extensions?.['code']).toBe('TENANT_CONFIG_INVALID');
      expect(resA.text).not.toContain(b.canary);
      const resB = await gw.post(LIST, { token: await gw.tokenFor('hospital-b') });
      expect(resB.status).toBe(200);
      expect(resB.text).toContain(b.canary);
    } finally {
      await gw.registryDb.exec(
        "UPDATE fhirgate_tenants SET db_url_sealed = ? WHERE client_id = 'hospital-a'",
        [sealedA],
      );
      gw.resolver.invalidate('hospital-a');
    }
    const again = await gw.post(LIST, { token: await gw.tokenFor('hospital-a') });
    expect(again.status).toBe(200);
  });

  it('creates one pool for 50 concurrent first requests, and eviction ends idle pools', async () => {
    await gw.pools.evict('hospital-a');
    const before = gw.pools.stats();
    const token = await gw.tokenFor('hospital-a');
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => gw.post('{ Patient(id: "3") { id } }', { token })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(gw.pools.stats().poolsCreated - before.poolsCreated).toBe(1);

    await gw.pools.sweep(Date.now() + 2 * 1_800_000);
    const after = gw.pools.stats();
    expect(after.pools).toBe(0);
    expect(after.openConnections).toBe(0);
    const res = await gw.post('{ Patient(id: "3") { id } }', { token });
    expect(res.json.data).toEqual({ Patient: { id: '3' } });
    expect(gw.pools.stats().poolsCreated - before.poolsCreated).toBe(2);
  });

  it('reads the registry once for 50 concurrent requests after a config invalidation', async () => {
    const token = await gw.tokenFor('hospital-b');
    gw.resolver.invalidate('hospital-b');
    const before = gw.resolver.stats();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => gw.post('{ Patient(id: "4") { id } }', { token })),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const after = gw.resolver.stats();
    expect(after.registryReads - before.registryReads).toBe(1);
    // The mapping version did not change, so it is not compiled again.
    expect(after.compiles).toBe(before.compiles);
  });

  it('a corrupt mapping of one tenant leaves the others untouched', async () => {
    const broken = {
      formatVersion: 1,
      resources: { Patient: { table: 'pacientes; DROP TABLE x', id: 'id_paciente', elements: {} } },
    };
    await gw.registry.addMapping('hospital-a', JSON.stringify(broken), { activate: true });
    gw.resolver.invalidate('hospital-a');
    try {
      const resA = await gw.post(LIST, { token: await gw.tokenFor('hospital-a') });
      expect(resA.status).toBe(503);
      expect(resA.json.errors?.[0]?.extensions?.['code']).toBe('TENANT_CONFIG_INVALID');
      expect(resA.text).not.toContain('DROP');
      const resB = await gw.post(LIST, { token: await gw.tokenFor('hospital-b') });
      expect(resB.status).toBe(200);
      // The log names the resource and the problem, never a value from a row.
      expect(gw.logLines.some((l) => l.includes('tenant mapping invalid'))).toBe(true);
    } finally {
      await gw.registry.addMapping('hospital-a', JSON.stringify(a.mapping), { activate: true });
      gw.resolver.invalidate('hospital-a');
    }
    const again = await gw.post(LIST, { token: await gw.tokenFor('hospital-a') });
    expect(again.status).toBe(200);
  });

  it('accepts GET only for the GraphiQL page and never puts queries in URLs', async () => {
    const page = await fetch(gw.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('fhirgate');
    const viaGet = await fetch(`${gw.url}?query=${encodeURIComponent('{ PatientList { id } }')}`, {
      headers: { accept: 'application/json' },
    });
    expect(viaGet.status).toBe(405);
  });

  it('serves GraphiQL with its files from the gateway and nothing prefilled outside the demo', async () => {
    const res = await fetch(gw.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).not.toMatch(/Bearer ey/);
    const options = graphiqlOptionsIn(page);
    expect(Object.keys(options).sort()).toEqual(['query', 'shouldPersistHeaders', 'title']);
    expect(options['query']).toContain('{"Authorization": "Bearer <your token>"}');
    const assets = [...page.matchAll(/"(\/graphiql\/[^"]+)"/g)].map((m) => m[1] as string);
    expect(assets).toHaveLength(5);
    const origin = new URL(gw.url).origin;
    for (const path of assets) {
      const asset = await fetch(`${origin}${path}`);
      expect(asset.status, path).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/^text\/(css|javascript); charset=utf-8$/);
      expect((await asset.text()).length).toBeGreaterThan(1000);
    }
  });

  it('runs the operation a document with several operations names', async () => {
    const token = await gw.tokenFor('hospital-a', ['fhir-read', 'fhir-admin']);
    const query = `query Patients { PatientList(_count: 1) { id } }
      query Practitioners { PractitionerList(_count: 1) { id } }`;
    for (const [operationName, field] of [
      ['Practitioners', 'PractitionerList'],
      ['Patients', 'PatientList'],
      ['Practitioners', 'PractitionerList'],
    ] as const) {
      const res = await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, operationName }),
      });
      const body = (await res.json()) as { data?: Record<string, unknown> };
      expect(Object.keys(body.data ?? {}), operationName).toEqual([field]);
    }
  });

  it('logs no PHI, no token and no URL', async () => {
    const token = await gw.tokenFor('hospital-a');
    await gw.post(LIST, { token });
    const text = gw.logLines.join('\n');
    expect(gw.logLines.length).toBeGreaterThan(0);
    for (const secret of [a.canary, b.canary, token, gw.registryDb.name, 'mysql://']) {
      expect(text).not.toContain(secret);
    }
    for (const db of gw.tenantDbs.values()) {
      expect(text).not.toContain(db.name);
    }
  });
});
