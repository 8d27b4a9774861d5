import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealSecret } from '../../src/tenancy/crypto.js';
import { hospitalA } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * Every error body has the same shape, whichever layer refused the request: `extensions.code`
 * and a FHIR OperationOutcome in `extensions.resource` whose text is the message. The early
 * rejections (HTTP rules, authentication, tenant selection, rate limits) answer before Yoga
 * parses anything, so they build that body themselves; the rest goes through Yoga.
 */
let gw: TestGateway;
let limited: TestGateway;
const QUERY = '{ Patient(id: "1") { id } }';

beforeAll(async () => {
  gw = await createTestGateway({ tenants: [hospitalA()] });
  limited = await createTestGateway({
    tenants: [hospitalA()],
    rateLimits: { user: { perSecond: 1, burst: 1 }, tenant: { perSecond: 0, burst: 0 } },
  });
  await gw.registry.upsertTenant({
    clientId: 'broken-url',
    displayName: 'broken-url',
    dbType: 'mysql',
    sealedUrl: sealSecret(gw.keyring, 'broken-url', 'mysql://u:p@127.0.0.1:3306/db?debug=true'),
    status: 'active',
  });
  await gw.registry.addMapping('broken-url', JSON.stringify(hospitalA().mapping), {
    activate: true,
  });
});

afterAll(async () => {
  await gw?.close();
  await limited?.close();
});

interface ErrorBody {
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** Asserts the one error shape and returns the first error. */
function expectErrorBody(text: string, code: string, issueType: string) {
  const body = JSON.parse(text) as ErrorBody;
  const error = body.errors?.[0];
  expect(error?.extensions?.['code']).toBe(code);
  expect(error?.extensions?.['resource']).toEqual({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: issueType, details: { text: error?.message } }],
  });
  expect(error?.message.length).toBeGreaterThan(0);
  return error;
}

async function raw(init: RequestInit & { url?: string }) {
  const res = await fetch(init.url ?? gw.url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('error bodies carry extensions.code and an OperationOutcome', () => {
  it('405 for a query over GET, with Allow: POST (41)', async () => {
    const res = await raw({
      url: `${gw.url}?query=${encodeURIComponent(QUERY)}`,
      method: 'GET',
      headers: { accept: 'application/json' },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expectErrorBody(res.text, 'METHOD_NOT_ALLOWED', 'not-supported');
  });

  it.each([
    ['text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE', 'not-supported'],
    ['application/x-www-form-urlencoded', 415, 'UNSUPPORTED_MEDIA_TYPE', 'not-supported'],
  ])('%s bodies: %i %s (42)', async (type, status, code, issue) => {
    const res = await raw({ method: 'POST', headers: { 'content-type': type }, body: 'query=x' });
    expect(res.status).toBe(status);
    expectErrorBody(res.text, code, issue);
  });

  it('413 for a declared body over 64 KiB, before anything is parsed (43)', async () => {
    const res = await raw({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ __typename } #${'x'.repeat(70 * 1024)}` }),
    });
    expect(res.status).toBe(413);
    expectErrorBody(res.text, 'PAYLOAD_TOO_LARGE', 'too-long');
  });

  it('411 for a body without a declared length', async () => {
    const res = await raw({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(JSON.stringify({ query: QUERY })));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(411);
    expectErrorBody(res.text, 'LENGTH_REQUIRED', 'structure');
  });

  it('401 without a token and with a bad one, with the Bearer challenge (1, 2)', async () => {
    const none = await gw.post(QUERY);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="fhirgate"');
    expectErrorBody(none.text, 'UNAUTHENTICATED', 'login');
    const bad = await gw.post(QUERY, { token: 'a.b' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expectErrorBody(bad.text, 'UNAUTHENTICATED', 'login');
  });

  it('403 for a tenant mismatch, an unknown tenant and a token without a fhirgate role (22, 24, 26)', async () => {
    const mismatch = await gw.post(QUERY, {
      token: await gw.tokenFor('hospital-a', ['fhir-read'], { client_id: 'hospital-b' }),
    });
    expect(mismatch.status).toBe(403);
    expectErrorBody(mismatch.text, 'TENANT_MISMATCH', 'security');
    const unknown = await gw.post(QUERY, { token: await gw.tokenFor('__proto__') });
    expect(unknown.status).toBe(403);
    expectErrorBody(unknown.text, 'UNKNOWN_TENANT', 'forbidden');
    const roleless = await gw.post(QUERY, { token: await gw.tokenFor('hospital-a', []) });
    expect(roleless.status).toBe(403);
    expectErrorBody(roleless.text, 'FORBIDDEN', 'forbidden');
  });

  it('503 TENANT_CONFIG_INVALID for a sealed URL with driver options', async () => {
    const res = await gw.post(QUERY, { token: await gw.tokenFor('broken-url') });
    expect(res.status).toBe(503);
    expectErrorBody(res.text, 'TENANT_CONFIG_INVALID', 'exception');
  });

  it('429 RATE_LIMITED with Retry-After', async () => {
    const token = await limited.tokenFor('hospital-a');
    expect((await limited.post(QUERY, { token })).status).toBe(200);
    const res = await limited.post(QUERY, { token });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expectErrorBody(res.text, 'RATE_LIMITED', 'throttled');
  });

  it('Yoga-level refusals (batch, parse, validation) have the same shape (40)', async () => {
    const token = await gw.tokenFor('hospital-a');
    const batch = await raw({
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify([{ query: QUERY }, { query: QUERY }]),
    });
    expect(batch.status).toBe(400);
    const batchError = JSON.parse(batch.text) as ErrorBody;
    expect(batchError.errors?.[0]?.extensions?.['code']).toEqual(expect.any(String));
    expect(batchError.errors?.[0]?.extensions?.['resource']).toMatchObject({
      resourceType: 'OperationOutcome',
    });
    const parse = await gw.post('{ Patient(id: "1") { id }', { token });
    expectErrorBody(parse.text, 'GRAPHQL_PARSE_FAILED', 'structure');
    const validation = await gw.post('{ Patient(id: "1") { nope } }', { token });
    expectErrorBody(validation.text, 'GRAPHQL_VALIDATION_FAILED', 'invalid');
  });

  it('503 AUTH_UNAVAILABLE with Retry-After when the JWKS is down on a cold cache (18)', async () => {
    // A new gateway has not fetched its JWKS yet: the first verification needs the IdP.
    const coldGw = await createTestGateway({ tenants: [hospitalA()] });
    try {
      const token = await coldGw.tokenFor('hospital-a');
      coldGw.keycloak.setMode('test', 'down');
      const res = await coldGw.post(QUERY, { token });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expectErrorBody(res.text, 'AUTH_UNAVAILABLE', 'transient');
    } finally {
      await coldGw.close();
    }
  });
});
