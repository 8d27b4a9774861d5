/**
 * S4: many tenants. Creates the small tenant databases, measures each one's cold first request,
 * the heap a cached idle tenant holds, and a round robin over all of them under the connection
 * cap, sampling the connections on both sides.
 */
import type { Connection } from 'mysql2/promise';
import type { parseKeyring } from '../src/tenancy/crypto.js';
import { sealSecret } from '../src/tenancy/crypto.js';
import type { TenantRegistry } from '../src/tenancy/registry.js';
import { startServer } from './children.js';
import { onCleanup } from './cleanup.js';
import { S1_QUERY } from './fixtures.js';
import {
  combine,
  type Measurement,
  percentile,
  readCounters,
  runLoad,
  startSampler,
} from './load.js';
import {
  fmt,
  log,
  mib,
  NODE_ARGS,
  REGISTRY_POOL_CONNECTIONS,
  S4_MAX_CONNECTIONS,
  S4_MAX_TENANT_POOLS,
  SETTINGS,
} from './options.js';
import { post } from './scenarios.js';
import { createSmallTenants, SMALL_TENANT_PATIENTS } from './tenants.js';

export interface S4Result {
  readonly tenants: number;
  readonly coldP50: number;
  readonly coldP95: number;
  readonly warmP50: number;
  readonly heapTenants: number;
  readonly heapPerTenantBytes: number;
  readonly rssPerTenantBytes: number;
  readonly maxThreadsDelta: number;
  readonly maxSockets: number;
  /** Server threads in the S4 tenant databases (PROCESSLIST), the registry's pool excluded. */
  readonly maxTenantThreads: number;
  readonly roundRobin: Measurement;
  readonly createS: number;
}

async function inParallel<T>(
  items: readonly T[],
  workers: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < items.length) {
        await work(items[next++] as T);
      }
    }),
  );
}

export async function runS4(
  server: { host: string; port: number; user: string; password: string },
  admin: Connection,
  samplerConn: Connection,
  registry: TenantRegistry,
  keyring: ReturnType<typeof parseKeyring>,
  mappingText: string,
  gatewayEnv: (extra: Record<string, string>) => Record<string, string>,
  tokenFor: (clientId: string) => Promise<string>,
): Promise<S4Result> {
  const n = SETTINGS.tenants;
  const [mc] = await admin.query('SELECT @@GLOBAL.max_connections AS m');
  const maxConnections = Number((mc as Array<{ m: number }>)[0]?.m);
  const needed = S4_MAX_CONNECTIONS + REGISTRY_POOL_CONNECTIONS + 50;
  if (maxConnections < needed) {
    // The server's own limit must not be what keeps the gateway under its cap.
    await admin.query('SET GLOBAL max_connections = ?', [needed]);
    onCleanup('restore max_connections', () =>
      admin.query('SET GLOBAL max_connections = ?', [maxConnections]),
    );
    log(`S4: raised max_connections ${maxConnections} -> ${needed} for the run`);
  }

  const createStarted = performance.now();
  const small = await createSmallTenants(server, n, (t) =>
    onCleanup(`drop ${n} S4 databases`, () => t.drop()),
  );
  const clientIds = small.names.map((_, i) => `bench-t${i}`);
  await inParallel(
    clientIds.map((clientId, i) => ({ clientId, name: small.names[i] as string })),
    REGISTRY_POOL_CONNECTIONS,
    async ({ clientId, name }) => {
      await registry.upsertTenant({
        clientId,
        displayName: clientId,
        dbType: 'mysql',
        sealedUrl: sealSecret(keyring, clientId, small.url(name)),
        status: 'active',
      });
    },
  );
  // Sequential: concurrent addMapping calls for different tenants deadlock on MariaDB
  // (INSERT ... SELECT MAX(version) takes gap locks on fhirgate_mappings).
  for (const clientId of clientIds) {
    await registry.addMapping(clientId, mappingText, { activate: true });
  }
  const tokens: string[] = [];
  for (const clientId of clientIds) {
    tokens.push(await tokenFor(clientId));
  }
  const createS = (performance.now() - createStarted) / 1000;
  log(`S4: ${n} tenant databases and registry rows created in ${createS.toFixed(1)} s`);

  const threadsBefore = (await readCounters(admin))['Threads_connected'] ?? 0;
  const gateway = await startServer({
    name: 'gateway-s4',
    entry: 'src/main.ts',
    env: gatewayEnv({
      FHIRGATE_POOL_MAX_TENANTS: String(S4_MAX_TENANT_POOLS),
      FHIRGATE_POOL_MAX_CONNECTIONS: String(S4_MAX_CONNECTIONS),
    }),
    nodeArgs: NODE_ARGS,
  });
  const sampler = await startSampler(
    samplerConn,
    gateway,
    server.port,
    threadsBefore,
    (small.names[0] ?? '').replace(/\d+$/, ''),
  );
  const body = () => ({
    query: S1_QUERY,
    variables: { id: String(1 + Math.floor(Math.random() * SMALL_TENANT_PATIENTS)) },
  });
  const timed = async (token: string): Promise<number> => {
    const t0 = performance.now();
    const res = await post(gateway.baseUrl, token, body());
    const ms = performance.now() - t0;
    const data = (res.json as { data?: { Patient?: unknown } }).data;
    if (res.status !== 200 || data?.Patient === undefined || data.Patient === null) {
      throw new Error(`S4 request failed: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
    }
    return ms;
  };

  // Tenant 0 warms the JWKS cache, the schema and the HTTP path, so only tenant costs remain.
  for (let i = 0; i < 20; i++) {
    await timed(tokens[0] as string);
  }
  const heap0 = await gateway.probe({ type: 'heap' });
  const rss0 = await gateway.rss();
  const heapTenants = Math.min(S4_MAX_TENANT_POOLS, n) - 1;
  let heapPerTenantBytes = Number.NaN;
  let rssPerTenantBytes = Number.NaN;
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 1; i < n; i++) {
    const token = tokens[i] as string;
    cold.push(await timed(token));
    warm.push(await timed(token));
    if (i === heapTenants) {
      const heap1 = await gateway.probe({ type: 'heap' });
      if (heap0.memory === undefined || heap1.memory === undefined) {
        throw new Error(`heap probe failed: ${heap0.error ?? heap1.error}`);
      }
      heapPerTenantBytes = (heap1.memory.heapUsed - heap0.memory.heapUsed) / heapTenants;
      rssPerTenantBytes = ((await gateway.rss()) - rss0) / heapTenants;
      log(
        `S4: ${heapTenants} tenants warmed: +${(heapPerTenantBytes / 1024).toFixed(1)} KB heap per tenant (heapUsed ${mib(heap0.memory.heapUsed)} -> ${mib(heap1.memory.heapUsed)} MiB)`,
      );
    }
  }
  cold.sort((a, b) => a - b);
  warm.sort((a, b) => a - b);
  log(`S4: cold first request p50 ${fmt(percentile(cold, 50), 2)} ms over ${cold.length} tenants`);

  let k = 0;
  const before = await readCounters(admin);
  const rr = await runLoad({
    url: `${gateway.baseUrl}/graphql`,
    connections: SETTINGS.connections,
    durationS: SETTINGS.durationS,
    body: () => JSON.stringify(body()),
    token: () => tokens[k++ % n] as string,
  });
  const after = await readCounters(admin);
  await sampler.stop();
  const counters: Record<string, number> = {};
  for (const name of Object.keys(after)) {
    counters[name] = (after[name] ?? 0) - (before[name] ?? 0);
  }
  // The sampler ran from before the child started, so its maxima cover the cold phase too.
  const roundRobin: Measurement = combine('gateway', [
    {
      load: rr,
      counters,
      maxRssBytes: sampler.maxRss,
      maxThreadsDelta: sampler.maxThreadsDelta,
      maxSockets: sampler.maxSockets,
      usage: {
        gcPauseMs: Number.NaN,
        gcMajorPauseMs: Number.NaN,
        cpuUs: Number.NaN,
        mainCpuUs: Number.NaN,
        loopActiveMs: Number.NaN,
        loopIdleMs: Number.NaN,
      },
      databaseCpuUs: Number.NaN,
    },
  ]);
  log(
    `S4 round robin over ${n} tenants: ${fmt(rr.rps, 0)} req/s, p50 ${fmt(rr.p50, 2)} ms, p99 ${fmt(rr.p99, 2)} ms, max connections ${sampler.maxTenantThreads} (server threads in tenant databases) / ${sampler.maxThreadsDelta} (Threads_connected delta) / ${sampler.maxSockets} (client sockets)`,
  );
  await gateway.stop();
  const dropStarted = performance.now();
  await small.drop();
  log(`S4: dropped ${n} databases in ${((performance.now() - dropStarted) / 1000).toFixed(1)} s`);
  return {
    tenants: n,
    coldP50: percentile(cold, 50),
    coldP95: percentile(cold, 95),
    warmP50: percentile(warm, 50),
    heapTenants,
    heapPerTenantBytes,
    rssPerTenantBytes,
    maxThreadsDelta: sampler.maxThreadsDelta,
    maxSockets: sampler.maxSockets,
    maxTenantThreads: sampler.maxTenantThreads,
    roundRobin,
    createS,
  };
}
