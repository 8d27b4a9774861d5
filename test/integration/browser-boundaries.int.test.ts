import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hospitalA } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * Admin and browser boundaries (issue 11, item 5): CORS is closed unless origins are
 * configured, and then open to those origins only, never with credentials; nothing the gateway
 * runs writes outside its JSON logger.
 */
const APP = 'https://app.example.org';
const EVIL = 'https://evil.example.net';
const QUERY = '{ Patient(id: "1") { id } }';

let closed: TestGateway;
let open: TestGateway;
let token: string;

beforeAll(async () => {
  closed = await createTestGateway({ tenants: [hospitalA()] });
  open = await createTestGateway({ tenants: [hospitalA()], corsOrigins: [APP] });
  token = await open.tokenFor('hospital-a');
});

afterAll(async () => {
  await closed?.close();
  await open?.close();
});

function preflight(url: string, origin: string) {
  return fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });
}

describe('CORS', () => {
  it('is closed by default: no preflight, no CORS header on an answer', async () => {
    const pre = await preflight(closed.url, APP);
    expect(pre.status).toBe(405);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const res = await closed.post(QUERY, {
      token: await closed.tokenFor('hospital-a'),
      headers: { origin: APP },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('opens to a configured origin, for POST and without credentials', async () => {
    const pre = await preflight(open.url, APP);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(APP);
    expect(pre.headers.get('access-control-allow-methods')).toBe('POST');
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    const res = await open.post(QUERY, { token, headers: { origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('gives any other origin no CORS header, so the browser withholds the answer', async () => {
    const pre = await preflight(open.url, EVIL);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    const res = await open.post(QUERY, { token, headers: { origin: EVIL } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    // A preflight of any other path is still 404.
    expect((await preflight(open.url.replace('/graphql', '/x/graphql'), APP)).status).toBe(404);
  });
});

describe('nothing bypasses the JSON logger', () => {
  it('an inline JSON literal (graphql-jit) writes no console or stderr line; a variable inside one is refused', async () => {
    const admin = await open.tokenFor('hospital-a', ['fhir-admin']);
    const spies = [
      ...(['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((m) =>
        vi.spyOn(console, m),
      ),
      vi.spyOn(process.stderr, 'write'),
      vi.spyOn(process.stdout, 'write'),
    ];
    try {
      const inline = await open.post(
        'mutation { activateTenantMapping(clientId: "hospital-a", document: { formatVersion: 1, resources: {} }, dryRun: true) { ok } }',
        { token: admin },
      );
      // The test gateway has no admin service: the field answers FORBIDDEN after compiling.
      expect(inline.json.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      const withVariable = await open.post(
        'mutation($v: Int) { activateTenantMapping(clientId: "hospital-a", document: { formatVersion: $v }, dryRun: true) { ok } }',
        { token: admin, variables: { v: 1 } },
      );
      expect(withVariable.status).toBe(400);
      expect(withVariable.text).toContain('pass the whole value as one variable');
      for (const spy of spies) {
        expect(spy).not.toHaveBeenCalled();
      }
    } finally {
      for (const spy of spies) {
        spy.mockRestore();
      }
    }
    // It went to the JSON log instead, if anywhere: every line there is JSON.
    for (const line of open.logLines) {
      expect(() => JSON.parse(line)).not.toThrow();
    }
  });
});
