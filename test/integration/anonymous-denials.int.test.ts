import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/sql-audit-store.js';
import { hospitalA } from '../fixtures/tenants.js';
import { HANG_BACKSTOP_MS } from '../helpers/backstop.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { rawHttp } from '../helpers/raw-http.js';

/**
 * Anonymous denials (issue 11, item 4): a flood of bad tokens writes two audit rows per client
 * address and interval (the first denial, then one with the count), and an address whose tokens
 * keep failing is refused before the next one is verified. Each test sends from a loopback
 * address of its own (127.0.0.x), which the gateway sees as the client address.
 */
let gw: TestGateway;
// Long enough that the 200 requests of the first test land in one interval on a loaded machine.
const INTERVAL_MS = 5000;
const BURST = 5;
const BODY = JSON.stringify({ query: '{ Patient(id: "1") { id } }' });

beforeAll(async () => {
  gw = await createTestGateway({
    tenants: [hospitalA()],
    audit: { denialIntervalMs: INTERVAL_MS },
    // One failure back every 100 s: the bucket does not refill during the test.
    authFailureLimit: { perSecond: 0.01, burst: BURST },
  });
});

afterAll(async () => {
  await gw?.close();
});

function send(from: string, bearer: string | undefined) {
  return rawHttp(gw.url, {
    method: 'POST',
    target: '/graphql',
    localAddress: from,
    headers: {
      'content-type': 'application/json',
      'content-length': String(BODY.length),
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
    },
    body: BODY,
  });
}

/** Denial rows whose unverified agent came from `address`, once they account for `denials`. */
async function rowsFrom(address: string, denials: number): Promise<AuditRecord[]> {
  const deadline = Date.now() + HANG_BACKSTOP_MS;
  for (;;) {
    const rows = (await gw.auditStore.readEvents()).filter((r) => {
      const agents = r.event['agent'] as Array<{ network?: { address: string } }>;
      return r.kind === 'denied' && agents[0]?.network?.address === address;
    });
    if (rows.reduce((n, r) => n + deniedCount(r), 0) >= denials || Date.now() > deadline) {
      return rows;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function deniedCount(row: AuditRecord): number {
  const entities = row.event['entity'] as Array<{
    detail?: Array<{ type: string; valueString: string }>;
  }>;
  const detail = entities.flatMap((e) => e.detail ?? []).find((d) => d.type === 'deniedCount');
  return detail === undefined ? 1 : Number(detail.valueString);
}

describe('anonymous denials', () => {
  it('200 bad tokens from one address: every one refused, two audit rows with the full count', async () => {
    const from = '127.0.0.42';
    const answers = await Promise.all(Array.from({ length: 200 }, () => send(from, 'garbage')));
    // 401 until the address's failures are spent (a few more when requests are verified in
    // the same turn), 429 after: none gets further.
    const unauthenticated = answers.filter((a) => a.status === 401).length;
    expect(unauthenticated).toBeGreaterThanOrEqual(BURST);
    expect(unauthenticated).toBeLessThan(100);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(200 - unauthenticated);
    const rows = await rowsFrom(from, 200);
    expect(rows).toHaveLength(2);
    expect(rows.map(deniedCount).sort((a, b) => a - b)).toEqual([1, 199]);
    const aggregate = rows.find((r) => deniedCount(r) === 199) as AuditRecord;
    expect(aggregate.event['outcomeDesc']).toBe(
      `aggregate UNAUTHENTICATEDx${unauthenticated - 1} RATE_LIMITEDx${200 - unauthenticated}`,
    );
    expect(aggregate.event['period']).toMatchObject({ start: expect.any(String) });
    // The first one has a row of its own, under the request id its answer carried.
    const first = rows.find((r) => deniedCount(r) === 1) as AuditRecord;
    expect(answers.map((a) => a.headers['x-request-id'])).toContain(first.requestId);
  });

  it('refuses an address whose tokens keep failing before verifying the next, valid ones included; others are unaffected', async () => {
    const from = '127.0.0.43';
    for (let i = 0; i < BURST; i++) {
      expect((await send(from, 'garbage')).status).toBe(401);
    }
    const token = await gw.tokenFor('hospital-a');
    const refused = await send(from, token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('RATE_LIMITED');
    const elsewhere = await send('127.0.0.44', token);
    expect(elsewhere.status).toBe(200);
  });

  it('a verified caller is never aggregated: each denial keeps its own row', async () => {
    const noRole = await gw.tokenFor('hospital-a', []);
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push(await send('127.0.0.45', noRole));
    }
    for (const answer of answers) {
      expect(answer.status).toBe(403);
      const requestId = answer.headers['x-request-id'] ?? '';
      const deadline = Date.now() + 10_000;
      let rows: AuditRecord[] = [];
      while (rows.length === 0 && Date.now() < deadline) {
        rows = await gw.auditStore.readEvents({ requestId });
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(rows.map((r) => r.clientId)).toEqual(['hospital-a']);
    }
  });
});
