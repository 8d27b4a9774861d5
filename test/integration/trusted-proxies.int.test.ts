import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hospitalA } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { rawHttp } from '../helpers/raw-http.js';

/**
 * The client address behind proxies (`FHIRGATE_TRUSTED_PROXIES`), over real HTTP: each test
 * connects from a loopback address of its own (127.0.0.x). Only 127.0.0.10 and 127.0.0.11 are
 * trusted proxies; from them the right-most X-Forwarded-For hop that is not a trusted proxy is
 * the client of the failed-authentication limit and of the denial audit rows. From anyone else
 * the header is the client's own say and is ignored.
 */
let gw: TestGateway;
const BURST = 3;
const BODY = JSON.stringify({ query: '{ Patient(id: "1") { id } }' });
const PROXY = '127.0.0.10';

beforeAll(async () => {
  gw = await createTestGateway({
    tenants: [hospitalA()],
    // One failure back every 100 s: the bucket does not refill during the test.
    authFailureLimit: { perSecond: 0.01, burst: BURST },
    trustedProxies: [PROXY, '127.0.0.11/32'],
  });
});

afterAll(async () => {
  await gw?.close();
});

function send(from: string, bearer: string, forwardedFor?: string) {
  return rawHttp(gw.url, {
    method: 'POST',
    target: '/graphql',
    localAddress: from,
    headers: {
      'content-type': 'application/json',
      'content-length': String(BODY.length),
      authorization: `Bearer ${bearer}`,
      ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
    },
    body: BODY,
  });
}

/** The caller's network address in the audit row written for a request id, once it is written. */
async function auditedAddress(requestId: string): Promise<string | undefined> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rows = await gw.auditStore.readEvents({ requestId });
    if (rows.length > 0 || Date.now() > deadline) {
      const agents = rows[0]?.event['agent'] as Array<{ network?: { address: string } }>;
      return agents?.[0]?.network?.address;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('trusted proxies', () => {
  it('ignores a spoofed X-Forwarded-For from an untrusted peer: the limit and the audit use the peer', async () => {
    const from = '127.0.0.20';
    const first = await send(from, 'garbage', '198.51.100.1');
    expect(first.status).toBe(401);
    expect(await auditedAddress(first.headers['x-request-id'] ?? '')).toBe(from);
    for (let i = 2; i <= BURST; i++) {
      expect((await send(from, 'garbage', `198.51.100.${i}`)).status).toBe(401);
    }
    // A fresh forwarded address does not buy a fresh bucket.
    const token = await gw.tokenFor('hospital-a');
    const refused = await send(from, token, '198.51.100.99');
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('RATE_LIMITED');
  });

  it('through a trusted proxy, the limit applies per forwarded client', async () => {
    const client = '203.0.113.7';
    const first = await send(PROXY, 'garbage', client);
    expect(first.status).toBe(401);
    expect(await auditedAddress(first.headers['x-request-id'] ?? '')).toBe(client);
    for (let i = 1; i < BURST; i++) {
      expect((await send(PROXY, 'garbage', client)).status).toBe(401);
    }
    const token = await gw.tokenFor('hospital-a');
    // That client is refused before verification, even with a valid token...
    expect((await send(PROXY, token, client)).status).toBe(429);
    // ...also when it writes another address to the left of the one our proxy appended...
    expect((await send(PROXY, token, `203.0.113.8, ${client}`)).status).toBe(429);
    // ...and through a chain of trusted proxies.
    expect((await send(PROXY, token, `${client}, 127.0.0.11`)).status).toBe(429);
    // Another client behind the same proxy, and the proxy's own requests, are not.
    const other = await send(PROXY, token, '203.0.113.8');
    expect(other.status).toBe(200);
    expect(JSON.parse(other.body).errors).toBeUndefined();
    // The read's audit event names the client behind the proxy, not the proxy.
    expect(await auditedAddress(other.headers['x-request-id'] ?? '')).toBe('203.0.113.8');
    const own = await send(PROXY, token);
    expect(own.status).toBe(200);
    expect(await auditedAddress(own.headers['x-request-id'] ?? '')).toBe(PROXY);
  });
});
