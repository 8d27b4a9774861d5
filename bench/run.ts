/**
 * Issue 4: the gateway against the physical floor. `npm run bench` (about 5 min) or
 * `npm run bench -- --quick` (under a minute). Flags: `--profile` profiles every gateway
 * scenario (a full run profiles only the ones that miss their target). S3 also runs the naive
 * variant: the same gateway with `FHIRGATE_GRAPHQL_BATCH_LOADS=false` (no DataLoader batching or
 * caching). Every target is printed as PASS or MISS and written to bench/results/latest.{md,json}.
 *
 * Everything runs on 127.0.0.1: a MariaDB tenant database seeded through the test helpers, the
 * real `src/main.ts` in a child process in production mode, the baseline (`baseline-server.ts`)
 * in another child, the Keycloak stub and autocannon here. Every database it creates is dropped
 * at the end, on errors and on Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import mysql, { type Connection } from 'mysql2/promise';
import { MYSQL_DIALECT, type QueryExecutor, type SqlStatement } from '../src/db/dialect.js';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { compileMapping } from '../src/mapping/compile-mapping.js';
import { parseKeyring, sealSecret } from '../src/tenancy/crypto.js';
import { parseDatabaseUrl } from '../src/tenancy/database-url.js';
import { createTenantRegistry, type TenantRegistry } from '../src/tenancy/registry.js';
import { resolveMysqlServer } from '../test/helpers/global-setup.js';
import { startKeycloakStub } from '../test/helpers/jwks-server.js';
import { connectionOptions, createTestDatabase } from '../test/helpers/test-database.js';
import { gatewayEnvFromArgs, liveChildren, type ServerChild, startServer } from './children.js';
import {
  BENCH_MAPPING,
  FULL_SEED,
  QUICK_SEED,
  S1_QUERY,
  S2_QUERY,
  S3_MAPPING,
  S3_QUERY,
  type SeedSize,
  seedTenant,
  TENANT_DDL,
} from './fixtures.js';
import {
  combine,
  type Measurement,
  measureSegment,
  percentile,
  readCounters,
  runLoad,
  type Segment,
  startSampler,
} from './load.js';
import { formatComparison, type ProfileSummary, summarizeProfileFile } from './profile-summary.js';
import { createSmallTenants, SMALL_TENANT_PATIENTS } from './tenants.js';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const PROFILE_ALL = argv.includes('--profile');
/**
 * `--alloc` (with `--profile`): after each gateway CPU profile, a sampling allocation profile of
 * the same load (freed objects included: what the GC has to collect), summarized in the log as
 * bytes per request by allocating function, and written to `profiles/<scenario>-gateway.heapprofile`.
 */
const ALLOC = argv.includes('--alloc');
/**
 * `--gateway-env=NAME=value` (repeatable): extra environment for every gateway child, to compare
 * a setting in two runs (`--gateway-env=FHIRGATE_AUDIT_MAX_IN_FLIGHT=1`). Only FHIRGATE_ names.
 */
const GATEWAY_ENV = gatewayEnvFromArgs(argv);

interface Settings {
  readonly seed: SeedSize;
  /** Measured seconds per server and scenario: `rounds` interleaved windows of `segmentS`. */
  readonly durationS: number;
  readonly rounds: number;
  readonly segmentS: number;
  readonly warmupS: number;
  readonly connections: number;
  readonly tenants: number;
  readonly profileS: number;
}

const SETTINGS: Settings = QUICK
  ? {
      seed: QUICK_SEED,
      durationS: 4,
      rounds: 2,
      segmentS: 2,
      warmupS: 1,
      connections: 16,
      tenants: 100,
      profileS: 4,
    }
  : {
      seed: FULL_SEED,
      durationS: 15,
      rounds: 3,
      segmentS: 5,
      warmupS: 3,
      connections: 16,
      tenants: 1000,
      profileS: 10,
    };

const S4_MAX_TENANT_POOLS = 200;
const S4_MAX_CONNECTIONS = 150;
/** The registry's own pool (src/tenancy/registry.ts), outside the tenant connection cap. */
const REGISTRY_POOL_CONNECTIONS = 4;
const BENCH_CLIENT = 'bench-hospital';
/** The same database under the S3 mapping (Patient, Encounter, Observation). */
const S3_CLIENT = 'bench-hospital-s3';
const RESULTS = new URL('./results/', import.meta.url);

const startedAt = performance.now();
const log = (line: string) =>
  process.stderr.write(`[bench ${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// Cleanup: last registered runs first; runs once, on success, error or Ctrl-C.

const cleanups: Array<{ what: string; run: () => Promise<unknown> }> = [];
let cleaning: Promise<void> | undefined;
function onCleanup(what: string, run: () => Promise<unknown>): void {
  cleanups.push({ what, run });
}
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.allSettled(liveChildren().map((c) => c.stop()));
    for (const { what, run } of cleanups.reverse()) {
      try {
        await run();
      } catch (err) {
        log(`cleanup "${what}" failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------

interface ScenarioRow {
  readonly scenario: string;
  readonly gateway?: Measurement;
  readonly baseline?: Measurement;
  readonly skipped?: string;
}

interface Target {
  readonly scenario: string;
  readonly target: string;
  readonly measured: string;
  readonly status: 'PASS' | 'MISS' | 'SKIPPED';
}

/** A profiled window: its summary and the requests served in it. */
interface ProfiledRun {
  readonly requests: number;
  readonly summary: ProfileSummary;
}

interface ScenarioProfile {
  readonly scenario: string;
  readonly gateway: ProfiledRun;
  readonly baseline: ProfiledRun;
}

interface S4Result {
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

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

async function post(
  url: string,
  token: string,
  body: Record<string, unknown>,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** What one autocommit INSERT costs on this MariaDB: the floor of every audit write. */
interface CommitTimes {
  readonly samples: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/**
 * Sequential autocommit INSERTs of a 1.6 KB text row (the size of an S1 audit event) into a
 * scratch InnoDB table for `durationMs`: the commit latency, log flush included
 * (`innodb_flush_log_at_trx_commit` as the server has it), that an audit INSERT cannot beat.
 */
async function timeCommits(conn: Connection, durationMs: number): Promise<CommitTimes> {
  await conn.query(
    'CREATE TABLE IF NOT EXISTS bench_commit_probe (id BIGINT AUTO_INCREMENT PRIMARY KEY, event TEXT NOT NULL) ENGINE=InnoDB',
  );
  const row = 'x'.repeat(1600);
  const times: number[] = [];
  const until = performance.now() + durationMs;
  while (performance.now() < until) {
    const t0 = performance.now();
    await conn.execute('INSERT INTO bench_commit_probe (event) VALUES (?)', [row]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    samples: times.length,
    p50: percentile(times, 50),
    p90: percentile(times, 90),
    p99: percentile(times, 99),
  };
}

/** The statements the engine sends for S1 and S2, recorded from the compiled mapping. */
async function captureStatements(): Promise<{ s1: SqlStatement; s2: SqlStatement }> {
  const compiled = compileMapping(BENCH_MAPPING, {
    defs: loadDefinitions(),
    dialect: MYSQL_DIALECT,
  });
  if (!compiled.ok) {
    throw new Error(`bench mapping does not compile: ${JSON.stringify(compiled.problems)}`);
  }
  const patient = compiled.mapping.resource('Patient');
  if (patient === undefined) {
    throw new Error('bench mapping has no Patient');
  }
  const seen: SqlStatement[] = [];
  const recorder: QueryExecutor = {
    dialect: MYSQL_DIALECT,
    query: async (statement) => {
      seen.push(statement);
      return [];
    },
  };
  await patient.loadByIds(recorder, ['1']);
  await patient.search(recorder, [], { count: 50, offset: 0 });
  const [s1, s2] = seen;
  if (seen.length !== 2 || s1 === undefined || s2 === undefined) {
    throw new Error(`expected 2 statements from the engine, got ${seen.length}`);
  }
  // The id is the last parameter of the read; the baseline appends its own.
  return { s1: { sql: s1.sql, params: s1.params.slice(0, -1) }, s2 };
}

/** The statements of S3's batched baseline, captured from the engine; or why there are none. */
interface S3Plan {
  readonly patients: SqlStatement;
  /** The reverse-reference batch; `targetSlots` are the positions of the 20 patient ids. */
  readonly observations: SqlStatement & { readonly targetSlots: number[] };
}

/**
 * S3's statements as the engine writes them: the page of 20 patients and the batch of each one's
 * 10 latest observations (captured with sentinel ids, whose parameter positions the baseline
 * fills). A string says why S3 cannot run: the engine's problems with the S3 mapping, or a
 * missing reverse-reference search.
 */
async function captureS3Statements(): Promise<S3Plan | string> {
  const compiled = compileMapping(S3_MAPPING, { defs: loadDefinitions(), dialect: MYSQL_DIALECT });
  if (!compiled.ok) {
    const problems = compiled.problems
      .slice(0, 3)
      .map((p) => `${p.resource ?? ''} ${p.path ?? ''}: ${p.message}`.trim())
      .join('; ');
    return `needs \`reference\` element sources and reverse-reference search in the mapping engine; it rejects the S3 mapping (${compiled.problems.length} problems, e.g. ${problems})`;
  }
  const patient = compiled.mapping.resource('Patient');
  const observation = compiled.mapping.resource('Observation') as unknown as
    | (Record<string, unknown> & {
        searchByReference?: (exec: QueryExecutor, request: unknown) => Promise<unknown>;
      })
    | undefined;
  if (patient === undefined || typeof observation?.searchByReference !== 'function') {
    return 'needs reverse-reference search (`searchByReference`) in the mapping engine';
  }
  const seen: SqlStatement[] = [];
  const recorder: QueryExecutor = {
    dialect: MYSQL_DIALECT,
    query: async (statement) => {
      seen.push(statement);
      return [];
    },
  };
  const sentinels = Array.from({ length: 20 }, (_, i) => String(900_001 + i));
  await patient.search(recorder, [], { count: 20, offset: 0 });
  await observation.searchByReference(recorder, {
    code: 'subject',
    targetIds: sentinels,
    query: [],
    countPerTarget: 10,
    sort: [{ code: 'date', descending: true }],
  });
  const [patients, observations] = seen;
  if (seen.length !== 2 || patients === undefined || observations === undefined) {
    return `the engine sent ${seen.length} statements for S3's two levels; expected 2`;
  }
  const targetSlots = sentinels.map((id) => observations.params.findIndex((p) => String(p) === id));
  if (targetSlots.some((slot) => slot < 0)) {
    return 'the reverse-reference statement does not bind each target id once';
  }
  return { patients, observations: { ...observations, targetSlots } };
}

/** Same answers from both servers, or the comparison means nothing. */
async function assertSameAnswers(
  gateway: ServerChild,
  baseline: ServerChild,
  token: string,
  bodies: ReadonlyArray<Record<string, unknown>>,
): Promise<void> {
  for (const body of bodies) {
    const [g, b] = await Promise.all([
      post(gateway.baseUrl, token, body),
      post(baseline.baseUrl, token, body),
    ]);
    if (g.status !== 200 || !isDeepStrictEqual(g.json, b.json)) {
      throw new Error(
        `gateway and baseline disagree on ${JSON.stringify(body['variables'] ?? String(body['query']).slice(0, 12))}:\n` +
          `gateway  ${g.status} ${JSON.stringify(g.json).slice(0, 600)}\n` +
          `baseline ${b.status} ${JSON.stringify(b.json).slice(0, 600)}`,
      );
    }
  }
}

/** The connections and MariaDB port every measurement uses; set once by `main`. */
let measuring: { admin: Connection; sampler: Connection; port: number } | undefined;

function measuringContext(): { admin: Connection; sampler: Connection; port: number } {
  if (measuring === undefined) {
    throw new Error('measuring context not set');
  }
  return measuring;
}

/** No transport errors, no non-2xx, no GraphQL errors: otherwise the numbers measure failures. */
function clean(pair: { gateway: Measurement; baseline: Measurement }): boolean {
  return [pair.gateway, pair.baseline].every((m) => m.errors + m.non2xx + m.graphqlErrors === 0);
}

/** One scenario on both servers: warm-up, then interleaved windows (B G, G B, ...). */
async function compare(
  scenario: string,
  gateway: ServerChild,
  baseline: ServerChild,
  clientId: string,
  body: () => string,
  tokenFor: (clientId: string) => Promise<string>,
): Promise<{ gateway: Measurement; baseline: Measurement }> {
  const token = await tokenFor(clientId);
  const load = {
    connections: SETTINGS.connections,
    durationS: SETTINGS.segmentS,
    body,
    token: () => token,
  };
  for (const child of [baseline, gateway]) {
    await runLoad({ ...load, url: `${child.baseUrl}/graphql`, durationS: SETTINGS.warmupS });
  }
  // Load from other processes on the machine then hits both servers alike instead of whichever
  // ran second.
  const segments = new Map<ServerChild, Segment[]>([
    [baseline, []],
    [gateway, []],
  ]);
  for (let round = 0; round < SETTINGS.rounds; round++) {
    for (const child of round % 2 === 0 ? [baseline, gateway] : [gateway, baseline]) {
      const { admin, sampler, port } = measuringContext();
      segments.get(child)?.push(await measureSegment(admin, sampler, child, port, load));
    }
  }
  const result = {
    baseline: combine('baseline', segments.get(baseline) ?? []),
    gateway: combine('gateway', segments.get(gateway) ?? []),
  };
  for (const m of [result.baseline, result.gateway]) {
    const errors = m.errors + m.non2xx + m.graphqlErrors;
    log(
      `${scenario} ${m.server}: ${fmt(m.rps, 0)} req/s, p50 ${fmt(m.p50, 2)} ms, p99 ${fmt(m.p99, 2)} ms, ${fmt(m.cpuUsPerRequest, 0)} CPU µs/req (main thread ${fmt(m.mainCpuUsPerRequest, 0)}), loop busy ${fmt(m.loopUtilization * 100, 0)} %, ${fmt(m.sqlPerRequest, 2)} SQL/req, ${fmt(m.insertsPerRequest, 2)} INSERT/req${errors > 0 ? `, ${errors} ERRORS (first: ${m.firstError ?? '?'})` : ''}`,
    );
  }
  return result;
}

/**
 * The statements one request sends: the least `Com_select` delta over 5 sequential requests
 * (the counter is server-wide, so another client can only add to it).
 */
async function exactStatements(
  child: ServerChild,
  token: string,
  body: Record<string, unknown>,
): Promise<number> {
  const { admin } = measuringContext();
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const before = (await readCounters(admin))['Com_select'] ?? 0;
    const res = await post(child.baseUrl, token, body);
    const after = (await readCounters(admin))['Com_select'] ?? 0;
    if (res.status !== 200) {
      throw new Error(`${child.name}: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
    }
    least = Math.min(least, after - before);
  }
  return least;
}

/** One server on its own: warm-up, then the same measured windows as {@link compare}. */
async function measureAlone(
  child: ServerChild,
  token: string,
  body: () => string,
): Promise<Measurement> {
  // A quick run measures one window of 3 s with no warm-up of its own (the exact statement count
  // before it has run the query): a naive request takes about a second, so a 2 s window would
  // count only a handful, and the quick run must stay under 60 s.
  const load = {
    connections: SETTINGS.connections,
    durationS: QUICK ? 3 : SETTINGS.segmentS,
    body,
    token: () => token,
  };
  if (!QUICK) {
    await runLoad({ ...load, url: `${child.baseUrl}/graphql`, durationS: SETTINGS.warmupS });
  }
  const segments: Segment[] = [];
  for (let round = 0; round < (QUICK ? 1 : SETTINGS.rounds); round++) {
    const { admin, sampler, port } = measuringContext();
    segments.push(await measureSegment(admin, sampler, child, port, load));
  }
  return combine(child.name, segments);
}

/** Profiles both servers under the scenario's load when a target missed (full run) or `--profile`. */
async function profileIfMissed(
  scenario: string,
  gateway: ServerChild,
  baseline: ServerChild,
  clientId: string,
  body: () => string,
  targets: readonly Target[],
  profiles: ScenarioProfile[],
  tokenFor: (clientId: string) => Promise<string>,
): Promise<void> {
  const missed = targets.some((t) => t.scenario === scenario && t.status === 'MISS');
  if (!PROFILE_ALL && !(missed && !QUICK)) {
    return;
  }
  log(`${scenario}: profiling gateway and baseline, ${SETTINGS.profileS} s each`);
  const token = await tokenFor(clientId);
  const load = { body, token: () => token };
  profiles.push({
    scenario,
    gateway: await profileServer(gateway, scenario, load),
    baseline: await profileServer(baseline, scenario, load),
  });
}

/** A CPU profile of one server child under the scenario's load, with the requests it served. */
async function profileServer(
  child: ServerChild,
  scenario: string,
  load: { body: () => string; token: () => string },
): Promise<ProfiledRun> {
  await mkdir(new URL('./profiles/', RESULTS), { recursive: true });
  const path = new URL(`./profiles/${scenario}-${child.name}.cpuprofile`, RESULTS).pathname;
  const result = await recordUnderLoad(child, 'profile', path, load);
  log(`${scenario} ${child.name}: profile written to ${path}`);
  if (ALLOC && child.name === 'gateway') {
    await allocationProfile(child, scenario, load);
  }
  return { requests: result.requests, summary: await summarizeProfileFile(path, 25) };
}

/**
 * Runs the scenario's load on one child for `profileS` seconds between the probe's `<kind>-start`
 * and `<kind>-stop` (a CPU profile, or an allocation profile), which writes `path`.
 */
async function recordUnderLoad(
  child: ServerChild,
  kind: 'profile' | 'alloc',
  path: string,
  load: { body: () => string; token: () => string },
): Promise<{ requests: number }> {
  const started = await child.probe({ type: `${kind}-start` });
  if (!started.ok) {
    throw new Error(`${kind}-start failed: ${started.error}`);
  }
  const result = await runLoad({
    url: `${child.baseUrl}/graphql`,
    connections: SETTINGS.connections,
    durationS: SETTINGS.profileS,
    ...load,
  });
  const stopped = await child.probe({ type: `${kind}-stop`, path });
  if (!stopped.ok) {
    throw new Error(`${kind}-stop failed: ${stopped.error}`);
  }
  return result;
}

interface HeapProfileNode {
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly HeapProfileNode[];
}

/** `--alloc`: bytes allocated per request, by function, under the scenario's load. */
async function allocationProfile(
  child: ServerChild,
  scenario: string,
  load: { body: () => string; token: () => string },
): Promise<void> {
  const path = new URL(`./profiles/${scenario}-${child.name}.heapprofile`, RESULTS).pathname;
  const result = await recordUnderLoad(child, 'alloc', path, load);
  const { head } = JSON.parse(await readFile(path, 'utf8')) as { head: HeapProfileNode };
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/node_modules\//, '').replace(`file://${process.cwd()}/`, '');
    const site = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const c of node.children) {
      walk(c);
    }
  };
  walk(head);
  const perRequest = (bytes: number) => (bytes / Math.max(1, result.requests) / 1024).toFixed(2);
  log(
    `${scenario} gateway allocations: ${perRequest(total)} KiB per request; top sites (KiB/req):`,
  );
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    log(`  ${perRequest(bytes).padStart(7)}  ${site}`);
  }
}

function machineInfo(mariadbVersion: string): Record<string, string | number> {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      encoding: 'utf8',
    }).trim();
    if (dirty !== '') {
      commit += ' (src/ has uncommitted changes)';
    }
  } catch {
    // Not a git checkout.
  }
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    mariadb: mariadbVersion,
    commit,
    mode: QUICK ? 'quick' : 'full',
    gatewayEnv:
      Object.entries(GATEWAY_ENV)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || 'defaults',
    loadStart: loadavg()[0]?.toFixed(2) ?? 'n/a',
  };
}

async function main(): Promise<void> {
  const resolved = await resolveMysqlServer(process.env);
  onCleanup('mysql server', () => resolved.stop());
  const { server } = resolved;
  log(`MariaDB from ${resolved.source} at ${server.host}:${server.port}`);
  const admin: Connection = await mysql.createConnection(connectionOptions(server));
  onCleanup('admin connection', () => admin.end());
  const samplerConn: Connection = await mysql.createConnection(connectionOptions(server));
  onCleanup('sampler connection', () => samplerConn.end());
  measuring = { admin, sampler: samplerConn, port: server.port };
  const [versionRows] = await admin.query('SELECT VERSION() AS v');
  const machine = machineInfo(String((versionRows as Array<{ v: string }>)[0]?.v));

  // -- the benchmark tenant ----------------------------------------------------------------------
  const seedStarted = performance.now();
  const tenantDb = await createTestDatabase('fgb', server);
  onCleanup(`drop ${tenantDb.name}`, () => tenantDb.drop());
  for (const ddl of TENANT_DDL) {
    await tenantDb.exec(ddl);
  }
  const seedConn = await tenantDb.connection();
  await seedTenant(seedConn, SETTINGS.seed);
  await seedConn.query('ANALYZE TABLE pacientes, atenciones, observaciones');
  await seedConn.end();
  const seedS = (performance.now() - seedStarted) / 1000;
  log(
    `seeded ${tenantDb.name}: ${SETTINGS.seed.patients} patients, ${SETTINGS.seed.encounters} encounters, ${SETTINGS.seed.observations} observations in ${seedS.toFixed(1)} s`,
  );

  const registryDb = await createTestDatabase('fgbreg', server);
  onCleanup(`drop ${registryDb.name}`, () => registryDb.drop());
  const registry: TenantRegistry = createTenantRegistry(parseDatabaseUrl(registryDb.url));
  const commitConn = await registryDb.connection();
  onCleanup('commit probe connection', () => commitConn.end());
  const [flushRows] = await admin.query(
    'SELECT @@GLOBAL.innodb_flush_log_at_trx_commit AS f, @@GLOBAL.sync_binlog AS s, @@GLOBAL.log_bin AS b',
  );
  const flush = (flushRows as Array<{ f: number; s: number; b: number }>)[0];
  const commitIdle = await timeCommits(commitConn, QUICK ? 1000 : 2000);
  log(
    `bare autocommit INSERT (1.6 KB row, innodb_flush_log_at_trx_commit=${flush?.f}), idle server: p50 ${fmt(commitIdle.p50, 2)} ms, p90 ${fmt(commitIdle.p90, 2)} ms, p99 ${fmt(commitIdle.p99, 2)} ms (${commitIdle.samples} commits)`,
  );
  onCleanup('registry pool', () => registry.close());
  await registry.applySchema();
  const encryptionKey = randomBytes(32).toString('base64');
  const keyring = parseKeyring({ primaryKey: encryptionKey });
  const mappingText = JSON.stringify(BENCH_MAPPING);
  await registry.upsertTenant({
    clientId: BENCH_CLIENT,
    displayName: 'Bench hospital',
    dbType: 'mysql',
    sealedUrl: sealSecret(keyring, BENCH_CLIENT, tenantDb.url),
    status: 'active',
  });
  await registry.addMapping(BENCH_CLIENT, mappingText, { activate: true });

  const keycloak = await startKeycloakStub();
  onCleanup('keycloak stub', () => keycloak.close());
  const tokenFor = (clientId: string) =>
    keycloak.tokenFor({
      clientId,
      roles: ['fhir-read'],
      overrides: { exp: Math.floor(Date.now() / 1000) + 1800 },
    });

  const statements = await captureStatements();
  const s3Plan = await captureS3Statements();
  const gatewayEnv = (extra: Record<string, string> = {}) => ({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    FHIRGATE_REGISTRY_URL: registryDb.url,
    FHIRGATE_ENCRYPTION_KEY: encryptionKey,
    FHIRGATE_OIDC_ISSUER: keycloak.issuer(),
    FHIRGATE_RESOURCE_TYPES: 'Patient',
    FHIRGATE_GRAPHIQL: 'false',
    // One benchmark user drives thousands of requests a second: the per-user and per-tenant token
    // buckets stay in the path (their bookkeeping is measured) with limits load never reaches.
    FHIRGATE_RATE_USER_PER_S: '1000000',
    FHIRGATE_RATE_USER_BURST: '1000000',
    FHIRGATE_RATE_TENANT_PER_S: '1000000',
    FHIRGATE_RATE_TENANT_BURST: '1000000',
    // The same for the per-user distinct-patient limit (300 per 5 min by default): S1 reads
    // random patients as one user, so the default would refuse it after 300.
    FHIRGATE_MAX_DISTINCT_PATIENTS: '1000000',
    ...GATEWAY_ENV,
    ...extra,
  });

  const [gateway, baseline] = await Promise.all([
    startServer({
      name: 'gateway',
      entry: 'src/main.ts',
      env: gatewayEnv(),
      nodeArgs: ['--expose-gc'],
    }),
    startServer({
      name: 'baseline',
      entry: 'bench/baseline-server.ts',
      env: {
        NODE_ENV: 'production',
        BENCH_DB: JSON.stringify({
          host: server.host,
          port: server.port,
          user: server.user,
          password: server.password,
          database: tenantDb.name,
        }),
        BENCH_SQL: JSON.stringify({
          ...statements,
          ...(typeof s3Plan === 'string' ? {} : { s3: s3Plan }),
        }),
        BENCH_OIDC_ISSUER: keycloak.issuer(),
        BENCH_JWKS_URL: keycloak.jwksUrl().href,
      },
      nodeArgs: ['--expose-gc'],
    }),
  ]);
  log(
    `gateway pid ${gateway.pid} at ${gateway.baseUrl}, baseline pid ${baseline.pid} at ${baseline.baseUrl}`,
  );

  const token = await tokenFor(BENCH_CLIENT);
  await assertSameAnswers(gateway, baseline, token, [
    ...[
      '1',
      '2',
      '50',
      '97',
      String(SETTINGS.seed.patients),
      String(SETTINGS.seed.patients + 5),
      '01',
      'x',
    ].map((id) => ({ query: S1_QUERY, variables: { id } })),
    { query: S2_QUERY },
  ]);
  log('gateway and baseline give identical responses (S1 ids incl. voided/missing/bad, S2 page)');

  const rows: ScenarioRow[] = [];
  const profiles: ScenarioProfile[] = [];
  const targets: Target[] = [];
  const check = (scenario: string, target: string, measured: number, ok: boolean, unit = 'x') =>
    targets.push({
      scenario,
      target,
      measured: `${fmt(measured, 2)}${unit}`,
      status: ok ? 'PASS' : 'MISS',
    });
  const s1Body = () =>
    JSON.stringify({
      query: S1_QUERY,
      variables: { id: String(1 + Math.floor(Math.random() * SETTINGS.seed.patients)) },
    });
  const s2Text = JSON.stringify({ query: S2_QUERY });
  const s3Text = JSON.stringify({ query: S3_QUERY });

  const s1 = await compare('S1', gateway, baseline, BENCH_CLIENT, s1Body, tokenFor);
  // The same bare commit while the gateway serves S1 (its audit INSERTs included): what an audit
  // write waits for under this load, to hold against the gateway's p50.
  const s1Token = await tokenFor(BENCH_CLIENT);
  const [, commitLoaded] = await Promise.all([
    runLoad({
      url: `${gateway.baseUrl}/graphql`,
      connections: SETTINGS.connections,
      durationS: QUICK ? 2 : 4,
      body: s1Body,
      token: () => s1Token,
    }),
    timeCommits(commitConn, QUICK ? 2000 : 4000),
  ]);
  log(
    `bare autocommit INSERT while the gateway serves S1: p50 ${fmt(commitLoaded.p50, 2)} ms, p90 ${fmt(commitLoaded.p90, 2)} ms, p99 ${fmt(commitLoaded.p99, 2)} ms (${commitLoaded.samples} commits)`,
  );
  const commits = {
    innodbFlushLogAtTrxCommit: Number(flush?.f),
    logBin: Number(flush?.b),
    idle: commitIdle,
    underS1Load: commitLoaded,
  };
  rows.push({ scenario: 'S1', ...s1 });
  const s2 = await compare('S2', gateway, baseline, BENCH_CLIENT, () => s2Text, tokenFor);
  rows.push({ scenario: 'S2', ...s2 });
  const s1Rps = s1.gateway.rps / s1.baseline.rps;
  const s1P99 = s1.gateway.p99 / s1.baseline.p99;
  const s2Rps = s2.gateway.rps / s2.baseline.rps;
  check('S1', 'throughput >= 0.7x baseline', s1Rps, s1Rps >= 0.7 && clean(s1));
  check('S1', 'p99 <= 1.5x baseline p99', s1P99, s1P99 <= 1.5 && clean(s1));
  check('S2', 'throughput >= 0.8x baseline', s2Rps, s2Rps >= 0.8 && clean(s2));
  await profileIfMissed('S1', gateway, baseline, BENCH_CLIENT, s1Body, targets, profiles, tokenFor);
  await profileIfMissed(
    'S2',
    gateway,
    baseline,
    BENCH_CLIENT,
    () => s2Text,
    targets,
    profiles,
    tokenFor,
  );
  await gateway.stop();

  // -- S3: nested reverse references, one gateway serving Patient, Encounter and Observation ------
  const s3Blocked = typeof s3Plan === 'string' ? s3Plan : undefined;
  let s3Gateway: ServerChild | undefined;
  let s3Skip = s3Blocked;
  if (s3Skip === undefined) {
    await registry.upsertTenant({
      clientId: S3_CLIENT,
      displayName: 'Bench hospital (S3 mapping)',
      dbType: 'mysql',
      sealedUrl: sealSecret(keyring, S3_CLIENT, tenantDb.url),
      status: 'active',
    });
    await registry.addMapping(S3_CLIENT, JSON.stringify(S3_MAPPING), { activate: true });
    try {
      s3Gateway = await startServer({
        name: 'gateway',
        entry: 'src/main.ts',
        env: gatewayEnv({ FHIRGATE_RESOURCE_TYPES: 'Patient,Encounter,Observation' }),
        nodeArgs: ['--expose-gc'],
      });
      await assertSameAnswers(s3Gateway, baseline, await tokenFor(S3_CLIENT), [
        { query: S3_QUERY },
      ]);
      log('S3: gateway and batched baseline give identical responses');
    } catch (err) {
      s3Skip = `the gateway cannot serve the S3 query yet (${(err instanceof Error ? err.message : String(err)).split('\n').slice(0, 3).join(' ').slice(0, 400)})`;
      await s3Gateway?.stop();
      s3Gateway = undefined;
    }
  }
  let naiveNote = 'naive variant not run';
  if (s3Gateway !== undefined) {
    const s3Token = await tokenFor(S3_CLIENT);
    const s3Statements = await exactStatements(s3Gateway, s3Token, { query: S3_QUERY });
    const s3 = await compare('S3', s3Gateway, baseline, S3_CLIENT, () => s3Text, tokenFor);
    rows.push({ scenario: 'S3', ...s3 });
    const ratio = s3.gateway.rps / s3.baseline.rps;
    // One statement per level: PatientList, the batched ObservationLists, the batched subjects.
    // The subjects are the 20 patients PatientList already loaded, so the third level is served
    // from the request's DataLoader cache and costs none: 2 is what batching should give.
    targets.push({
      scenario: 'S3',
      target: 'one SQL statement per level, 3 levels: <= 3 per request (issue: exactly 3)',
      measured: `${s3Statements} (one request, exact); ${fmt(s3.gateway.sqlPerRequest, 2)} under load`,
      status: s3Statements >= 1 && s3Statements <= 3 ? 'PASS' : 'MISS',
    });
    check('S3', 'throughput >= 0.8x batched baseline', ratio, ratio >= 0.8 && clean(s3));
    await profileIfMissed(
      'S3',
      s3Gateway,
      baseline,
      S3_CLIENT,
      () => s3Text,
      targets,
      profiles,
      tokenFor,
    );
    await s3Gateway.stop();

    // The naive variant: the same gateway with DataLoader off (one statement per load, no
    // cache), and queues deep enough for a request's 200 statements, measured on its own.
    const naiveGateway = await startServer({
      name: 'gateway-naive',
      entry: 'src/main.ts',
      env: gatewayEnv({
        FHIRGATE_RESOURCE_TYPES: 'Patient,Encounter,Observation',
        FHIRGATE_GRAPHQL_BATCH_LOADS: 'false',
        FHIRGATE_POOL_QUEUE_LIMIT: '10000',
        FHIRGATE_TENANT_QUEUE: '10000',
      }),
      nodeArgs: ['--expose-gc'],
    });
    await assertSameAnswers(naiveGateway, baseline, s3Token, [{ query: S3_QUERY }]);
    const naiveStatements = await exactStatements(naiveGateway, s3Token, { query: S3_QUERY });
    const naive = await measureAlone(naiveGateway, s3Token, () => s3Text);
    await naiveGateway.stop();
    const naiveErrors = naive.errors + naive.non2xx + naive.graphqlErrors;
    log(
      `S3 naive: ${fmt(naive.rps, 0)} req/s, p50 ${fmt(naive.p50, 2)} ms, p99 ${fmt(naive.p99, 2)} ms, ${naiveStatements} SQL in one request${naiveErrors > 0 ? `, ${naiveErrors} ERRORS (first: ${naive.firstError ?? '?'})` : ''}`,
    );
    rows.push({ scenario: 'S3 naive', gateway: naive });
    const naiveRatio = s3.gateway.rps / naive.rps;
    check(
      'S3',
      'throughput >= 5x naive',
      naiveRatio,
      naiveRatio >= 5 && naiveErrors === 0 && clean(s3),
    );
    naiveNote = `the naive variant is the same gateway with FHIRGATE_GRAPHQL_BATCH_LOADS=false (DataLoader batching and caching off: ${naiveStatements} statements for one S3 request against ${s3Statements}), measured alone after the S3 pair`;
  } else {
    rows.push({ scenario: 'S3', skipped: s3Skip ?? 'not run' });
    for (const target of [
      'one SQL statement per level, 3 levels: <= 3 per request (issue: exactly 3)',
      'throughput >= 5x naive',
      'throughput >= 0.8x batched baseline',
    ]) {
      targets.push({ scenario: 'S3', target, measured: 'n/a', status: 'SKIPPED' });
    }
  }
  await baseline.stop();

  // -- S4: many tenants --------------------------------------------------------------------------
  const s4 = await runS4(
    server,
    admin,
    samplerConn,
    registry,
    keyring,
    mappingText,
    gatewayEnv,
    tokenFor,
  );
  // The cap covers the tenant pools. The server's threads in the tenant databases are exactly
  // those; the client's sockets also hold the registry's own pool (up to 4), outside the cap.
  targets.push({
    scenario: 'S4',
    target: `gateway's tenant connections never above ${S4_MAX_CONNECTIONS}`,
    measured: `max ${s4.maxTenantThreads} (server threads in tenant databases) / ${s4.maxSockets} (client sockets, incl. registry pool)`,
    status:
      s4.maxTenantThreads <= S4_MAX_CONNECTIONS &&
      s4.maxSockets <= S4_MAX_CONNECTIONS + REGISTRY_POOL_CONNECTIONS
        ? 'PASS'
        : 'MISS',
  });
  check('S4', 'cold tenant p50 < 50 ms', s4.coldP50, s4.coldP50 < 50, ' ms');
  check(
    'S4',
    '<= 100 KB heap per cached idle tenant',
    s4.heapPerTenantBytes / 1024,
    s4.heapPerTenantBytes <= 100 * 1024,
    ' KB',
  );

  const totalS = (performance.now() - startedAt) / 1000;
  const report = renderReport({
    machine,
    rows,
    targets,
    s4,
    profiles,
    seedS,
    totalS,
    naiveNote,
    commits,
  });
  console.log(report);
  await mkdir(RESULTS, { recursive: true });
  const json = {
    machine,
    settings: { ...SETTINGS, quick: QUICK },
    seedSeconds: seedS,
    totalSeconds: totalS,
    scenarios: rows,
    s4,
    targets,
    profiles,
    commits,
  };
  for (const [name, text] of [
    ['latest.md', `${report}\n`],
    ['latest.json', `${JSON.stringify(json, null, 2)}\n`],
  ] as const) {
    const tmp = new URL(`${name}.tmp`, RESULTS);
    await writeFile(tmp, text);
    await rename(tmp, new URL(name, RESULTS));
  }
  log(`wrote bench/results/latest.md and latest.json (${totalS.toFixed(0)} s in total)`);
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

async function runS4(
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
    nodeArgs: ['--expose-gc'],
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
        cpuUs: Number.NaN,
        mainCpuUs: Number.NaN,
        loopActiveMs: Number.NaN,
        loopIdleMs: Number.NaN,
      },
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

function renderReport(r: {
  machine: Record<string, string | number>;
  rows: ScenarioRow[];
  targets: Target[];
  s4: S4Result;
  profiles: ScenarioProfile[];
  seedS: number;
  totalS: number;
  naiveNote: string;
  commits: {
    innodbFlushLogAtTrxCommit: number;
    logBin: number;
    idle: CommitTimes;
    underS1Load: CommitTimes;
  };
}): string {
  const m = r.machine;
  const seed = SETTINGS.seed;
  const errs = (x: Measurement) => x.errors + x.non2xx + x.graphqlErrors;
  const line = (scenario: string, x: Measurement, ratio: string, p99Ratio: string) =>
    `| ${scenario} | ${x.server} | ${fmt(x.rps, 0)} | ${fmt(x.p50, 2)} | ${fmt(x.p99, 2)} | ${fmt(x.cpuUsPerRequest, 0)} (${fmt(x.mainCpuUsPerRequest, 0)}) | ${fmt(x.loopUtilization * 100, 0)} % | ${fmt(x.sqlPerRequest, 2)} | ${fmt(x.insertsPerRequest, 2)} | ${fmt(x.preparesPerRequest, 3)} | ${mib(x.maxRssBytes)} | ${errs(x)} | ${ratio} | ${p99Ratio} |`;
  const out: string[] = [
    `# fhirgate benchmark (${m['mode']})`,
    '',
    `${m['date']} · ${m['cpu']} · ${m['cores']} cores · ${m['memoryGiB']} GiB · Node ${m['node']} · MariaDB ${m['mariadb']} · commit ${m['commit']}`,
    '',
    `Tenant data: ${seed.patients} patients, ${seed.encounters} encounters, ${seed.observations} observations${QUICK ? ' (quick mode seeds a fifth of the 10,000 / 30,000 / 200,000 rows of a full run)' : ''}, seeded in ${r.seedS.toFixed(1)} s. ` +
      `Load: autocannon, ${SETTINGS.connections} connections, ${SETTINGS.warmupS} s warm-up, then ${SETTINGS.rounds} interleaved windows of ${SETTINGS.segmentS} s per server (${SETTINGS.durationS} s measured each); both servers are child processes in production mode (NODE_ENV=production, LOG_LEVEL=warn) with real RS256 verification against the same local JWKS.`,
    '',
    '| scenario | server | req/s | p50 ms | p99 ms | CPU µs/req (main thread) | loop busy | SQL/req | audit INSERT/req | prepares/req | RSS MiB | errors | gateway/baseline req/s | gateway/baseline p99 |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of r.rows) {
    if (row.skipped === undefined && row.gateway !== undefined && row.baseline === undefined) {
      // A server measured alone (the naive variant): no baseline of its own.
      out.push(line(row.scenario, row.gateway, 'n/a', 'n/a'));
      continue;
    }
    if (row.skipped !== undefined || row.gateway === undefined || row.baseline === undefined) {
      out.push(
        `| ${row.scenario} | SKIPPED: ${row.skipped ?? 'not run'} | | | | | | | | | | | | |`,
      );
      continue;
    }
    out.push(line(row.scenario, row.baseline, '', ''));
    out.push(
      line(
        row.scenario,
        row.gateway,
        `**${fmt(row.gateway.rps / row.baseline.rps, 2)}x**`,
        `**${fmt(row.gateway.p99 / row.baseline.p99, 2)}x**`,
      ),
    );
  }
  const s4 = r.s4;
  const rr = s4.roundRobin;
  out.push(
    line(`S4 round robin, ${s4.tenants} tenants`, rr, 'n/a', 'n/a'),
    '',
    `### S4: ${s4.tenants} tenants, FHIRGATE_POOL_MAX_TENANTS=${S4_MAX_TENANT_POOLS}, FHIRGATE_POOL_MAX_CONNECTIONS=${S4_MAX_CONNECTIONS}`,
    '',
    '| metric | value |',
    '|---|---:|',
    `| cold tenant, first request p50 / p95 (sequential, ${s4.tenants - 1} tenants) | ${fmt(s4.coldP50, 2)} / ${fmt(s4.coldP95, 2)} ms |`,
    `| same tenant, second request p50 | ${fmt(s4.warmP50, 2)} ms |`,
    `| heap per cached idle tenant (heapUsed after forced GC, ${s4.heapTenants} tenants warmed) | ${fmt(s4.heapPerTenantBytes / 1024, 1)} KB |`,
    `| RSS per cached idle tenant (same window) | ${fmt(s4.rssPerTenantBytes / 1024, 1)} KB |`,
    `| max tenant connections, server view (PROCESSLIST threads in the ${s4.tenants} tenant databases, every 100 ms) | ${s4.maxTenantThreads} |`,
    `| max Threads_connected - before (every 100 ms; also the registry pool, <= ${REGISTRY_POOL_CONNECTIONS}, and threads the server has not torn down yet) | ${s4.maxThreadsDelta} |`,
    `| max gateway connections, client view (its established sockets to MariaDB, registry pool included) | ${s4.maxSockets} |`,
    `| round robin: req/s, p50, p99 | ${fmt(rr.rps, 0)}, ${fmt(rr.p50, 2)} ms, ${fmt(rr.p99, 2)} ms |`,
    `| round robin: SQL/req, prepares/req, errors | ${fmt(rr.sqlPerRequest, 2)}, ${fmt(rr.preparesPerRequest, 2)}, ${errs(rr)} |`,
    `| creating ${s4.tenants} databases + registry rows | ${fmt(s4.createS, 1)} s |`,
    '',
    '### The audit write: CPU or waiting?',
    '',
    "Every PHI read awaits its AuditEvent INSERT (group commit, `FHIRGATE_AUDIT_MAX_IN_FLIGHT` INSERTs at a time). Two numbers tell whether that wait or CPU sets the throughput: the commit time of a bare autocommit INSERT on this server, and how busy each server's event loop was (the table above; near 100 % with 16 requests always queued means CPU-bound, and then req/s is about one core's share over CPU µs per request).",
    '',
    '| bare autocommit INSERT, 1.6 KB row | commits | p50 ms | p90 ms | p99 ms |',
    '|---|---:|---:|---:|---:|',
    `| idle server (innodb_flush_log_at_trx_commit=${r.commits.innodbFlushLogAtTrxCommit}, log_bin=${r.commits.logBin}) | ${r.commits.idle.samples} | ${fmt(r.commits.idle.p50, 2)} | ${fmt(r.commits.idle.p90, 2)} | ${fmt(r.commits.idle.p99, 2)} |`,
    `| while the gateway serves S1 | ${r.commits.underS1Load.samples} | ${fmt(r.commits.underS1Load.p50, 2)} | ${fmt(r.commits.underS1Load.p90, 2)} | ${fmt(r.commits.underS1Load.p99, 2)} |`,
    '',
    '### Targets',
    '',
    '| scenario | target | measured | status |',
    '|---|---|---:|---|',
    ...r.targets.map((t) => `| ${t.scenario} | ${t.target} | ${t.measured} | ${t.status} |`),
    '',
  );
  for (const p of r.profiles) {
    out.push(
      formatComparison(
        `Profile: ${p.scenario} (${SETTINGS.profileS} s under the same load per server)`,
        p.gateway,
        p.baseline,
      ),
    );
  }
  out.push(
    '### Notes',
    '',
    '- SQL/req is the `Com_select` delta over the measured window divided by requests. On MariaDB 10.11 an executed prepared SELECT increments both `Com_stmt_execute` and `Com_select` (checked), so their sum would count every statement twice. The counters are server-wide: other clients of the same server during the run show up as fractions.',
    "- Latencies are taken from autocannon's per-response events (exact, 2xx only), not its 1 ms histogram buckets. RSS is the peak of the server child during the window.",
    "- CPU µs/req is the server process's CPU time (`process.cpuUsage()`, all threads: V8's GC and compiler threads too) over the window divided by its requests; in parentheses the main thread's alone (`/proc/self/task/<pid>/stat`, 10 ms ticks). Loop busy is `performance.eventLoopUtilization()` over the window. Audit INSERT/req is the server-wide `Com_insert` delta per request: one per group-committed batch of audit events.",
    "- The baseline sends the statement text the gateway compiles (recorded from `compileMapping` for the same mapping document), with the same mysql2 options and pool size, and its responses are checked to be identical to the gateway's before measuring.",
    `- S3: the batched baseline runs the two statements the engine writes for the S3 query (captured with \`searchByReference\` on the compiled S3 mapping) and builds the same JSON; ${r.naiveNote}. Mapping and query: bench/fixtures.ts.`,
    `- Load average (1 min) at start / end: ${r.machine['loadStart']} / ${loadavg()[0]?.toFixed(2)} on ${r.machine['cores']} cores. Other processes on the machine take CPU from both servers; the interleaved windows spread that over both, but absolute numbers move with it.`,
    '- S4 has no baseline: a multi-tenant floor would have to re-implement the pool manager, so its gateway/baseline ratios are n/a.',
    `- Total run time ${r.totalS.toFixed(0)} s.`,
  );
  return out.join('\n');
}

try {
  await main();
} catch (err) {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  for (const child of liveChildren()) {
    log(`${child.name} output:\n${child.output().slice(-3000)}`);
  }
  process.exitCode = 1;
} finally {
  await cleanup();
}
