import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditTrail } from '../../src/audit/audit-trail.js';
import { type AuditRecord, createSqlAuditStore } from '../../src/audit/sql-audit-store.js';
import type { Principal } from '../../src/auth/principal.js';
import { createLogger } from '../../src/logger.js';
import { parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import { type CanaryTenant, hospitalA } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { rawHttp } from '../helpers/raw-http.js';
import { loadR4Definitions, validateR4 } from '../unit/conformance/r4-validator.js';

/**
 * SECURITY-TESTS H (72-75): the HIPAA audit trail against a real MariaDB registry and real HTTP.
 * Every PHI read is written durably before its response leaves, in the IHE BALP shape, with
 * patient references and nothing else about the patient; denied accesses are recorded; group
 * commit batches concurrent requests; without a working audit store PHI reads get 503
 * AUDIT_UNAVAILABLE and no data, and serve again once the store is back.
 */
let gw: TestGateway;
let tenant: CanaryTenant;
const USER_CANARY = `ZZNAME-${randomUUID()}`;
const SUBJECT = `user-${randomUUID()}`;
let token: string;

beforeAll(async () => {
  loadR4Definitions();
  tenant = hospitalA();
  // Room for the concurrent burst below: refusals by the tenant's bulkhead are not under test.
  gw = await createTestGateway({
    tenants: [tenant],
    pools: { queueLimit: 200 },
    resilience: { queue: 200 },
  });
  // A token that carries a user's name and e-mail: neither may reach the audit trail.
  token = await gw.tokenFor('hospital-a', ['fhir-read'], {
    sub: SUBJECT,
    preferred_username: USER_CANARY,
    name: USER_CANARY,
    email: `${USER_CANARY}@example.org`,
  });
});

afterAll(async () => {
  await gw?.close();
});

async function post(
  query: string,
  options: { token?: string; variables?: Record<string, unknown> } = {},
) {
  // The client's id is a correlation id only; the audit's request id is the gateway's own.
  const correlationId = `audit-${randomUUID()}`;
  const result = await gw.post(query, {
    ...options,
    headers: { 'x-request-id': correlationId },
  });
  return { ...result, requestId: result.headers.get('x-request-id') ?? '', correlationId };
}

/**
 * A POST from a client address of its own (127.x.y.z): the first anonymous denial of an address
 * in an interval has a row of its own, later ones are counted into one row.
 */
async function rawPost(query: string, from: string, bearer?: string) {
  const body = JSON.stringify({ query });
  const res = await rawHttp(gw.url, {
    method: 'POST',
    target: '/graphql',
    localAddress: from,
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
    },
    body,
  });
  return { status: res.status, requestId: res.headers['x-request-id'] ?? '' };
}

/** The rows of one request; denials are not awaited by the request, so poll briefly. */
async function eventsOf(requestId: string, atLeast = 1): Promise<AuditRecord[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const rows = await gw.auditStore.readEvents({ requestId });
    if (rows.length >= atLeast || Date.now() > deadline) {
      return rows;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

type Entity = {
  what: { reference?: string; identifier?: { value: string } };
  detail?: Array<{ type: string; valueString: string }>;
  role?: { code: string };
};
type Agent = {
  who: { identifier?: { system?: string; value: string }; display?: string };
  requestor: boolean;
  network?: { address: string; type: string };
};

function entitiesOf(row: AuditRecord): Entity[] {
  return (row.event['entity'] ?? []) as Entity[];
}

function expectValid(row: AuditRecord): void {
  expect(validateR4(row.event as unknown as Resource)).toEqual([]);
}

describe('PHI reads', () => {
  it('Patient(id) writes one BALP PatientRead event before the response, with who, client and request id', async () => {
    const res = await post('{ Patient(id: "7") { id name { family } } }', { token });
    expect(res.status).toBe(200);
    expect(res.json.data?.['Patient']).toMatchObject({ id: '7' });
    // Awaited before the response: the row is there without polling.
    const rows = await gw.auditStore.readEvents({ requestId: res.requestId });
    expect(rows).toHaveLength(1);
    const row = rows[0] as AuditRecord;
    expectValid(row);
    expect(row).toMatchObject({ kind: 'read', outcome: 0, clientId: 'hospital-a' });
    const event = row.event;
    expect(event['type']).toMatchObject({ code: 'rest' });
    expect(event['subtype']).toEqual([expect.objectContaining({ code: 'read' })]);
    expect(event['action']).toBe('R');
    expect(event['outcome']).toBe('0');
    const agents = event['agent'] as Agent[];
    expect(agents[0]?.who.identifier).toEqual({ system: gw.keycloak.issuer(), value: SUBJECT });
    expect(agents[0]?.requestor).toBe(true);
    // BALP's requestor carries the client's address (the test client connects from loopback).
    expect(agents[0]?.network).toEqual({
      address: expect.stringMatching(/127\.0\.0\.1$/),
      type: '2',
    });
    expect(agents[1]?.who.identifier?.value).toBe('hospital-a');
    expect(agents[1]?.network).toBeUndefined();
    const entities = entitiesOf(row);
    expect(entities[0]).toMatchObject({ what: { reference: 'Patient/7' }, role: { code: '1' } });
    expect(entities.at(-1)?.what.identifier?.value).toBe(res.requestId);
    expect(res.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(entities.at(-1)?.detail).toEqual([
      { type: 'correlationId', valueString: res.correlationId },
    ]);
    // Two requests with one client id are two audit ids.
    const again = await post('{ Patient(id: "7") { id } }', { token });
    expect(again.requestId).not.toBe(res.requestId);
  });

  it('a search names the query with its literal values masked', async () => {
    const family = `SOTO${tenant.canary}`;
    const res = await post(`{ PatientList(family: ["${family}"], _count: 2) { id } }`, { token });
    expect(res.status).toBe(200);
    const rows = await gw.auditStore.readEvents({ requestId: res.requestId });
    expect(rows).toHaveLength(1);
    const row = rows[0] as AuditRecord;
    expectValid(row);
    const entities = entitiesOf(row) as Array<Entity & { query?: string }>;
    const query = entities.find((e) => e.role?.code === '24')?.query ?? '';
    const text = Buffer.from(query, 'base64').toString('utf8');
    expect(text).toContain('PatientList(family: [$_], _count: $_)');
    expect(text).not.toContain(tenant.canary);
    expect(text).not.toContain('SOTO');
  });

  it('a search writes one event with one patient entity per patient in the result', async () => {
    const res = await post('{ PatientList(_count: 5) { id } }', { token });
    expect(res.status).toBe(200);
    const ids = ((res.json.data?.['PatientList'] ?? []) as { id: string }[]).map((p) => p.id);
    expect(ids).toHaveLength(5);
    const rows = await gw.auditStore.readEvents({ requestId: res.requestId });
    expect(rows).toHaveLength(1);
    const row = rows[0] as AuditRecord;
    expectValid(row);
    expect(row.kind).toBe('search');
    expect(row.event['action']).toBe('E');
    expect(row.event['subtype']).toEqual([expect.objectContaining({ code: 'search-type' })]);
    const patients = entitiesOf(row).filter((e) => e.role?.code === '1');
    expect(patients.map((e) => e.what.reference).sort()).toEqual(
      ids.map((id) => `Patient/${id}`).sort(),
    );
  });

  it('a search with no hits is audited too (the query touched the tenant database)', async () => {
    const res = await post('{ PatientList(family: ["NOBODY-AT-ALL"]) { id } }', { token });
    expect(res.status).toBe(200);
    expect(res.json.data?.['PatientList']).toEqual([]);
    const rows = await gw.auditStore.readEvents({ requestId: res.requestId });
    expect(rows).toHaveLength(1);
    expect(entitiesOf(rows[0] as AuditRecord).filter((e) => e.role?.code === '1')).toEqual([]);
  });

  it('a partial result (data and a field error) is audited with outcome 4 and its patients', async () => {
    const res = await post('{ a: Patient(id: "3") { id } b: PatientList(_count: 100000) { id } }', {
      token,
    });
    expect(res.status).toBe(200);
    expect(res.json.data?.['a']).toEqual({ id: '3' });
    expect(res.json.errors?.length).toBeGreaterThan(0);
    const rows = await gw.auditStore.readEvents({ requestId: res.requestId });
    expect(rows).toHaveLength(1);
    const row = rows[0] as AuditRecord;
    expectValid(row);
    expect(row.outcome).toBe(4);
    expect(row.event['outcomeDesc']).toContain('BAD_USER_INPUT');
    expect(entitiesOf(row).map((e) => e.what.reference)).toContain('Patient/3');
  });

  it('holds no PHI: no search value, name, canary, token or user name in any audit row', async () => {
    const family = `SOTO${tenant.canary}`;
    const res = await post(
      'query($f: [String!]) { PatientList(family: $f, _count: 3) { id name { family given } birthDate } }',
      {
        token,
        variables: { f: [family] },
      },
    );
    expect(res.status).toBe(200);
    // The response does carry the canary (the rows hold it), so the check below is meaningful.
    expect(res.text).toContain(tenant.canary);
    const all = JSON.stringify(await gw.auditStore.readEvents());
    expect(all).toContain(`Patient/`);
    for (const secret of [
      tenant.canary,
      'SOTO',
      'MARIA',
      'JUAN',
      USER_CANARY,
      token,
      token.split('.')[2] as string,
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('denied access', () => {
  it('401 without a token: recorded with its reason and request id, no user claimed', async () => {
    const res = await rawPost('{ Patient(id: "1") { id } }', '127.0.0.31');
    expect(res.status).toBe(401);
    const rows = await eventsOf(res.requestId);
    expect(rows).toHaveLength(1);
    const row = rows[0] as AuditRecord;
    expectValid(row);
    expect(row).toMatchObject({ kind: 'denied', outcome: 4, clientId: null });
    expect(row.event['outcomeDesc']).toBe('UNAUTHENTICATED missing-token');
    const agents = row.event['agent'] as Agent[];
    expect(agents).toHaveLength(1);
    expect(agents[0]?.who.identifier).toBeUndefined();
    expect((agents[0] as { network?: unknown }).network).toEqual({
      address: '127.0.0.31',
      type: '2',
    });
  });

  it('401 with a forged token: recorded, and the token appears nowhere in the row', async () => {
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.from('forged').toString('base64url')}`;
    const res = await rawPost('{ Patient(id: "1") { id } }', '127.0.0.32', forged);
    expect(res.status).toBe(401);
    const rows = await eventsOf(res.requestId);
    expect(rows).toHaveLength(1);
    const text = JSON.stringify(rows);
    expect(text).toContain('UNAUTHENTICATED');
    expect(text).not.toContain(forged);
    expect(text).not.toContain(token.split('.')[1] as string);
    expect(text).not.toContain(SUBJECT);
  });

  it('403 for a token with no fhirgate role: recorded with the verified who', async () => {
    const noRole = await gw.tokenFor('hospital-a', [], { sub: SUBJECT });
    const res = await rawPost('{ Patient(id: "1") { id } }', '127.0.0.32', noRole);
    expect(res.status).toBe(403);
    const rows = await eventsOf(res.requestId);
    expect(rows).toHaveLength(1);
    const row = rows[0] as AuditRecord;
    expectValid(row);
    expect(row).toMatchObject({ kind: 'denied', outcome: 4, clientId: 'hospital-a' });
    expect(row.event['outcomeDesc']).toBe('FORBIDDEN');
    const agents = row.event['agent'] as Agent[];
    expect(agents[0]?.who.identifier?.value).toBe(SUBJECT);
    expect(agents[0]?.network).toEqual({ address: '127.0.0.32', type: '2' });
  });

  it('a field refused with FORBIDDEN (fhir-write without fhir-read) is recorded, and no data leaves', async () => {
    const writer = await gw.tokenFor('hospital-a', ['fhir-write'], { sub: SUBJECT });
    const res = await post('{ Patient(id: "1") { id } }', { token: writer });
    expect(res.json.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const rows = await eventsOf(res.requestId);
    expect(rows.map((r) => [r.kind, r.outcome])).toEqual([['denied', 4]]);
  });
});

describe('admin actions', () => {
  it('adminAction writes a durable event with actor, action, tenant and outcome, no URL', async () => {
    const requestId = `admin-${randomUUID()}`;
    await gw.audit.adminAction({
      principal: {
        issuer: gw.keycloak.issuer(),
        subject: SUBJECT,
        clientId: 'hospital-a',
        roles: new Set(['fhir-write']),
        expiresAt: Math.floor(Date.now() / 1000) + 300,
      },
      action: 'reloadTenantConfig',
      target: 'hospital-a',
      outcome: 'refused',
      code: 'FORBIDDEN',
      requestId,
    });
    // Resolved means durable: the row is there.
    const rows = await gw.auditStore.readEvents({ requestId });
    expect(rows).toHaveLength(1);
    const row = rows[0] as AuditRecord;
    expectValid(row);
    expect(row).toMatchObject({ kind: 'admin', outcome: 4, clientId: 'hospital-a' });
    expect(row.event['subtype']).toEqual([expect.objectContaining({ code: 'reloadTenantConfig' })]);
    expect(row.event['outcomeDesc']).toBe('FORBIDDEN');
    expect(entitiesOf(row)[0]?.what.identifier?.value).toBe('hospital-a');
    expect(JSON.stringify(row)).not.toContain('mysql://');
  });
});

describe('group commit', () => {
  it('40 concurrent PHI reads are written in fewer INSERT statements than 40, each request audited', async () => {
    // Denials of the tests above are not awaited by their requests: let their INSERT settle.
    await new Promise((r) => setTimeout(r, 200));
    const before = gw.audit.stats();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post(`{ Patient(id: "${(i % 50) + 1}") { id } }`, { token }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(40).fill(200));
    const after = gw.audit.stats();
    const inserts = after.batches - before.batches;
    expect(after.written - before.written).toBe(40);
    expect(inserts).toBeLessThan(40);
    expect(after.largestBatch).toBeGreaterThan(1);
    for (const r of results) {
      expect(await gw.auditStore.readEvents({ requestId: r.requestId })).toHaveLength(1);
    }
  });

  it('pipelining on MariaDB: 4 INSERTs in flight at once on 4 connections, every event durable before close returns', async () => {
    const store = createSqlAuditStore(parseDatabaseUrl(gw.registryDb.url), {
      maxConcurrentWrites: 4,
    });
    const trail = createAuditTrail({
      store,
      log: createLogger({ level: 'silent' }),
      batchMax: 5,
      maxInFlight: 4,
    });
    const principal: Principal = {
      issuer: 'https://sso.example.org/realms/hospitals',
      subject: SUBJECT,
      clientId: 'hospital-a',
      roles: new Set(['fhir-read']),
      expiresAt: 2_000_000_000,
    };
    const prefix = `pipe-${randomUUID()}`;
    // 40 events of one turn: 8 batches of 5, of which 4 start at once and the rest follow.
    const events = Array.from({ length: 40 }, (_, i) =>
      trail.phiRead({
        principal,
        requestId: `${prefix}-${i}`,
        search: false,
        references: [`Patient/${i + 1}`],
        outcome: '0',
      }),
    );
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(trail.stats()).toMatchObject({ inFlight: 4, pending: 20 });
    await trail.close();
    await Promise.all(events);
    expect(trail.stats()).toMatchObject({
      batches: 8,
      written: 40,
      peakInFlight: 4,
      inFlight: 0,
      largestBatch: 5,
    });
    const rows = (await gw.auditStore.readEvents({ clientId: 'hospital-a' })).filter((r) =>
      r.requestId.startsWith(prefix),
    );
    expect(rows).toHaveLength(40);
  });
});

describe('audit store unavailable', () => {
  it('PHI reads get 503 AUDIT_UNAVAILABLE with no data, and serve again once the store is back', async () => {
    await gw.registryDb.exec('RENAME TABLE fhirgate_audit_events TO fhirgate_audit_events_away');
    try {
      for (const query of [
        '{ Patient(id: "2") { id name { family } } }',
        '{ PatientList(_count: 3) { id name { family } } }',
        '{ a: Patient(id: "3") { id name { family } } b: PatientList(_count: 100000) { id } }',
      ]) {
        const res = await post(query, { token });
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('5');
        expect(res.json.errors?.map((e) => e.extensions?.['code'])).toEqual(['AUDIT_UNAVAILABLE']);
        expect(res.json.data).toBeUndefined();
        expect(res.text).not.toContain(tenant.canary);
        expect(res.text).not.toContain('"id":"');
      }
    } finally {
      await gw.registryDb.exec('RENAME TABLE fhirgate_audit_events_away TO fhirgate_audit_events');
    }
    const res = await post('{ Patient(id: "2") { id } }', { token });
    expect(res.status).toBe(200);
    expect(res.json.data?.['Patient']).toEqual({ id: '2' });
    expect(await gw.auditStore.readEvents({ requestId: res.requestId })).toHaveLength(1);
  });

  it('a dropped audit table also fails closed, and a recreated one recovers', async () => {
    await gw.registryDb.exec('CREATE TABLE audit_keep AS SELECT * FROM fhirgate_audit_events');
    await gw.registryDb.exec('DROP TABLE fhirgate_audit_events');
    const down = await post('{ Patient(id: "4") { id } }', { token });
    expect(down.status).toBe(503);
    expect(down.json.errors?.[0]?.extensions?.['code']).toBe('AUDIT_UNAVAILABLE');
    expect(down.json.data).toBeUndefined();
    await gw.auditStore.ensureTable();
    const up = await post('{ Patient(id: "4") { id } }', { token });
    expect(up.status).toBe(200);
    expect(await gw.auditStore.readEvents({ requestId: up.requestId })).toHaveLength(1);
  });
});
