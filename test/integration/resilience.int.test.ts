import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealSecret } from '../../src/tenancy/crypto.js';
import { hospitalA, hospitalB } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import {
  type FaultServer,
  refusedPort,
  startSilentMysqlServer,
  startStalledServer,
} from '../helpers/fault-servers.js';

/**
 * One broken tenant must not hurt another (SECURITY-TESTS section E): each fault tenant points
 * at a fake endpoint, hospital-b at a healthy MariaDB database.
 */
let gw: TestGateway;
let stalled: FaultServer;
let silent: FaultServer;
let refused: number;

const QUERY = '{ Patient(id: "1") { id } }';

async function registerFaultTenant(clientId: string, port: number): Promise<void> {
  await gw.registry.upsertTenant({
    clientId,
    displayName: clientId,
    dbType: 'mysql',
    sealedUrl: sealSecret(gw.keyring, clientId, `mysql://root:secret@127.0.0.1:${port}/faultdb`),
    status: 'active',
  });
  await gw.registry.addMapping(clientId, JSON.stringify(hospitalA().mapping), { activate: true });
}

async function timedPost(clientId: string) {
  const token = await gw.tokenFor(clientId);
  const started = performance.now();
  const res = await gw.post(QUERY, { token });
  return { res, ms: performance.now() - started, code: res.json.errors?.[0]?.extensions?.['code'] };
}

beforeAll(async () => {
  gw = await createTestGateway({ tenants: [hospitalB()] });
  stalled = await startStalledServer();
  silent = await startSilentMysqlServer();
  refused = await refusedPort();
  await registerFaultTenant('fault-refused', refused);
  await registerFaultTenant('fault-stalled', stalled.port);
  await registerFaultTenant('fault-silent', silent.port);
  await registerFaultTenant('fault-bulkhead', stalled.port);
});

afterAll(async () => {
  await gw?.close();
  await stalled?.close();
  await silent?.close();
});

describe('per-tenant resilience', () => {
  it('a refused port fails fast with 503, then the breaker opens and no connection is tried', async () => {
    const first = await timedPost('fault-refused');
    expect(first.res.status).toBe(503);
    expect(first.code).toBe('TENANT_UNAVAILABLE');
    // Refused at once: well before the 3 s connect timeout a stalled peer would take.
    expect(first.ms).toBeLessThan(2500);
    // Healthy tenant, interleaved.
    expect((await timedPost('hospital-b')).res.status).toBe(200);
    for (let i = 0; i < 4; i++) {
      await timedPost('fault-refused');
    }
    expect(gw.policies.breakerState('fault-refused')).toBe('open');

    // Something listens on the port now; an open breaker must not even try to connect.
    let accepts = 0;
    const listener = net.createServer((s) => {
      accepts++;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(refused, '127.0.0.1', r));
    try {
      const sixth = await timedPost('fault-refused');
      expect(sixth.res.status).toBe(503);
      expect(sixth.code).toBe('TENANT_UNAVAILABLE');
      expect(sixth.ms).toBeLessThan(1000);
      expect(accepts).toBe(0);
    } finally {
      await new Promise((r) => listener.close(r));
    }
  });

  it('a stalled peer fails at the 3 s connect timeout, and the fake server sees its socket closed', async () => {
    const before = stalled.accepted();
    const { res, ms, code } = await timedPost('fault-stalled');
    expect(res.status).toBe(503);
    expect(code).toBe('TENANT_UNAVAILABLE');
    expect(ms).toBeGreaterThan(2700);
    expect(ms).toBeLessThan(6000);
    expect(stalled.accepted()).toBe(before + 1);
  });

  it('a server that goes silent after the handshake fails at the 5 s statement timeout', async () => {
    const { res, ms, code } = await timedPost('fault-silent');
    expect(res.status).toBe(503);
    expect(code).toBe('UPSTREAM_TIMEOUT');
    expect(ms).toBeGreaterThan(4500);
    expect(ms).toBeLessThan(9000);
    // The stuck connection was destroyed, not returned to the pool.
    expect(gw.pools.tenantStats('fault-silent')?.open ?? 0).toBe(0);
  });

  it('bulkhead: 100 concurrent requests to a stalled tenant, 70 refused at once, the neighbour unaffected', async () => {
    const token = await gw.tokenFor('fault-bulkhead');
    const healthy = await gw.tokenFor('hospital-b');
    const started = performance.now();
    const stalledRequests = Array.from({ length: 100 }, async () => {
      const res = await gw.post(QUERY, { token });
      return { res, ms: performance.now() - started };
    });
    await new Promise((r) => setTimeout(r, 200));
    const neighbour: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const res = await gw.post(QUERY, { token: healthy });
      neighbour.push(performance.now() - t0);
      expect(res.status).toBe(200);
    }
    const results = await Promise.all(stalledRequests);
    const busy = results.filter(
      (r) => r.res.json.errors?.[0]?.extensions?.['code'] === 'TENANT_BUSY',
    );
    expect(busy.length).toBeGreaterThanOrEqual(70);
    for (const r of busy) {
      expect(r.res.status).toBe(503);
      expect(r.res.headers.get('retry-after')).toBe('1');
      // Refused before the 3 s connect timeout ends the 10 admitted ones.
      expect(r.ms).toBeLessThan(2700);
    }
    expect(results.every((r) => r.res.status === 503)).toBe(true);
    // While the stalled tenant holds its 10 slots, the healthy one answers promptly.
    expect(Math.max(...neighbour)).toBeLessThan(2700);
  });

  it('a full bulkhead, then an open breaker, refuse the tenant before parsing: 503, Retry-After, no statement, no denial audited', async () => {
    await registerFaultTenant('fault-busy', stalled.port);
    const token = await gw.tokenFor('fault-busy');
    // 10 statements connecting to the peer that never greets, 20 queued: the bulkhead is full.
    const holders = Array.from({ length: 30 }, () => gw.post(QUERY, { token }));
    // Full before the 3 s connect timeouts open the breaker (then the refusal is `open`).
    const until = performance.now() + 2700;
    while (gw.policies.refusal('fault-busy')?.kind !== 'busy') {
      expect(performance.now()).toBeLessThan(until);
      await new Promise((r) => setTimeout(r, 20));
    }
    const refusedEarly = async (requestId: string) => {
      const before = gw.statements.length;
      // Not even GraphQL: only a refusal before parsing answers this with the tenant's state.
      const res = await gw.post('{ Patient(id: ', {
        token,
        headers: { 'x-request-id': requestId },
      });
      expect(gw.statements.length).toBe(before);
      expect(res.status).toBe(503);
      // The gateway's own id; the client's is a correlation id only.
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers.get('x-request-id')).not.toBe(requestId);
      expect(res.json.data).toBeUndefined();
      return res;
    };
    const busy = await refusedEarly('early-busy-1');
    expect(busy.headers.get('retry-after')).toBe('1');
    const text = 'The tenant database is busy; retry shortly.';
    expect(busy.json.errors).toEqual([
      {
        message: text,
        extensions: {
          code: 'TENANT_BUSY',
          resource: {
            resourceType: 'OperationOutcome',
            issue: [{ severity: 'error', code: 'throttled', details: { text } }],
          },
        },
      },
    ]);
    // The 10 connect timeouts (3 s) open the breaker; the queued 20 fail at once.
    const held = await Promise.all(holders);
    expect(held.every((r) => r.status === 503)).toBe(true);
    expect(gw.policies.breakerState('fault-busy')).toBe('open');
    const open = await refusedEarly('early-open-1');
    expect(open.json.errors?.[0]?.extensions?.['code']).toBe('TENANT_UNAVAILABLE');
    const retryAfter = Number(open.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    // A fhir-admin token is let through to Yoga (an administrator must reach a broken tenant):
    // this one fails parsing, not on the tenant's state.
    const adminToken = await gw.tokenFor('fault-busy', ['fhir-read', 'fhir-admin']);
    const admin = await gw.post('{ Patient(id: ', { token: adminToken });
    expect(admin.json.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_PARSE_FAILED');
    // Busy is not an access-control decision: no denial reaches the audit trail.
    await new Promise((r) => setTimeout(r, 300));
    expect(await gw.auditStore.readEvents({ requestId: 'early-busy-1' })).toEqual([]);
    expect(await gw.auditStore.readEvents({ requestId: 'early-open-1' })).toEqual([]);
  });

  it('statement errors of a healthy server never open the breaker', async () => {
    await gw.tenantDbs
      .get('hospital-b')!
      .exec('ALTER TABLE usuarios RENAME COLUMN rut_usr TO rut_x');
    try {
      for (let i = 0; i < 8; i++) {
        const { res, code } = await timedPost('hospital-b');
        expect(code).toBe('TENANT_CONFIG_INVALID');
        expect(res.text).not.toContain('rut_usr');
      }
      expect(gw.policies.breakerState('hospital-b')).toBe('closed');
    } finally {
      await gw.tenantDbs
        .get('hospital-b')!
        .exec('ALTER TABLE usuarios RENAME COLUMN rut_x TO rut_usr');
    }
    expect((await timedPost('hospital-b')).res.status).toBe(200);
  });

  it('logs fault codes but no URL, password or SQL', () => {
    const text = gw.logLines.join('\n');
    expect(text).toContain('ECONNREFUSED');
    expect(text).toContain('ETIMEDOUT');
    expect(text).toContain('tenant breaker opened');
    for (const secret of ['secret@', 'mysql://', 'faultdb', 'SELECT']) {
      expect(text).not.toContain(secret);
    }
  });
});
