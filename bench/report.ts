/**
 * The run's report: the markdown of `bench/results/latest.md` (scenarios, S4, the audit commit,
 * targets, profiles, notes) and the writing of `latest.md` and `latest.json`.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import type { Measurement } from './load.js';
import {
  fmt,
  mib,
  QUICK,
  REGISTRY_POOL_CONNECTIONS,
  RESULTS,
  S4_MAX_CONNECTIONS,
  S4_MAX_TENANT_POOLS,
  SETTINGS,
} from './options.js';
import { formatComparison } from './profile-summary.js';
import type { ScenarioProfile } from './profiles.js';
import type { S4Result } from './s4.js';
import type { CommitTimes } from './server-stats.js';

export interface ScenarioRow {
  readonly scenario: string;
  readonly gateway?: Measurement;
  readonly baseline?: Measurement;
  readonly skipped?: string;
}

export interface Target {
  readonly scenario: string;
  readonly target: string;
  readonly measured: string;
  readonly status: 'PASS' | 'MISS' | 'SKIPPED';
}

export function renderReport(r: {
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
    `| ${scenario} | ${x.server} | ${fmt(x.rps, 0)} | ${fmt(x.p50, 2)} | ${fmt(x.p99, 2)} | ${fmt(x.cpuUsPerRequest, 0)} (${fmt(x.mainCpuUsPerRequest, 0)}) | ${fmt(x.gcPauseUsPerRequest, 0)} (${fmt(x.gcMajorPauseUsPerRequest, 0)}) | ${fmt(x.loopUtilization * 100, 0)} % | ${fmt(x.databaseCpuUsPerRequest, 0)} | ${fmt(x.sqlPerRequest, 2)} | ${fmt(x.insertsPerRequest, 2)} | ${fmt(x.preparesPerRequest, 3)} | ${mib(x.maxRssBytes)} | ${errs(x)} | ${ratio} | ${p99Ratio} |`;
  const out: string[] = [
    `# fhirgate benchmark (${m['mode']})`,
    '',
    `${m['date']} · ${m['cpu']} · ${m['cores']} cores · ${m['memoryGiB']} GiB · Node ${m['node']} · MariaDB ${m['mariadb']} · commit ${m['commit']}${m['baseline'] === 'no audit' ? '' : ` · baseline ${m['baseline']}`}`,
    '',
    `Tenant data: ${seed.patients} patients, ${seed.encounters} encounters, ${seed.observations} observations${QUICK ? ' (quick mode seeds a fifth of the 10,000 / 30,000 / 200,000 rows of a full run)' : ''}, seeded in ${r.seedS.toFixed(1)} s. ` +
      `Load: autocannon, ${SETTINGS.connections} connections, ${SETTINGS.warmupS} s warm-up, then ${SETTINGS.rounds} interleaved windows of ${SETTINGS.segmentS} s per server (${SETTINGS.durationS} s measured each); both servers are child processes in production mode (NODE_ENV=production, LOG_LEVEL=warn) with real RS256 verification against the same local JWKS.`,
    '',
    '| scenario | server | req/s | p50 ms | p99 ms | CPU µs/req (main thread) | GC pause µs/req (major) | loop busy | MariaDB CPU µs/req | SQL/req | audit INSERT/req | prepares/req | RSS MiB | errors | gateway/baseline req/s | gateway/baseline p99 |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of r.rows) {
    if (row.skipped === undefined && row.gateway !== undefined && row.baseline === undefined) {
      // A server measured alone (the naive variant): no baseline of its own.
      out.push(line(row.scenario, row.gateway, 'n/a', 'n/a'));
      continue;
    }
    if (row.skipped !== undefined || row.gateway === undefined || row.baseline === undefined) {
      out.push(
        `| ${row.scenario} | SKIPPED: ${row.skipped ?? 'not run'} | | | | | | | | | | | | | |`,
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

/** Adds a ratio or a time to `targets`, PASS when `ok`. */
export function targetCheck(
  targets: Target[],
): (scenario: string, target: string, measured: number, ok: boolean, unit?: string) => void {
  return (scenario, target, measured, ok, unit = 'x') => {
    targets.push({
      scenario,
      target,
      measured: `${fmt(measured, 2)}${unit}`,
      status: ok ? 'PASS' : 'MISS',
    });
  };
}

/** Writes `latest.md` and `latest.json` through temporary files, so a reader never sees half. */
export async function writeResults(report: string, json: unknown): Promise<void> {
  await mkdir(RESULTS, { recursive: true });
  for (const [name, text] of [
    ['latest.md', `${report}\n`],
    ['latest.json', `${JSON.stringify(json, null, 2)}\n`],
  ] as const) {
    const tmp = new URL(`${name}.tmp`, RESULTS);
    await writeFile(tmp, text);
    await rename(tmp, new URL(name, RESULTS));
  }
}
