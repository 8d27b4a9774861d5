/**
 * Issue 4: the gateway against the physical floor. `npm run bench` (about 5 min) or
 * `npm run bench -- --quick` (under a minute); flags in `options.ts`. S1 and S2 here, S3 and its
 * naive variant in `s3.ts`, S4 in `s4.ts`; every target is printed as PASS or MISS and written to
 * bench/results/latest.{md,json} (`report.ts`).
 *
 * Everything runs on 127.0.0.1: a MariaDB tenant database seeded through the test helpers, the
 * real `src/main.ts` in a child process in production mode, the baseline (`baseline-server.ts`)
 * in another child, the Keycloak stub and autocannon here. Every database it creates is dropped
 * at the end, on errors and on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import mysql, { type Connection } from 'mysql2/promise';
import { parseKeyring, sealSecret } from '../src/tenancy/crypto.js';
import { parseDatabaseUrl } from '../src/tenancy/database-url.js';
import { createTenantRegistry, type TenantRegistry } from '../src/tenancy/registry.js';
import { resolveMysqlServer } from '../test/helpers/global-setup.js';
import { startKeycloakStub } from '../test/helpers/jwks-server.js';
import { connectionOptions, createTestDatabase } from '../test/helpers/test-database.js';
import { liveChildren, startServer } from './children.js';
import { cleanup, onCleanup } from './cleanup.js';
import { BENCH_MAPPING, S1_QUERY, S2_QUERY, seedTenant, TENANT_DDL } from './fixtures.js';
import { runLoad } from './load.js';
import {
  BASELINE_AUDIT,
  BENCH_CLIENT,
  fmt,
  GATEWAY_ENV,
  log,
  NODE_ARGS,
  QUICK,
  REGISTRY_POOL_CONNECTIONS,
  S4_MAX_CONNECTIONS,
  SETTINGS,
  startedAt,
} from './options.js';
import { profileIfMissed, type ScenarioProfile } from './profiles.js';
import {
  renderReport,
  type ScenarioRow,
  type Target,
  targetCheck,
  writeResults,
} from './report.js';
import { runS3 } from './s3.js';
import { runS4 } from './s4.js';
import { assertSameAnswers, captureS3Statements, captureStatements } from './scenarios.js';
import { machineInfo, timeCommits } from './server-stats.js';
import { clean, compare, setMeasuringContext } from './windows.js';

async function main(): Promise<void> {
  const resolved = await resolveMysqlServer(process.env);
  onCleanup('mysql server', () => resolved.stop());
  const { server } = resolved;
  log(`MariaDB from ${resolved.source} at ${server.host}:${server.port}`);
  const admin: Connection = await mysql.createConnection(connectionOptions(server));
  onCleanup('admin connection', () => admin.end());
  const samplerConn: Connection = await mysql.createConnection(connectionOptions(server));
  onCleanup('sampler connection', () => samplerConn.end());
  setMeasuringContext({ admin, sampler: samplerConn, port: server.port });
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
      nodeArgs: NODE_ARGS,
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
        ...(BASELINE_AUDIT ? { BENCH_AUDIT_URL: registryDb.url } : {}),
      },
      nodeArgs: NODE_ARGS,
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
  const check = targetCheck(targets);
  const s1Body = () =>
    JSON.stringify({
      query: S1_QUERY,
      variables: { id: String(1 + Math.floor(Math.random() * SETTINGS.seed.patients)) },
    });
  const s2Text = JSON.stringify({ query: S2_QUERY });

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
  const naiveNote = await runS3({
    s3Plan,
    registry,
    keyring,
    tenantUrl: tenantDb.url,
    gatewayEnv,
    baseline,
    tokenFor,
    rows,
    targets,
    profiles,
  });
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
  await writeResults(report, {
    machine,
    settings: { ...SETTINGS, quick: QUICK },
    seedSeconds: seedS,
    totalSeconds: totalS,
    scenarios: rows,
    s4,
    targets,
    profiles,
    commits,
  });
  log(`wrote bench/results/latest.md and latest.json (${totalS.toFixed(0)} s in total)`);
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
