/**
 * S3: nested reverse references (20 patients, the 10 latest Observations of each, each one's
 * subject) on a gateway serving Patient, Encounter and Observation, against the batched baseline;
 * then the naive variant (`naive-gateway.ts`: no DataLoader batching) measured alone.
 */
import type { parseKeyring } from '../src/tenancy/crypto.js';
import { sealSecret } from '../src/tenancy/crypto.js';
import type { TenantRegistry } from '../src/tenancy/registry.js';
import { type ServerChild, startServer } from './children.js';
import { S3_MAPPING, S3_QUERY } from './fixtures.js';
import { fmt, log, NODE_ARGS, S3_CLIENT } from './options.js';
import { profileIfMissed, type ScenarioProfile } from './profiles.js';
import { type ScenarioRow, type Target, targetCheck } from './report.js';
import { assertSameAnswers, type S3Plan } from './scenarios.js';
import { clean, compare, exactStatements, measureAlone } from './windows.js';

/**
 * Runs S3 and its naive variant when the engine can serve it, adding their rows and targets;
 * returns the report's note on the naive variant.
 */
export async function runS3(run: {
  readonly s3Plan: S3Plan | string;
  readonly registry: TenantRegistry;
  readonly keyring: ReturnType<typeof parseKeyring>;
  readonly tenantUrl: string;
  readonly gatewayEnv: (extra?: Record<string, string>) => Record<string, string>;
  readonly baseline: ServerChild;
  readonly tokenFor: (clientId: string) => Promise<string>;
  readonly rows: ScenarioRow[];
  readonly targets: Target[];
  readonly profiles: ScenarioProfile[];
}): Promise<string> {
  const { s3Plan, registry, keyring, tenantUrl, gatewayEnv, baseline, tokenFor } = run;
  const { rows, targets, profiles } = run;
  const s3Text = JSON.stringify({ query: S3_QUERY });
  const s3Blocked = typeof s3Plan === 'string' ? s3Plan : undefined;
  let s3Gateway: ServerChild | undefined;
  let s3Skip = s3Blocked;
  if (s3Skip === undefined) {
    await registry.upsertTenant({
      clientId: S3_CLIENT,
      displayName: 'Bench hospital (S3 mapping)',
      dbType: 'mysql',
      sealedUrl: sealSecret(keyring, S3_CLIENT, tenantUrl),
      status: 'active',
    });
    await registry.addMapping(S3_CLIENT, JSON.stringify(S3_MAPPING), { activate: true });
    try {
      s3Gateway = await startServer({
        name: 'gateway',
        entry: 'src/main.ts',
        env: gatewayEnv({ FHIRGATE_RESOURCE_TYPES: 'Patient,Encounter,Observation' }),
        nodeArgs: NODE_ARGS,
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
  if (s3Gateway !== undefined) {
    const check = targetCheck(targets);
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
      entry: 'bench/naive-gateway.ts',
      env: gatewayEnv({
        FHIRGATE_RESOURCE_TYPES: 'Patient,Encounter,Observation',
        FHIRGATE_POOL_QUEUE_LIMIT: '10000',
        FHIRGATE_TENANT_QUEUE: '10000',
      }),
      nodeArgs: NODE_ARGS,
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
    return `the naive variant is the same gateway started by bench/naive-gateway.ts (DataLoader batching and caching off: ${naiveStatements} statements for one S3 request against ${s3Statements}), measured alone after the S3 pair`;
  } else {
    rows.push({ scenario: 'S3', skipped: s3Skip ?? 'not run' });
    for (const target of [
      'one SQL statement per level, 3 levels: <= 3 per request (issue: exactly 3)',
      'throughput >= 5x naive',
      'throughput >= 0.8x batched baseline',
    ]) {
      targets.push({ scenario: 'S3', target, measured: 'n/a', status: 'SKIPPED' });
    }
    return 'naive variant not run';
  }
}
