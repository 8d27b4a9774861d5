import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createReloadBus } from '../../src/tenancy/reload-bus.js';
import { hospitalA } from '../fixtures/tenants.js';
import { HANG_BACKSTOP_MS } from '../helpers/backstop.js';
import {
  createTenantWorld,
  type GatewayProcess,
  startGatewayProcess,
  type TenantWorld,
} from './gateway-process.js';

/**
 * Two gateway processes (src/main.ts, different ports) share a registry and Redis on
 * 127.0.0.1:6379; a reload on one must reach the other through pub/sub within 1 s. Each test
 * uses its own channel. Redis loss is a real fault: the gateways reach Redis through a TCP proxy
 * that the test cuts (every connection destroyed, the port closed) and restores.
 */

const REDIS = { host: '127.0.0.1', port: 6379 };
const A = hospitalA();

const STATUS = `query($c: String!) { tenantStatus(clientId: $c) { mappingVersion } }`;
const ACTIVATE = `mutation($c: String!, $d: JSON!) { activateTenantMapping(clientId: $c, document: $d) {
  ok version published } }`;
const RELOAD = `mutation($c: String!) { reloadTenantConfig(clientId: $c) { published } }`;
const PATIENTS = '{ PatientList(_count: 1) { id } }';

/** A TCP proxy to Redis that a test can cut and restore on the same port. */
interface RedisProxy {
  readonly port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

async function startRedisProxy(): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = new Socket();
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        upstream.connect(REDIS.port, REDIS.host, () => {
          client.pipe(upstream).pipe(client);
        });
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const cut = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) {
      socket.destroy();
    }
    sockets.clear();
    await new Promise<void>((resolve) => (s === undefined ? resolve() : s.close(() => resolve())));
  };
  await listen();
  return { port, cut, restore: listen, close: cut };
}

/** The pino `time` (ms) of a log line. */
function timeOf(line: string): number {
  return Number((JSON.parse(line) as { time: number }).time);
}

let world: TenantWorld;
const processes: GatewayProcess[] = [];

async function start(env: Record<string, string>): Promise<GatewayProcess> {
  const gateway = await startGatewayProcess(world.env({ LOG_LEVEL: 'debug', ...env }));
  processes.push(gateway);
  return gateway;
}

async function adminToken(): Promise<string> {
  return world.keycloak.tokenFor({ clientId: 'hospital-a', roles: ['fhir-admin', 'fhir-read'] });
}

async function servedVersion(gateway: GatewayProcess): Promise<unknown> {
  const result = await gateway.post(STATUS, await adminToken(), { c: 'hospital-a' });
  return (result.json.data?.['tenantStatus'] as { mappingVersion?: unknown } | undefined)
    ?.mappingVersion;
}

/** Polls until `gateway` serves `version`; resolves with the ms it took. */
async function waitForVersion(
  gateway: GatewayProcess,
  version: number,
  limitMs = HANG_BACKSTOP_MS,
) {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if ((await servedVersion(gateway)) === version) {
      return performance.now() - started;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`version ${version} not served within ${limitMs} ms`);
}

let nextVersion = 2;
async function activate(gateway: GatewayProcess) {
  const result = await gateway.post(ACTIVATE, await adminToken(), {
    c: 'hospital-a',
    d: A.mapping,
  });
  const payload = result.json.data?.['activateTenantMapping'] as {
    ok: boolean;
    version: number;
    published: boolean;
  };
  expect(payload).toMatchObject({ ok: true, version: nextVersion });
  nextVersion++;
  return payload;
}

function channel(): string {
  return `fhirgate-test:${randomBytes(6).toString('hex')}`;
}

beforeAll(async () => {
  world = await createTenantWorld([A]);
});

afterAll(async () => {
  await Promise.allSettled(processes.map((p) => p.stop()));
  // Redis URLs never reach a log line.
  for (const p of processes) {
    for (const line of p.lines) {
      expect(line).not.toMatch(/redis:\/\//);
    }
  }
  await world?.close();
});

describe('reload bus (in process, real Redis)', () => {
  it('delivers client ids published on its channel only, and ignores anything else', async () => {
    const name = channel();
    const received: string[] = [];
    const log = createLogger({ level: 'silent' });
    const bus = createReloadBus({
      url: `redis://${REDIS.host}:${REDIS.port}`,
      channel: name,
      log,
      onReload: (clientId) => received.push(clientId),
    });
    const other = createReloadBus({
      url: `redis://${REDIS.host}:${REDIS.port}`,
      channel: `${name}-other`,
      log,
      onReload: (clientId) => received.push(`other:${clientId}`),
    });
    const raw = new Redis({ host: REDIS.host, port: REDIS.port, lazyConnect: true });
    try {
      await expect.poll(() => bus.state(), { timeout: HANG_BACKSTOP_MS }).toBe('connected');
      await expect.poll(() => other.state(), { timeout: HANG_BACKSTOP_MS }).toBe('connected');
      await raw.connect();
      await raw.publish(name, 'not a client id');
      await raw.publish(name, '');
      expect(await bus.publish('hospital-a')).toBe(true);
      await expect.poll(() => received, { timeout: HANG_BACKSTOP_MS }).toEqual(['hospital-a']);
    } finally {
      raw.disconnect();
      await bus.close();
      await other.close();
    }
    expect(bus.state()).toBe('closed');
    expect(await bus.publish('hospital-a')).toBe(false);
  });
});

describe('reload across replicas through Redis', () => {
  it('reaches the other replica within 1 s (measured)', async ({ annotate }) => {
    const env = {
      REDIS_URL: `redis://${REDIS.host}:${REDIS.port}`,
      FHIRGATE_RELOAD_CHANNEL: channel(),
    };
    const [one, two] = await Promise.all([start(env), start(env)]);
    await Promise.all([
      one.waitForLine(/reload bus connected to Redis/),
      two.waitForLine(/reload bus connected to Redis/),
    ]);
    // The TTL is 5 min: without the bus, replica two would serve version 1 for minutes.
    expect(await servedVersion(two)).toBe(1);

    const endToEnd: number[] = [];
    const afterAnswer: number[] = [];
    const busLatency: number[] = [];
    for (let round = 0; round < 5; round++) {
      const sent = performance.now();
      const payload = await activate(one);
      expect(payload.published).toBe(true);
      const mutationMs = performance.now() - sent;
      // The publish happens before the mutation answers: this bounds the propagation.
      const waited = await waitForVersion(two, payload.version);
      afterAnswer.push(waited);
      endToEnd.push(mutationMs + waited);
      const published = one.lines.filter((l) => l.includes('tenant reload publishing'));
      const received = two.lines.filter((l) => l.includes('tenant reload received'));
      busLatency.push(
        timeOf(received[received.length - 1] as string) -
          timeOf(published[published.length - 1] as string),
      );
    }
    // A plain reload travels the same way.
    const reload = await one.post(RELOAD, await adminToken(), { c: 'hospital-a' });
    expect(reload.json.data?.['reloadTenantConfig']).toEqual({ published: true });

    await annotate(
      `reload propagation over Redis, 5 rounds: publish->receive (log timestamps) ${busLatency.join(', ')} ms; ` +
        `mutation answered -> other replica serves the new version ${afterAnswer.map((n) => n.toFixed(0)).join(', ')} ms; ` +
        `mutation sent (live mapping check included) -> served there ${endToEnd.map((n) => n.toFixed(0)).join(', ')} ms`,
    );
    for (const ms of [...busLatency, ...afterAnswer]) {
      expect(ms).toBeLessThan(1000);
    }
  });

  it('keeps serving when Redis is lost, warns once, reconnects and resyncs', async ({
    annotate,
  }) => {
    const proxy = await startRedisProxy();
    try {
      const env = {
        REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
        FHIRGATE_RELOAD_CHANNEL: channel(),
      };
      const [one, two] = await Promise.all([start(env), start(env)]);
      await Promise.all([
        one.waitForLine(/reload bus connected to Redis/),
        two.waitForLine(/reload bus connected to Redis/),
      ]);
      const before = await servedVersion(two);

      await proxy.cut();
      const warning = await two.waitForLine(/reload bus lost Redis/, HANG_BACKSTOP_MS);
      expect(JSON.parse(warning)).toMatchObject({ level: 40 });
      await one.waitForLine(/reload bus lost Redis/, HANG_BACKSTOP_MS);

      // Still serving, on both replicas.
      for (const gateway of [one, two]) {
        const read = await gateway.post(
          PATIENTS,
          await world.keycloak.tokenFor({ clientId: 'hospital-a', roles: ['fhir-read'] }),
        );
        expect(read.status).toBe(200);
        expect(read.json.data?.['PatientList']).toHaveLength(1);
      }
      // A change made now cannot be published; replica two keeps its cached version...
      const offline = await activate(one);
      expect(offline.published).toBe(false);
      expect(await servedVersion(one)).toBe(offline.version);
      expect(await servedVersion(two)).toBe(before);

      // ...until Redis is back: the reconnect drops every cached tenant (messages were lost).
      const restoredAt = performance.now();
      await proxy.restore();
      await two.waitForLine(/reload bus reconnected to Redis/, HANG_BACKSTOP_MS);
      const reconnectMs = performance.now() - restoredAt;
      expect(await servedVersion(two)).toBe(offline.version);
      await one.waitForLine(/reload bus reconnected to Redis/, HANG_BACKSTOP_MS);
      // One warning per outage, however many reconnect attempts failed meanwhile.
      expect(two.lines.filter((l) => l.includes('reload bus lost Redis'))).toHaveLength(1);

      // And the bus works again.
      const online = await activate(one);
      expect(online.published).toBe(true);
      const ms = await waitForVersion(two, online.version);
      await annotate(
        `after a Redis outage: reconnected ${reconnectMs.toFixed(0)} ms after Redis came back; next reload seen in ${ms.toFixed(0)} ms`,
      );
      expect(ms).toBeLessThan(1000);
    } finally {
      await proxy.close();
    }
  });

  it('starts and serves with nothing listening at REDIS_URL, warns, and connects once Redis is up', async () => {
    const dead = await startRedisProxy();
    await dead.cut();
    const gateway = await start({
      REDIS_URL: `redis://127.0.0.1:${dead.port}`,
      FHIRGATE_RELOAD_CHANNEL: channel(),
    });
    const warning = await gateway.waitForLine(/reload bus lost Redis/, HANG_BACKSTOP_MS);
    expect(warning).not.toContain(String(dead.port));
    const read = await gateway.post(
      PATIENTS,
      await world.keycloak.tokenFor({ clientId: 'hospital-a', roles: ['fhir-read'] }),
    );
    expect(read.status).toBe(200);
    const reload = await gateway.post(RELOAD, await adminToken(), { c: 'hospital-a' });
    expect(reload.json.data?.['reloadTenantConfig']).toEqual({ published: false });
    // Redis appears on that port: the replica keeps retrying and connects by itself.
    await dead.restore();
    try {
      await gateway.waitForLine(/reload bus (re)?connected to Redis/, HANG_BACKSTOP_MS);
      const after = await gateway.post(RELOAD, await adminToken(), { c: 'hospital-a' });
      expect(after.json.data?.['reloadTenantConfig']).toEqual({ published: true });
    } finally {
      await dead.close();
    }
  });
});
