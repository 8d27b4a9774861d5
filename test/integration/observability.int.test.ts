import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantHash } from '../../src/logger.js';
import { parseKeyring, sealSecret } from '../../src/tenancy/crypto.js';
import { parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import { createTenantRegistry } from '../../src/tenancy/registry.js';
import { type CanaryTenant, hospitalA, hospitalB } from '../fixtures/tenants.js';
import { refusedPort } from '../helpers/fault-servers.js';
import { type KeycloakStub, startKeycloakStub } from '../helpers/jwks-server.js';
import { startMain, waitFor } from '../helpers/main-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * /metrics and /readyz of the real server process (`src/main.ts` in production mode), after real
 * requests against real MariaDB tenants. The registry is reached through a TCP relay the test can
 * cut, to make it unreachable without touching any tenant database.
 */

const METRICS_TOKEN = `scrape-${randomBytes(12).toString('hex')}`;
const DOWN = 'hospital-down';

/** A TCP relay to the MariaDB server that can be cut (listener closed, connections dropped). */
interface Relay {
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function startRelay(target: { host: string; port: number }): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const start = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  };
  await start();
  return {
    port,
    start,
    async stop() {
      const closed = new Promise((resolve) => server?.close(resolve));
      for (const s of sockets) {
        s.destroy();
      }
      await closed;
    },
  };
}

/** The value of one sample, matched on its name and exactly its labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) {
      continue;
    }
    const got: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) {
      got[pair[1] as string] = pair[2] as string;
    }
    if (JSON.stringify(Object.entries(got).sort()) === want) {
      return Number(m[3]);
    }
  }
  return 0;
}

describe('observability of the real server', () => {
  const key = randomBytes(32);
  const a: CanaryTenant = hospitalA();
  const b: CanaryTenant = hospitalB();
  const A = tenantHash(a.clientId);
  const B = tenantHash(b.clientId);
  const D = tenantHash(DOWN);
  let registryDb: TestDatabase;
  let dbA: TestDatabase;
  let dbB: TestDatabase;
  let keycloak: KeycloakStub;
  let relay: Relay;
  let run: ReturnType<typeof startMain>;
  let base: string;

  async function scrape(): Promise<string> {
    const res = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(res.status).toBe(200);
    return res.text();
  }

  async function post(clientId: string | undefined, query: string, variables?: object) {
    const token =
      clientId === undefined
        ? undefined
        : await keycloak.tokenFor({ clientId, roles: ['fhir-read'] });
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ query, variables }),
    });
    return {
      status: res.status,
      json: (await res.json()) as {
        data?: Record<string, unknown> | null;
        errors?: Array<{ extensions?: { code?: string } }>;
      },
    };
  }

  beforeAll(async () => {
    registryDb = await createTestDatabase('reg');
    dbA = await createTestDatabase('ten');
    dbB = await createTestDatabase('ten');
    keycloak = await startKeycloakStub();
    relay = await startRelay(registryDb);
    const registry = createTenantRegistry(parseDatabaseUrl(registryDb.url));
    await registry.applySchema();
    const keyring = parseKeyring({ primaryKey: key.toString('base64') });
    const down = `mysql://root:secret@127.0.0.1:${await refusedPort()}/gone`;
    for (const [tenant, url] of [
      [a, dbA.url],
      [b, dbB.url],
      [{ ...a, clientId: DOWN }, down],
    ] as const) {
      if (tenant.clientId !== DOWN) {
        const db = tenant === a ? dbA : dbB;
        for (const ddl of tenant.ddl) {
          await db.exec(ddl);
        }
        await tenant.seed(db);
      }
      await registry.upsertTenant({
        clientId: tenant.clientId,
        displayName: tenant.clientId,
        dbType: 'mysql',
        sealedUrl: sealSecret(keyring, tenant.clientId, url),
        status: 'active',
      });
      await registry.addMapping(tenant.clientId, JSON.stringify(tenant.mapping), {
        activate: true,
      });
    }
    await registry.close();

    const port = await refusedPort();
    base = `http://127.0.0.1:${port}`;
    const user = encodeURIComponent(registryDb.user);
    const password = encodeURIComponent(registryDb.password);
    run = startMain({
      FHIRGATE_REGISTRY_URL: `mysql://${user}:${password}@127.0.0.1:${relay.port}/${registryDb.name}`,
      FHIRGATE_OIDC_ISSUER: keycloak.issuer(),
      FHIRGATE_ENCRYPTION_KEY: key.toString('base64'),
      FHIRGATE_METRICS_TOKEN: METRICS_TOKEN,
      FHIRGATE_POOL_TENANT_CONNECTIONS: '2',
      FHIRGATE_BREAKER_THRESHOLD: '2',
      FHIRGATE_READY_TIMEOUT_MS: '500',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    await waitFor('the server', async () =>
      (await fetch(`${base}/healthz`)).ok ? true : undefined,
    );
  });

  afterAll(async () => {
    run?.child.kill('SIGTERM');
    await run?.exited;
    await relay?.stop().catch(() => {});
    await keycloak?.close();
    await Promise.allSettled([registryDb?.drop(), dbA?.drop(), dbB?.drop()]);
  });

  it('refuses a scrape without the token, with no metric in the answer', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer not-the-token' }];
    for (const headers of attempts) {
      const res = await fetch(`${base}/metrics`, { headers });
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain('fhirgate_');
    }
  });

  it('counts requests by tenant hash, root field and outcome, and times them', async () => {
    const before = await scrape();
    // A client-chosen operation name carrying the canary: it must not become a label.
    const named = `PHI_${a.canary.replace(/-/g, '_')}`;
    for (const id of ['1', '2', '3']) {
      const res = await post(
        a.clientId,
        `query ${named} { Patient(id: "${id}") { id name { family } } }`,
      );
      expect(res.json.data?.['Patient']).toMatchObject({ id });
      expect(JSON.stringify(res.json)).toContain(a.canary);
    }
    const list = await post(
      a.clientId,
      'query($f: [String!]) { PatientList(family: $f, _count: 2) { id } }',
      {
        f: [`SOTO${a.canary}`],
      },
    );
    expect(list.json.errors).toBeUndefined();
    const unsupported = await post(a.clientId, '{ PatientList(address_city: "Talca") { id } }');
    expect(unsupported.json.errors?.[0]?.extensions?.code).toBe('SEARCH_PARAM_NOT_SUPPORTED');
    expect((await post(b.clientId, '{ Patient(id: "1") { id } }')).json.data?.['Patient']).toEqual({
      id: '1',
    });
    expect((await post(undefined, '{ Patient(id: "1") { id } }')).status).toBe(401);

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);
    const req = (tenant: string, operation: string, outcome: string) =>
      delta('fhirgate_requests_total', { tenant, operation, outcome });
    expect(req(A, 'query:Patient', 'ok')).toBe(3);
    expect(req(A, 'query:PatientList', 'ok')).toBe(1);
    expect(req(A, 'query:PatientList', 'SEARCH_PARAM_NOT_SUPPORTED')).toBe(1);
    expect(req(B, 'query:Patient', 'ok')).toBe(1);
    expect(req('none', 'none', 'UNAUTHENTICATED')).toBe(1);
    expect(delta('fhirgate_request_duration_seconds_count', { tenant: A })).toBe(5);
    expect(delta('fhirgate_request_duration_seconds_sum', { tenant: A })).toBeGreaterThan(0);
    expect(delta('fhirgate_operation_duration_seconds_count', { operation: 'query:Patient' })).toBe(
      4,
    );

    // Patient by id: the resource and its phones; the list: one statement at least.
    const statementsA = delta('fhirgate_sql_statements_total', { tenant: A, outcome: 'ok' });
    expect(statementsA).toBeGreaterThanOrEqual(4);
    expect(delta('fhirgate_sql_statement_duration_seconds_count', { tenant: A })).toBe(statementsA);
    expect(
      delta('fhirgate_sql_statements_total', { tenant: B, outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);

    expect(
      sample(after, 'fhirgate_tenant_pool_connections', { tenant: A, state: 'open' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'fhirgate_tenant_pool_connections', { tenant: A, state: 'in_use' })).toBe(
      0,
    );
    expect(sample(after, 'fhirgate_tenant_pools')).toBeGreaterThanOrEqual(2);
    expect(sample(after, 'fhirgate_pool_connections', { state: 'open' })).toBeGreaterThanOrEqual(2);
    expect(sample(after, 'fhirgate_tenant_breaker_state', { tenant: A, state: 'closed' })).toBe(1);
    // One registry read per tenant (first request), memory for the rest.
    expect(delta('fhirgate_config_cache_lookups_total', { result: 'hit' })).toBeGreaterThanOrEqual(
      4,
    );
    expect(
      sample(after, 'fhirgate_config_cache_lookups_total', { result: 'miss' }),
    ).toBeGreaterThanOrEqual(2);
    expect(after).toMatch(/^fhirgate_audit_backlog \d+$/m);

    // Tenant hashes only: no client id, no PHI canary, no operation name, no URL or database name.
    for (const secret of [
      a.clientId,
      b.clientId,
      DOWN,
      a.canary,
      b.canary,
      named,
      'Talca',
      '://',
      registryDb.name,
      dbA.name,
      dbB.name,
      METRICS_TOKEN,
    ]) {
      expect(after).not.toContain(secret);
    }
  });

  it('shows connections in use and statements queued while the tenant table is locked', async () => {
    await dbA.exec('LOCK TABLES pacientes WRITE');
    let pending: Promise<unknown>[] = [];
    try {
      // Two connections per tenant (FHIRGATE_POOL_TENANT_CONNECTIONS=2): two run, two queue.
      pending = ['11', '12', '13', '14'].map((id) =>
        post(a.clientId, `{ Patient(id: "${id}") { id } }`),
      );
      // The second connection is counted in use once its handshake is done.
      const text = await waitFor('2 statements running and 2 queued', async () => {
        const t = await scrape();
        const inUse = sample(t, 'fhirgate_tenant_pool_connections', { tenant: A, state: 'in_use' });
        return inUse === 2 && sample(t, 'fhirgate_tenant_pool_queued', { tenant: A }) === 2
          ? t
          : undefined;
      });
      expect(sample(text, 'fhirgate_tenant_pool_connections', { tenant: A, state: 'open' })).toBe(
        2,
      );
      expect(sample(text, 'fhirgate_pool_connections', { state: 'in_use' })).toBe(2);
      expect(sample(text, 'fhirgate_pool_queued')).toBe(2);
    } finally {
      await dbA.exec('UNLOCK TABLES');
    }
    const results = (await Promise.all(pending)) as Array<Awaited<ReturnType<typeof post>>>;
    expect(results.map((r) => r.json.data?.['Patient'])).toEqual(
      ['11', '12', '13', '14'].map((id) => ({ id })),
    );
    const after = await scrape();
    expect(sample(after, 'fhirgate_tenant_pool_connections', { tenant: A, state: 'in_use' })).toBe(
      0,
    );
    expect(sample(after, 'fhirgate_tenant_pool_queued', { tenant: A })).toBe(0);
  });

  it("opens a dead tenant's breaker in the metrics while /readyz stays ready", async () => {
    const before = await scrape();
    for (let i = 0; i < 2; i++) {
      const res = await post(DOWN, '{ Patient(id: "1") { id } }');
      expect(res.json.errors?.[0]?.extensions?.code).toBe('TENANT_UNAVAILABLE');
    }
    const after = await scrape();
    expect(sample(after, 'fhirgate_tenant_breaker_state', { tenant: D, state: 'open' })).toBe(1);
    expect(sample(after, 'fhirgate_tenant_breaker_state', { tenant: D, state: 'closed' })).toBe(0);
    expect(
      sample(after, 'fhirgate_sql_statements_total', { tenant: D, outcome: 'TENANT_UNAVAILABLE' }) -
        sample(before, 'fhirgate_sql_statements_total', {
          tenant: D,
          outcome: 'TENANT_UNAVAILABLE',
        }),
    ).toBe(2);
    expect(
      sample(after, 'fhirgate_requests_total', {
        tenant: D,
        operation: 'query:Patient',
        outcome: 'TENANT_UNAVAILABLE',
      }),
    ).toBe(2);
    expect(after).not.toContain(DOWN);

    // With the breaker open, the next request is refused right after authentication, before
    // Yoga parses it: counted with operation `none` and its code, under the tenant's hash.
    const refused = await post(DOWN, '{ Patient(id: "1") { id } }');
    expect(refused.status).toBe(503);
    expect(refused.json.errors?.[0]?.extensions?.code).toBe('TENANT_UNAVAILABLE');
    const early = await scrape();
    expect(
      sample(early, 'fhirgate_requests_total', {
        tenant: D,
        operation: 'none',
        outcome: 'TENANT_UNAVAILABLE',
      }),
    ).toBe(1);
    // Not a statement: the breaker refused nothing below the authentication step.
    expect(
      sample(early, 'fhirgate_sql_statements_total', { tenant: D, outcome: 'TENANT_UNAVAILABLE' }),
    ).toBe(
      sample(after, 'fhirgate_sql_statements_total', { tenant: D, outcome: 'TENANT_UNAVAILABLE' }),
    );
    expect(
      sample(early, 'fhirgate_requests_total', {
        tenant: D,
        operation: 'query:Patient',
        outcome: 'TENANT_UNAVAILABLE',
      }),
    ).toBe(2);

    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('counts the outcome the client received when the audit replaced the result', async () => {
    const before = await scrape();
    await registryDb.exec('RENAME TABLE fhirgate_audit_events TO fhirgate_audit_events_away');
    try {
      const res = await post(a.clientId, '{ Patient(id: "5") { id } }');
      expect(res.status).toBe(503);
      expect(res.json.errors?.[0]?.extensions?.code).toBe('AUDIT_UNAVAILABLE');
    } finally {
      await registryDb.exec('RENAME TABLE fhirgate_audit_events_away TO fhirgate_audit_events');
    }
    const after = await scrape();
    const labels = { tenant: A, operation: 'query:Patient' };
    const count = (text: string, outcome: string) =>
      sample(text, 'fhirgate_requests_total', { ...labels, outcome });
    expect(count(after, 'AUDIT_UNAVAILABLE') - count(before, 'AUDIT_UNAVAILABLE')).toBe(1);
    expect(count(after, 'ok') - count(before, 'ok')).toBe(0);
  });

  it('shows heavy requests running and queued, and light requests in flight (the scrape itself)', async () => {
    // Light reads end before the scrape: only the scrape is in flight, no heavy request holds a slot.
    await Promise.all([1, 2, 3].map((id) => post(a.clientId, `{ Patient(id: "${id}") { id } }`)));
    const text = await scrape();
    for (const name of ['fhirgate_heavy_requests_running', 'fhirgate_heavy_requests_queued']) {
      expect(text).toMatch(new RegExp(`^${name} 0$`, 'm'));
    }
    expect(sample(text, 'fhirgate_light_requests_in_flight')).toBe(1);
  });

  it('/readyz answers 503 while the registry is unreachable and 200 once it is back', async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await relay.stop();
    const started = performance.now();
    const body = await waitFor('readyz 503', async () => {
      const res = await fetch(`${base}/readyz`);
      return res.status === 503 ? await res.json() : undefined;
    });
    // The answer is cached for 1 s and the ping's budget is 500 ms.
    expect(performance.now() - started).toBeLessThan(3000);
    expect(body).toEqual({ status: 'not-ready', reason: 'registry-unavailable' });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await relay.start();
    await waitFor('readyz 200', async () =>
      (await fetch(`${base}/readyz`)).status === 200 ? true : undefined,
    );
    const out = run.output();
    expect(out).not.toContain(registryDb.name);
    expect(out).not.toContain(a.canary);
  });

  it('serves /metrics on FHIRGATE_METRICS_PORT only, when it is set', async () => {
    const [port, metricsPort] = [await refusedPort(), await refusedPort()];
    const second = startMain({
      FHIRGATE_REGISTRY_URL: registryDb.url,
      FHIRGATE_OIDC_ISSUER: keycloak.issuer(),
      FHIRGATE_ENCRYPTION_KEY: key.toString('base64'),
      FHIRGATE_METRICS_PORT: String(metricsPort),
      PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    try {
      const main = `http://127.0.0.1:${port}`;
      const ops = `http://127.0.0.1:${metricsPort}`;
      await waitFor('the server', async () =>
        (await fetch(`${main}/readyz`)).ok ? true : undefined,
      );
      const scraped = await fetch(`${ops}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('# TYPE fhirgate_requests_total counter');
      const onMain = await fetch(`${main}/metrics`);
      expect(onMain.status).toBe(404);
      expect(await onMain.text()).not.toContain('fhirgate_');
      expect((await fetch(`${ops}/graphql`)).status).toBe(404);
      // Without a token the operator is warned, naming the setting and no secret.
      expect(second.output()).toContain('FHIRGATE_METRICS_TOKEN');
    } finally {
      second.child.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
    }
  });
});
