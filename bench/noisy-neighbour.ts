/**
 * Issue 5, noisy neighbour (SECURITY-TESTS 67): while tenant A is stalled under 100 concurrent
 * requests, tenant B's p95 latency stays within 1.2x of its idle baseline.
 *
 * `npm run bench:noisy` (about 3 min). After one unmeasured stall of A, four rounds of an idle
 * window (B alone, after 6 s for A's leftover requests to end) followed by a
 * noisy window (B while A is stalled); B's latencies are pooled per side. Flags:
 *   --mode lock|sleep|stalled|heavy  how A is broken (default lock): `lock` = another session holds
 *                          `LOCK TABLES pacientes WRITE` in A's database (a DBA's lock, a long
 *                          ALTER), so every statement of A waits on the metadata lock until the
 *                          4 s server-side limit ends it; `sleep` = A's patient table is a view
 *                          that calls SLEEP() per row, ended by the same limit (but see
 *                          `bench/mariadb-stall-probe.ts`: on MariaDB 10.11 killing SLEEP()ing
 *                          statements stalled *other* databases' statements for 2-6 s in 3 of 6
 *                          runs, with mysql2 alone and no gateway); `stalled` = A's URL points at
 *                          a TCP peer that accepts and never greets (the 3 s connect timeout);
 *                          `heavy` = A is healthy but sends "heavy legal reads": the heaviest
 *                          query its limits accept (HEAVY_QUERY, 4,848 resources in the worst
 *                          case), `--heavy-clients` at a time, each client waiting out refusals
 *   --heavy-clients N      A's concurrent clients in `heavy` mode (default 6)
 *   --rounds N             idle + noisy rounds (default 4)
 *   --gateway-entry PATH   the gateway's entry (default src/main.ts): another checkout's
 *                          `src/main.ts` measures that code under the same load (before/after)
 *   --clients polite|flood how A's 100 clients behave after a refusal (default polite: they wait
 *                          out `Retry-After`; flood: they re-send at once, a hostile client)
 *   --seconds N            length of each window (default 8)
 *   --rate N               B's fixed request rate, requests/s (default 100)
 *   --nice-a N             run A's load generator at this OS niceness (default 0; 19 = lowest
 *                          priority): on this 2-core machine a flooding load generator takes
 *                          70-100% of a core that real clients elsewhere would not take
 *   --a-own-gateway        a diagnosis: A's clients send to a second gateway process (same code
 *                          and settings), so B's ratio measures what the machine and the database
 *                          add when the tenants share no event loop or heap
 *   --control              A's clients send to a stand-in server (another process answering
 *                          503 after the same hold), not the gateway: B's ratio then measures
 *                          what the machine alone adds (A's load generator, a second server)
 *   --gateway-env=NAME=value  extra FHIRGATE_ setting for the gateway (repeatable), to A/B it
 *   --gateway-node-arg=--flag  a Node or V8 flag for the gateway (repeatable), to A/B it
 *   --profile              CPU-profile the gateway during the last round's idle and noisy windows
 *                          (and, in heavy mode, A's reads alone; the profiler's own cost skews
 *                          that run's ratio) and print their top functions
 *   --alloc                (heavy mode) an allocation profile of A's reads alone, freed objects
 *                          included: KiB per heavy read by function, what the GC has to collect
 *   --no-rate-limits       lift the per-user/per-tenant token buckets (production defaults:
 *                          50/s per user, 500/s per tenant)
 *
 * Everything is real: `src/main.ts` in a child process in production mode, a MariaDB registry and
 * tenant databases from the test helpers, RS256 tokens from the Keycloak stub, HTTP load from
 * paced node:http requests (B, open loop) and fetch (A). A's load runs in a second child process (this file with
 * `--load-a`), so A's client-side work does not slow the process that times B. Writes
 * `bench/results/noisy-neighbour.json` (`-flood.json` for flood clients). Exit code 0 on PASS,
 * 1 on MISS.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { cpus, loadavg, setPriority } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseKeyring, sealSecret } from '../src/tenancy/crypto.js';
import { parseDatabaseUrl } from '../src/tenancy/database-url.js';
import { createTenantRegistry } from '../src/tenancy/registry.js';
import { hospitalA } from '../test/fixtures/tenants.js';
import { startStalledServer } from '../test/helpers/fault-servers.js';
import { resolveMysqlServer } from '../test/helpers/global-setup.js';
import { startKeycloakStub } from '../test/helpers/jwks-server.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/test-database.js';
import type { GcPauses } from './child-probe.js';
import {
  gatewayEnvFromArgs,
  gatewayNodeArgsFromArgs,
  type ServerChild,
  startServer,
} from './children.js';
import { S3_MAPPING, seedTenant, TENANT_DDL } from './fixtures.js';
import { formatSummary, summarizeProfileFile } from './profile-summary.js';
import { logAllocations } from './profiles.js';

const TARGET_RATIO = 1.2;
const A_CONNECTIONS = 100;
const B_CONNECTIONS = 10;
/** Idle + noisy rounds (`--rounds`). */
const DEFAULT_ROUNDS = 4;
/** Quiet time before each idle window, for A's leftover requests to end (see the loop). */
const DRAIN_MS = 6000;
const B_QUERY =
  '{ PatientList(_count: 10) { id name { family given } gender birthDate telecom { value } } }';
const A_QUERY = '{ PatientList(_count: 10) { id name { family } } }';
/**
 * The issue's heavy legal read, scaled to the default limits (`_count` 100, 5,000 resources per
 * request): three aliased PatientList pages of 16 with each patient's 100 latest Observations,
 * 3 x (16 + 16 x 100) = 4,848 resources in the worst case, about as many returned.
 */
const HEAVY_QUERY = `{ ${[0, 16, 32]
  .map(
    (offset, i) =>
      `p${i}: PatientList(_count: 16, _offset: ${offset}) { id ObservationList(_reference: subject, _count: 100) { id status code { coding { system code } } effectiveDateTime valueQuantity { value unit } subject { reference } } }`,
  )
  .join(' ')} }`;
/** The gateway's loop-delay monitor in the rounds: coarse, so it costs the gateway little. */
const ROUND_WATCH_RESOLUTION_MS = 10;
/** Heavy reads sent alone before the rounds, to time the event loop's longest block per read. */
const SOLO_HEAVY_REQUESTS = 10;
/** The heavy mode's tenant databases: 300 patients with about 100 observations each. */
const HEAVY_SEED = { patients: 300, encounters: 300, observations: 30_000 } as const;

interface Window {
  readonly requests: number;
  readonly ok: number;
  readonly failed: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * B's load: open loop at a fixed rate, one request every `1000 / rate` ms, over at most
 * `connections` keep-alive sockets. Latency counts from the moment a request was *due*, so a
 * request held up by a busy client or a slow server is charged in full (no coordinated omission).
 * Not autocannon: its `overallRate` sends each connection's whole per-second quota back to back at
 * the top of every second and then pauses (`lib/httpClient.js`, `reqsMadeThisSecond`), so "100
 * req/s over 10 connections" was a burst of 100 requests 10 at a time each second, and B's p95
 * measured B queueing behind itself.
 */
function load(options: {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly rate: number;
  readonly tokens: readonly string[];
  readonly query: string;
}): Promise<
  Window & {
    readonly statuses: Record<string, number>;
    readonly samples: Record<string, string>;
    readonly latencies: readonly number[];
  }
> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  /** The start of the first body per failing status, to say what went wrong. */
  const samples: Record<string, string> = {};
  let failed = 0;
  const body = JSON.stringify({ query: options.query });
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const target = new URL(options.url);
  const total = Math.round(options.seconds * options.rate);
  const intervalMs = 1000 / options.rate;

  const send = (index: number, dueAt: number): Promise<void> =>
    new Promise((done) => {
      const req = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${options.tokens[index % options.tokens.length]}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            statuses[status] = (statuses[status] ?? 0) + 1;
            const text = Buffer.concat(chunks).toString('utf8');
            if (status === 200 && !text.includes('"errors"')) {
              latencies.push(performance.now() - dueAt);
            } else {
              failed++;
              samples[status] ??= text.slice(0, 300);
            }
            done();
          });
        },
      );
      req.on('error', (err) => {
        failed++;
        statuses['error'] = (statuses['error'] ?? 0) + 1;
        samples['error'] ??= err.message;
        done();
      });
      req.end(body);
    });

  return new Promise((resolve) => {
    const startedAt = performance.now();
    const inFlight: Promise<void>[] = [];
    let sent = 0;
    const tick = (): void => {
      // Every request that is due by now goes out, late ones at once (their lateness is counted).
      const now = performance.now();
      while (sent < total && startedAt + sent * intervalMs <= now) {
        inFlight.push(send(sent, startedAt + sent * intervalMs));
        sent++;
      }
      if (sent < total) {
        setTimeout(tick, Math.max(0, startedAt + sent * intervalMs - performance.now()));
        return;
      }
      void Promise.all(inFlight).then(() => {
        agent.destroy();
        latencies.sort((x, y) => x - y);
        resolve({
          requests: sent,
          ok: latencies.length,
          failed,
          p50: percentile(latencies, 50),
          p95: percentile(latencies, 95),
          p99: percentile(latencies, 99),
          max: latencies.at(-1) ?? Number.NaN,
          statuses,
          samples,
          latencies,
        });
      });
    };
    tick();
  });
}

/**
 * Child mode: keeps `A_CONNECTIONS` requests to tenant A outstanding. `polite` clients wait out a
 * refusal (`Retry-After`, else 1 s) before sending again, as HTTP clients should; `flood` clients
 * re-send at once, so refusals cost the gateway CPU as fast as it can answer them.
 */
async function loadA(): Promise<void> {
  const spec = JSON.parse(process.env['NOISY_A'] ?? '{}') as LoadASpec;
  const statuses: Record<string, number> = {};
  /** Responses by status and error code (`503 TENANT_BUSY`): where each refusal came from. */
  const codes: Record<string, number> = {};
  const samples: Record<string, string> = {};
  const cpu0 = process.cpuUsage();
  const until = Date.now() + spec.seconds * 1000;
  const body = JSON.stringify({ query: spec.query });
  let requests = 0;
  // node:http with a keep-alive agent and the body kept as bytes: undici's fetch and a decoded
  // 712 KB string per heavy answer cost this process 12-18 ms of CPU each, taken from the two
  // cores the gateway and B share (a real heavy client runs elsewhere).
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const worker = async (i: number) => {
    const token = spec.tokens[i % spec.tokens.length] as string;
    while (Date.now() < until) {
      let status = 0;
      let retryAfter = 1;
      try {
        const res = await postBytes(agent, spec.url, token, body, until - Date.now());
        status = res.status;
        retryAfter = Number(res.retryAfter ?? '1') || 1;
        if (status !== 200 && samples[status] === undefined) {
          samples[status] = res.body.toString('utf8').slice(0, 200);
        }
        const code =
          status === 200 && res.body.indexOf('"errors"') < 0
            ? 'none'
            : (/"code":"([A-Z_]+)"/.exec(res.body.toString('utf8'))?.[1] ?? 'none');
        codes[`${status} ${code}`] = (codes[`${status} ${code}`] ?? 0) + 1;
      } catch {
        status = -1; // cut at the end of the run
      }
      requests++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== 200 && spec.clients === 'polite') {
        await new Promise((r) =>
          setTimeout(r, Math.max(0, Math.min(retryAfter * 1000, until - Date.now()))),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, (_, i) => worker(i)));
  const cpu = process.cpuUsage(cpu0);
  // The load generator's own CPU: on this 2-core machine it competes with the gateway and B.
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  process.send?.({ statuses, codes, samples, requests, cpuMs });
}

/** One GraphQL POST over `agent`: its status, `Retry-After` and body bytes; rejects on timeout. */
function postBytes(
  agent: Agent,
  url: string,
  token: string,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; retryAfter: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${token}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    const deadline = setTimeout(
      () => req.destroy(new Error('cut at the end of the run')),
      Math.max(1, timeoutMs),
    );
    req.on('close', () => clearTimeout(deadline));
    req.on('error', reject);
    req.end(body);
  });
}

interface LoadASpec {
  readonly url: string;
  readonly seconds: number;
  readonly tokens: string[];
  readonly clients: 'polite' | 'flood';
  readonly query: string;
  readonly connections: number;
}

function startLoadA(spec: LoadASpec, nice: number) {
  const child = fork(new URL(import.meta.url).pathname, ['--load-a'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NOISY_A: JSON.stringify(spec) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (nice !== 0 && child.pid !== undefined) {
    setPriority(child.pid, nice);
  }
  type Reply = {
    statuses: Record<string, number>;
    codes: Record<string, number>;
    samples: Record<string, string>;
    requests: number;
    cpuMs: number;
  };
  return new Promise<Reply>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Reply));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`A's load generator exited with ${code}`));
      }
    });
  });
}

/** CPU time the process has used, in ms (`/proc/<pid>/stat` utime + stime, 100 ticks/s). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The pid of the local MariaDB/MySQL server, when it runs on this machine (its CPU is shared). */
async function databaseServerPid(): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (/^\d+$/.test(entry)) {
      const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
      if (comm.trim() === 'mariadbd' || comm.trim() === 'mysqld') {
        return Number(entry);
      }
    }
  }
  return undefined;
}

/** Ends the gateway's CPU profile of one window, saves it and prints its summary. */
async function writeWindowProfile(
  gateway: ServerChild,
  name: string,
  title: string,
): Promise<void> {
  await mkdir('bench/results/profiles', { recursive: true });
  const path = `bench/results/profiles/${name}.cpuprofile`;
  await gateway.probe({ type: 'profile-stop', path });
  console.log(formatSummary(`gateway, ${title}`, await summarizeProfileFile(path, 30)));
}

function gcText(gc: GcPauses): string {
  return `${gc.totalMs.toFixed(0)} ms in ${gc.count} pauses (${gc.majorMs.toFixed(0)} ms major; longest ${gc.maxMs.toFixed(1)} ms, ${gc.over5Ms} over 5 ms)`;
}

function log(line: string): void {
  console.log(`[noisy] ${line}`);
}

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const mode = arg('--mode', 'lock');
  if (mode !== 'lock' && mode !== 'sleep' && mode !== 'stalled' && mode !== 'heavy') {
    throw new Error('--mode must be lock, sleep, stalled or heavy');
  }
  const heavy = mode === 'heavy';
  const roundCount = Number(arg('--rounds', String(DEFAULT_ROUNDS)));
  const aConnections = heavy ? Number(arg('--heavy-clients', '6')) : A_CONNECTIONS;
  const aQuery = heavy ? HEAVY_QUERY : A_QUERY;
  const gatewayEntry = arg('--gateway-entry', 'src/main.ts');
  const seconds = Number(arg('--seconds', '8'));
  const rate = Number(arg('--rate', '100'));
  const rateLimits = !process.argv.includes('--no-rate-limits');
  const niceA = Number(arg('--nice-a', '0'));
  const ownGatewayA = process.argv.includes('--a-own-gateway');
  const profile = process.argv.includes('--profile');
  const alloc = process.argv.includes('--alloc');
  const clients = arg('--clients', 'polite');
  // `--control`: A's clients send to a stand-in server in another process instead of the
  // gateway, so the noisy windows carry A's load generator and a second server on the machine's
  // cores but nothing in the gateway: what B's ratio is then is the machine's share of it.
  const control = process.argv.includes('--control');
  // `--gateway-env=NAME=value` (repeatable, FHIRGATE_ names only): A/B a gateway setting.
  const gatewayEnv = gatewayEnvFromArgs(process.argv);
  if (clients !== 'polite' && clients !== 'flood') {
    throw new Error('--clients must be polite or flood');
  }

  const cleanups: Array<() => Promise<unknown>> = [];
  const resolved = await resolveMysqlServer(process.env);
  cleanups.push(() => resolved.stop());
  const server = resolved.server;
  let gateway: ServerChild | undefined;
  try {
    const make = async (prefix: string): Promise<TestDatabase> => {
      const db = await createTestDatabase(prefix, server);
      cleanups.push(() => db.drop());
      return db;
    };
    const registryDb = await make('fgnreg');
    const registry = createTenantRegistry(parseDatabaseUrl(registryDb.url));
    cleanups.push(() => registry.close());
    await registry.applySchema();
    const encryptionKey = randomBytes(32).toString('base64');
    const keyring = parseKeyring({ primaryKey: encryptionKey });

    // B: healthy. A: the same legacy schema, broken by `mode` (or, `heavy`, sending heavy reads).
    const fixture = hospitalA();
    const dbB = await make('fgnb');
    const dbA = await make('fgna');
    for (const db of [dbA, dbB]) {
      if (heavy) {
        for (const ddl of TENANT_DDL) {
          await db.exec(ddl);
        }
        const conn = await db.connection();
        await seedTenant(conn, HEAVY_SEED);
        await conn.end();
        continue;
      }
      for (const ddl of fixture.ddl) {
        await db.exec(ddl);
      }
      await fixture.seed(db);
    }
    const mappingB = heavy ? S3_MAPPING : fixture.mapping;
    const mappingA = structuredClone(mappingB) as {
      resources: { Patient: { table: string } };
    };
    let urlA = dbA.url;
    if (mode === 'lock') {
      // Held until the end; released (cleanups run in reverse) before A's database is dropped.
      const locker = await dbA.connection();
      await locker.query('LOCK TABLES pacientes WRITE');
      cleanups.push(async () => {
        await locker.query('UNLOCK TABLES');
        await locker.end();
      });
    } else if (mode === 'sleep') {
      // Every row sleeps: the server-side limit (4 s, errno 1969) is what ends each statement.
      await dbA.exec('CREATE VIEW pacientes_slow AS SELECT * FROM pacientes WHERE SLEEP(1) = 0');
      mappingA.resources.Patient.table = 'pacientes_slow';
    } else if (mode === 'stalled') {
      const stalled = await startStalledServer();
      cleanups.push(() => stalled.close());
      urlA = `mysql://root:x@127.0.0.1:${stalled.port}/stalled`;
    }
    for (const [clientId, url, mapping] of [
      ['tenant-a', urlA, mappingA],
      ['tenant-b', dbB.url, mappingB],
    ] as const) {
      await registry.upsertTenant({
        clientId,
        displayName: clientId,
        dbType: 'mysql',
        sealedUrl: sealSecret(keyring, clientId, url),
        status: 'active',
      });
      await registry.addMapping(clientId, JSON.stringify(mapping), { activate: true });
    }

    const keycloak = await startKeycloakStub();
    cleanups.push(() => keycloak.close());
    const tokens = async (clientId: string, users: number) =>
      Promise.all(
        Array.from({ length: users }, (_, i) =>
          keycloak.tokenFor({
            clientId,
            roles: ['fhir-read'],
            overrides: { sub: `${clientId}-user-${i}`, exp: Math.floor(Date.now() / 1000) + 1800 },
          }),
        ),
      );
    // One token per connection: A is 100 users, not one user the per-user limit stops.
    const tokensA = await tokens('tenant-a', aConnections);
    const tokensB = await tokens('tenant-b', B_CONNECTIONS);

    const gatewayEnvFull: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      FHIRGATE_REGISTRY_URL: registryDb.url,
      FHIRGATE_ENCRYPTION_KEY: encryptionKey,
      FHIRGATE_OIDC_ISSUER: keycloak.issuer(),
      FHIRGATE_RESOURCE_TYPES: heavy ? 'Patient,Encounter,Observation' : 'Patient',
      FHIRGATE_GRAPHIQL: 'false',
      ...(rateLimits
        ? {}
        : {
            FHIRGATE_RATE_USER_PER_S: '0',
            FHIRGATE_RATE_TENANT_PER_S: '0',
          }),
      ...gatewayEnv,
    };
    gateway = await startServer({
      name: 'gateway',
      entry: gatewayEntry,
      env: gatewayEnvFull,
      nodeArgs: gatewayNodeArgsFromArgs(process.argv),
    });
    const url = `${gateway.baseUrl}/graphql`;
    log(
      `gateway pid ${gateway.pid}${gatewayEntry === 'src/main.ts' ? '' : ` (${gatewayEntry})`}; A ${mode}, ${aConnections} ${clients} clients; B at ${rate} req/s over ${B_CONNECTIONS} connections; ${roundCount} rounds of ${seconds} s idle + ${seconds} s noisy; rate limits ${rateLimits ? 'production defaults' : 'off'}; A's load generator nice ${niceA}${control ? '; CONTROL: A is sent to a stand-in server, not the gateway' : ''}${Object.keys(gatewayEnv).length === 0 ? '' : `; gateway env ${JSON.stringify(gatewayEnv)}`}`,
    );

    const dbPid = await databaseServerPid();
    const dbCpuMs = async () => (dbPid === undefined ? 0 : cpuMs(dbPid).catch(() => 0));
    // Audit rows of refused requests (401/403/429 are audited one event each).
    const deniedRows = async () => {
      const rows = (await registryDb.exec(
        "SELECT COUNT(*) AS n FROM fhirgate_audit_events WHERE kind = 'denied'",
      )) as unknown as Array<{ n: number }>;
      return Number(rows[0]?.n ?? 0);
    };
    // This process times B: when it waits for a CPU itself, B's measured latency grows with it.
    const ownLoop = monitorEventLoopDelay({ resolution: 10 });
    ownLoop.enable();
    const ownLoopP99 = () => ownLoop.percentile(99) / 1e6;
    const bLoad = (s: number) =>
      load({ url, connections: B_CONNECTIONS, seconds: s, rate, tokens: tokensB, query: B_QUERY });
    await bLoad(3); // warm-up: pools, JIT, JWKS cache
    // A's first stall, unmeasured: it pays A's one-time costs (the tenant's registry read and
    // mapping compile, its pool, the compile of A's query, its breaker's first opening), which
    // belong to a cold tenant, not to a neighbour that stays stalled.
    let targetA = url;
    if (control) {
      const stub = fork(new URL(import.meta.url).pathname, ['--control-server'], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      cleanups.push(async () => {
        stub.kill();
      });
      const port = await new Promise<number>((resolve) =>
        stub.once('message', (m) => resolve((m as { port: number }).port)),
      );
      targetA = `http://127.0.0.1:${port}/graphql`;
    }
    if (ownGatewayA) {
      // A diagnosis, not the product's setting: A's reads served by a second gateway process, so
      // the two tenants share no event loop or heap, only the machine and the database server.
      const second = await startServer({
        name: 'gateway-a',
        entry: gatewayEntry,
        env: gatewayEnvFull,
      });
      cleanups.push(() => second.stop());
      targetA = `${second.baseUrl}/graphql`;
      log(`A is sent to a gateway process of its own (pid ${second.pid}), not to B's`);
    }
    const specA: Omit<LoadASpec, 'seconds'> = {
      url: targetA,
      tokens: tokensA,
      clients,
      query: aQuery,
      connections: aConnections,
    };
    await startLoadA({ ...specA, seconds }, niceA);
    // The gateway's event-loop delay, read (and reset) around each measured window.
    const gatewayLoop = async () =>
      (await gateway?.probe({ type: 'loop-delay', reset: true }))?.loopDelay ?? {
        max: Number.NaN,
        p99: Number.NaN,
        p50: Number.NaN,
        maxCpuBlock: Number.NaN,
        gc: { count: 0, totalMs: Number.NaN, maxMs: Number.NaN, over5Ms: 0, majorMs: Number.NaN },
      };

    // Idle and noisy windows alternate, so slow phases of this shared machine's background load
    // hit both sides; each side's latencies are pooled over its rounds.
    // `heavy`: A's heavy read alone, one at a time, and the longest the gateway's event loop was
    // held during each (the event loop's delay monitor, reset before each request).
    const solo: Array<{
      ms: number;
      loopMaxMs: number;
      cpuBlockMs: number;
      gcMs: number;
      bytes: number;
    }> = [];
    if (heavy) {
      await new Promise((r) => setTimeout(r, DRAIN_MS));
      // The fine watch (1 ms delay monitor and CPU sampler) only here: in the rounds it would
      // cost the gateway several percent of a core in every window.
      await gateway?.probe({ type: 'watch', resolutionMs: 1, cpuBlocks: true });
      // One profiler at a time: the allocation profile, when asked for, takes the solo reads.
      if (alloc && gateway !== undefined) {
        await gateway.probe({ type: 'alloc-start' });
      } else if (profile && gateway !== undefined) {
        await gateway.probe({ type: 'profile-start' });
      }
      for (let i = 0; i < SOLO_HEAVY_REQUESTS; i++) {
        await gatewayLoop();
        const started = performance.now();
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            authorization: `Bearer ${tokensA[0]}`,
          },
          body: JSON.stringify({ query: HEAVY_QUERY }),
        });
        const text = await res.text();
        const ms = performance.now() - started;
        if (res.status !== 200 || text.includes('"errors"')) {
          throw new Error(`heavy read failed: ${res.status} ${text.slice(0, 300)}`);
        }
        const loop = await gatewayLoop();
        solo.push({
          ms,
          loopMaxMs: loop.max,
          cpuBlockMs: loop.maxCpuBlock,
          gcMs: loop.gc.totalMs,
          bytes: text.length,
        });
      }
      if (alloc && gateway !== undefined) {
        const path = 'bench/results/profiles/noisy-heavy-alone-gateway.heapprofile';
        await mkdir('bench/results/profiles', { recursive: true });
        await gateway.probe({ type: 'alloc-stop', path });
        await logAllocations(path, SOLO_HEAVY_REQUESTS, "A's heavy read alone: gateway");
      } else if (profile && gateway !== undefined) {
        await writeWindowProfile(gateway, 'noisy-heavy-alone-gateway', "A's heavy reads alone");
      }
      const loopMax = solo.map((x) => x.loopMaxMs).sort((a, b) => a - b);
      const took = solo.map((x) => x.ms).sort((a, b) => a - b);
      const cpuBlock = solo.map((x) => x.cpuBlockMs).sort((a, b) => a - b);
      const gcPauses = solo.map((x) => x.gcMs).sort((a, b) => a - b);
      log(
        `A's heavy read alone (${SOLO_HEAVY_REQUESTS} one at a time, ${solo[0]?.bytes} bytes): ${took[Math.floor(took.length / 2)]?.toFixed(0)} ms median; the gateway's event loop held at most ${loopMax[Math.floor(loopMax.length / 2)]?.toFixed(1)} ms (median over requests), ${loopMax.at(-1)?.toFixed(1)} ms (worst); its longest block in CPU time ${cpuBlock[Math.floor(cpuBlock.length / 2)]?.toFixed(1)} ms (median), ${cpuBlock.at(-1)?.toFixed(1)} ms (worst); GC pauses ${gcPauses[Math.floor(gcPauses.length / 2)]?.toFixed(1)} ms per read (median); load ${loadavg()[0]?.toFixed(1)}`,
      );
    }
    await gateway?.probe({
      type: 'watch',
      resolutionMs: ROUND_WATCH_RESOLUTION_MS,
      cpuBlocks: false,
    });
    const idleLatencies: number[] = [];
    const noisyLatencies: number[] = [];
    const rounds: Array<Record<string, unknown>> = [];
    let failed = 0;
    let rssGrowth = 0;
    for (let round = 1; round <= roundCount; round++) {
      // A's load generator cuts its requests when it stops, but the gateway still finishes them:
      // held refusals (up to FHIRGATE_REFUSAL_HOLD_MS, 5 s) and statements waiting on A's lock
      // (up to the 4 s server limit). Without this wait they ran into the next idle window (B's
      // idle p95 76-86 ms in the first round after the warm-up stall, against 8-13 ms).
      await new Promise((r) => setTimeout(r, DRAIN_MS));
      const cpu0 = await cpuMs(gateway.pid);
      const db0 = await dbCpuMs();
      ownLoop.reset();
      await gatewayLoop();
      const profiled = profile && round === roundCount;
      if (profiled) {
        await gateway.probe({ type: 'profile-start' });
      }
      const idle = await bLoad(seconds);
      if (profiled) {
        await writeWindowProfile(
          gateway,
          `noisy-${clients}-gateway-idle`,
          `idle window of round ${round}`,
        );
      }
      const idleLoopP99 = ownLoopP99();
      const idleGatewayLoop = await gatewayLoop();
      const idleCpu = (await cpuMs(gateway.pid)) - cpu0;
      const idleDbCpu = (await dbCpuMs()) - db0;
      // A starts first (its bulkhead fills, its breaker opens) and outlasts B's window.
      const storm = startLoadA({ ...specA, seconds: seconds + 4 }, niceA);
      await new Promise((r) => setTimeout(r, 2000));
      const rssBefore = await gateway.rss();
      const cpu1 = await cpuMs(gateway.pid);
      const db1 = await dbCpuMs();
      const denied1 = await deniedRows();
      const logBytes1 = gateway.outputBytes();
      ownLoop.reset();
      await gatewayLoop();
      if (profiled) {
        await gateway.probe({ type: 'profile-start' });
      }
      const noisy = await bLoad(seconds);
      const noisyLoopP99 = ownLoopP99();
      const noisyGatewayLoop = await gatewayLoop();
      if (profiled) {
        await writeWindowProfile(
          gateway,
          `noisy-${clients}-gateway`,
          `noisy window of round ${round}`,
        );
      }
      const noisyLogBytes = gateway.outputBytes() - logBytes1;
      const noisyCpu = (await cpuMs(gateway.pid)) - cpu1;
      const noisyDbCpu = (await dbCpuMs()) - db1;
      const noisyDenied = (await deniedRows()) - denied1;
      rssGrowth = Math.max(rssGrowth, (await gateway.rss()) - rssBefore);
      const a = await storm;
      idleLatencies.push(...idle.latencies);
      noisyLatencies.push(...noisy.latencies);
      failed += idle.failed + noisy.failed;
      const { latencies: _i, ...idleSummary } = idle;
      const { latencies: _n, ...noisySummary } = noisy;
      rounds.push({
        round,
        idle: {
          ...idleSummary,
          gatewayCpuMs: idleCpu,
          databaseServerCpuMs: idleDbCpu,
          benchLoopDelayP99Ms: idleLoopP99,
          gatewayLoopDelayMs: idleGatewayLoop,
        },
        noisy: {
          ...noisySummary,
          gatewayCpuMs: noisyCpu,
          databaseServerCpuMs: noisyDbCpu,
          deniedAuditRows: noisyDenied,
          gatewayLogBytes: noisyLogBytes,
          benchLoopDelayP99Ms: noisyLoopP99,
          gatewayLoopDelayMs: noisyGatewayLoop,
        },
        tenantA: a,
      });
      log(
        `round ${round}: B p95 idle ${idle.p95.toFixed(1)} ms, noisy ${noisy.p95.toFixed(1)} ms (${idle.failed + noisy.failed} failed); gateway CPU ${((100 * idleCpu) / (seconds * 1000)).toFixed(0)}% idle, ${((100 * noisyCpu) / (seconds * 1000)).toFixed(0)}% noisy; A ${a.requests} responses ${JSON.stringify(a.codes)}, A's clients ${((100 * a.cpuMs) / ((seconds + 4) * 1000)).toFixed(0)}% CPU; MariaDB CPU ${((100 * idleDbCpu) / (seconds * 1000)).toFixed(0)}% idle, ${((100 * noisyDbCpu) / (seconds * 1000)).toFixed(0)}% noisy (whole server); ${noisyDenied} denial audit rows and ${noisyLogBytes} bytes of gateway log in the noisy window; this process's event-loop delay p99 ${idleLoopP99.toFixed(0)} ms idle, ${noisyLoopP99.toFixed(0)} ms noisy; the gateway's event loop held at most ${idleGatewayLoop.max.toFixed(1)} ms idle, ${noisyGatewayLoop.max.toFixed(1)} ms noisy (p99 ${noisyGatewayLoop.p99.toFixed(1)}); its GC paused it ${gcText(idleGatewayLoop.gc)} idle, ${gcText(noisyGatewayLoop.gc)} noisy; load ${loadavg()[0]?.toFixed(1)}`,
      );
      if (round === 1) {
        log(`A's refusals: ${JSON.stringify(a.samples)}`);
      }
      if (idle.failed + noisy.failed > 0) {
        // The gateway logs codes only (never URLs or data): show why B failed.
        const why = gateway
          .output()
          .split('\n')
          .filter((l) => l.includes('driverCode') || l.includes('breaker'))
          .slice(-5);
        log(`B failures: ${JSON.stringify({ ...idle.samples, ...noisy.samples })}`);
        log(`gateway log tail:\n${why.join('\n')}`);
      }
    }
    idleLatencies.sort((x, y) => x - y);
    noisyLatencies.sort((x, y) => x - y);
    const idleP95 = percentile(idleLatencies, 95);
    const noisyP95 = percentile(noisyLatencies, 95);
    const ratio = noisyP95 / idleP95;
    // Fairness is not starving A: in heavy mode every noisy window must see A's reads answered.
    const aAnswered = rounds.map(
      (r) => (r['tenantA'] as { statuses: Record<string, number> }).statuses['200'] ?? 0,
    );
    const starved = heavy && !control && aAnswered.some((n) => n === 0);
    if (heavy) {
      log(
        `A's heavy reads answered (200) per noisy window: ${aAnswered.join(', ')}${starved ? ' - STARVED' : ''}`,
      );
    }
    const pass = ratio <= TARGET_RATIO && failed === 0 && !starved;
    log(
      `B p95 ${noisyP95.toFixed(1)} ms with A stalled / ${idleP95.toFixed(1)} ms idle = ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x, ${failed} B failures): ${pass ? 'PASS' : 'MISS'}`,
    );
    const result = {
      date: new Date().toISOString(),
      mode,
      clients,
      control,
      rateLimits: rateLimits ? 'production defaults' : 'off',
      loadGeneratorNiceA: niceA,
      machine: { cpus: cpus().length, loadavg1: loadavg()[0] },
      settings: {
        rounds: roundCount,
        secondsPerWindow: seconds,
        bRate: rate,
        bConnections: B_CONNECTIONS,
        aConcurrent: aConnections,
        bQuery: B_QUERY,
        aQuery,
        gatewayEntry,
      },
      idle: {
        requests: idleLatencies.length,
        p50: percentile(idleLatencies, 50),
        p95: idleP95,
        p99: percentile(idleLatencies, 99),
      },
      noisy: {
        requests: noisyLatencies.length,
        p50: percentile(noisyLatencies, 50),
        p95: noisyP95,
        p99: percentile(noisyLatencies, 99),
      },
      bFailures: failed,
      rounds,
      gatewayRssGrowthBytes: rssGrowth,
      ...(heavy ? { heavyAlone: solo } : {}),
      ratio: Number(ratio.toFixed(3)),
      target: TARGET_RATIO,
      verdict: pass ? 'PASS' : 'MISS',
    };
    await mkdir('bench/results', { recursive: true });
    const file = `bench/results/noisy-neighbour${heavy ? '-heavy' : ''}${clients === 'flood' ? '-flood' : ''}${control ? '-control' : ''}.json`;
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${file}`);
    process.exitCode = pass ? 0 : 1;
  } finally {
    await gateway?.stop();
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch(() => {});
    }
  }
}

/**
 * Control mode's stand-in for the gateway's answers to A (`--control-server`, a child process):
 * every request gets 503 `TENANT_UNAVAILABLE` with `Retry-After: 1`, held half to all of 1 s as
 * the gateway holds it. Sends its port to the parent.
 */
async function controlServer(): Promise<void> {
  const body = JSON.stringify({
    errors: [
      {
        message: 'The tenant database is unavailable.',
        extensions: { code: 'TENANT_UNAVAILABLE' },
      },
    ],
  });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      setTimeout(
        () => {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
          res.end(body);
        },
        500 + Math.random() * 500,
      );
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as { port: number }).port });
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv.includes('--load-a')) {
  await loadA();
} else if (process.argv.includes('--control-server')) {
  await controlServer();
} else {
  await main();
}
