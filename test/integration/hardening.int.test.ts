import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hospitalA } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/** SECURITY-TESTS section C against the real HTTP gateway. */
let gw: TestGateway;
let token: string;

beforeAll(async () => {
  gw = await createTestGateway({ tenants: [hospitalA()] });
  token = await gw.tokenFor('hospital-a');
});

afterAll(async () => {
  await gw?.close();
});

/** `{ PatientList { extension { … { url } } } }` with `levels` fields in a chain. */
function nested(levels: number): string {
  let inner = 'url';
  for (let i = 0; i < levels - 2; i++) {
    inner = `extension { ${inner} }`;
  }
  return `{ PatientList { ${inner} } }`;
}

async function rejectedBeforeExecution(query: string) {
  const from = gw.statements.length;
  const res = await gw.post(query, { token });
  expect(res.json.data ?? null).toBeNull();
  expect(res.json.errors?.length).toBeGreaterThan(0);
  expect(gw.statements.length).toBe(from);
  return res;
}

describe('GraphQL hardening', () => {
  it('allows depth 8 and rejects depth 9 without naming the limit', async () => {
    const ok = await gw.post(nested(8), { token });
    expect(ok.json.errors).toBeUndefined();
    const res = await rejectedBeforeExecution(nested(9));
    expect(res.text).not.toMatch(/depth limit of \d/);
  });

  it('allows a real nested FHIR query', async () => {
    const res = await gw.post(
      '{ PatientList(_count: 2) { id identifier { system value } name { family given text } telecom { system value use } } }',
      { token },
    );
    expect(res.json.errors).toBeUndefined();
  });

  it('allows 15 aliases and rejects 16', async () => {
    const aliases = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `a${i}: Patient(id: "${i + 1}") { id }`).join(' ')} }`;
    expect((await gw.post(aliases(15), { token })).json.errors).toBeUndefined();
    await rejectedBeforeExecution(aliases(16));
  });

  it('rejects 51 directives and 1001 tokens', async () => {
    const directives = Array.from({ length: 51 }, () => '@include(if: true)').join(' ');
    await rejectedBeforeExecution(`{ Patient(id: "1") { id ${directives} } }`);
    const fields = Array.from({ length: 1000 }, () => 'id').join(' ');
    await rejectedBeforeExecution(`{ Patient(id: "1") { ${fields} } }`);
  });

  it('gives no field suggestions', async () => {
    const res = await rejectedBeforeExecution('{ PatientList { nmae { family } } }');
    expect(res.text).not.toContain('Did you mean');
    const coercion = await gw.post('query($c: Int) { PatientList(_count: $c) { id } }', {
      token,
      variables: { c: 'twenty' },
    });
    expect(coercion.text).not.toContain('Did you mean');
  });

  it('keeps the standard introspection query (GraphiQL) working for authenticated callers', async () => {
    const res = await gw.post(getIntrospectionQuery(), { token });
    expect(res.json.errors).toBeUndefined();
    expect(JSON.stringify(res.json.data).length).toBeGreaterThan(10_000);
  });

  it('refuses batches, non-JSON bodies, bodies without a length, and bodies over 64 KiB', async () => {
    const post = (body: string, headers: Record<string, string>) =>
      fetch(gw.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, ...headers },
        body,
      });
    const batch = await post(
      JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
      {
        'content-type': 'application/json',
      },
    );
    expect(batch.status).toBe(400);
    for (const type of [
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await post('query=%7B__typename%7D', { 'content-type': type });
      expect(res.status, type).toBe(415);
    }
    const big = await post(
      JSON.stringify({ query: `{ __typename } #${'x'.repeat(1024 * 1024)}` }),
      {
        'content-type': 'application/json',
      },
    );
    expect(big.status).toBe(413);
    const chunked = await fetch(gw.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"query":"{ __typename }"}'));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(411);
  });

  it('masks unexpected errors even in development mode and keeps codes on expected ones', async () => {
    const res = await gw.post('{ Patient(id: "1", _id: "2") { id } }', { token });
    expect(res.json.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(res.text).not.toContain('originalError');
    expect(res.text).not.toContain('stack');
  });
});

describe('rate limits', () => {
  let limited: TestGateway;
  beforeAll(async () => {
    limited = await createTestGateway({
      tenants: [hospitalA()],
      rateLimits: { user: { perSecond: 1, burst: 3 }, tenant: { perSecond: 1, burst: 5 } },
    });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('answers 429 with Retry-After per user, then per tenant, before any tenant statement', async () => {
    const alice = await limited.tokenFor('hospital-a', ['fhir-read'], { sub: 'alice' });
    const bob = await limited.tokenFor('hospital-a', ['fhir-read'], { sub: 'bob' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await limited.post('{ Patient(id: "1") { id } }', { token: alice })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const from = limited.statements.length;
    const refused = await limited.post('{ Patient(id: "1") { id } }', { token: alice });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.json.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    expect(limited.statements.length).toBe(from);
    // Bob has his own bucket, but the tenant's (burst 5) is nearly spent by now.
    const bobStatuses = [];
    for (let i = 0; i < 3; i++) {
      bobStatuses.push((await limited.post('{ Patient(id: "1") { id } }', { token: bob })).status);
    }
    expect(bobStatuses).toEqual([200, 200, 429]);
  });
});

describe('refusal hold (a client that re-sends at once cannot loop on refusals)', () => {
  let held: TestGateway;
  const HOLD_MS = 800;
  /** The shortest hold: a random half to all of `HOLD_MS`; 30 ms for timer slack. */
  const SHORTEST = HOLD_MS / 2 - 30;
  beforeAll(async () => {
    held = await createTestGateway({
      tenants: [hospitalA()],
      // One request per 5 s: no token comes back during the holds below.
      rateLimits: { user: { perSecond: 0.2, burst: 1 }, tenant: { perSecond: 0, burst: 0 } },
      refusalHold: { delayMs: HOLD_MS, maxHeld: 2 },
    });
  });
  afterAll(async () => {
    await held?.close();
  });

  async function timed(token: string) {
    const started = performance.now();
    const res = await held.post('{ Patient(id: "1") { id } }', { token });
    return { res, ms: performance.now() - started };
  }

  it('holds each 429 for half to all of its Retry-After (capped), so a closed loop of re-sends slows to the hold', async () => {
    const carol = await held.tokenFor('hospital-a', ['fhir-read'], { sub: 'carol' });
    const first = await timed(carol);
    expect(first.res.status).toBe(200);
    const started = performance.now();
    const refused = [];
    for (let i = 0; i < 3; i++) {
      refused.push(await timed(carol));
    }
    // Three refusals re-sent at once took at least three holds, and each kept its answer.
    expect(performance.now() - started).toBeGreaterThanOrEqual(3 * SHORTEST);
    for (const { res, ms } of refused) {
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(res.json.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
      expect(ms).toBeGreaterThanOrEqual(SHORTEST);
      // Upper bound with room for a loaded machine: the hold is what is measured, not the machine.
      expect(ms).toBeLessThan(HOLD_MS + 1500);
    }
  });

  it('holds at most maxHeld refusals at once and answers the rest at once', async () => {
    const dave = await held.tokenFor('hospital-a', ['fhir-read'], { sub: 'dave' });
    expect((await timed(dave)).res.status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 6 }, () => timed(dave)));
    expect(answers.map((a) => a.res.status)).toEqual([429, 429, 429, 429, 429, 429]);
    // Exactly the 2 held ones waited the hold; the other 4 were answered before it ended.
    expect(answers.filter((a) => a.ms >= SHORTEST)).toHaveLength(2);
  });
});
