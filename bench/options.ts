/**
 * The benchmark's command-line flags, its settings (quick or full), the names it gives its
 * tenants and where its results go, and its log line.
 */

import { gatewayEnvFromArgs, nodeArgsFromArgs } from './children.js';
import type { SeedSize } from './fixtures.js';
import { FULL_SEED, QUICK_SEED } from './fixtures.js';

export const argv = process.argv.slice(2);
export const QUICK = argv.includes('--quick');
export const PROFILE_ALL = argv.includes('--profile');
/**
 * `--alloc` (with `--profile`): after each gateway CPU profile, a sampling allocation profile of
 * the same load (freed objects included: what the GC has to collect), summarized in the log as
 * bytes per request by allocating function, and written to `profiles/<scenario>-gateway.heapprofile`.
 */
export const ALLOC = argv.includes('--alloc');
/**
 * `--baseline-audit`: the baseline also writes each answer's AuditEvent through the gateway's
 * own audit trail and store (durable before the answer, into the same registry table), so the
 * ratios then compare everything but the audit.
 */
export const BASELINE_AUDIT = argv.includes('--baseline-audit');
/**
 * `--gateway-env=NAME=value` (repeatable): extra environment for every gateway child, to compare
 * a setting in two runs (`--gateway-env=FHIRGATE_AUDIT_MAX_IN_FLIGHT=1`). Only FHIRGATE_ names.
 */
export const GATEWAY_ENV = gatewayEnvFromArgs(argv);
/**
 * `--node-arg=--flag[=value]` (repeatable): a V8 or Node flag for every server child, the
 * baseline's included (`--node-arg=--max-semi-space-size=32`), so both run the same runtime.
 */
export const NODE_ARGS: readonly string[] = ['--expose-gc', ...nodeArgsFromArgs(argv)];

export interface Settings {
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

export const SETTINGS: Settings = QUICK
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

export const S4_MAX_TENANT_POOLS = 200;
export const S4_MAX_CONNECTIONS = 150;
/** The registry's own pool (src/tenancy/registry.ts), outside the tenant connection cap. */
export const REGISTRY_POOL_CONNECTIONS = 4;
export const BENCH_CLIENT = 'bench-hospital';
/** The same database under the S3 mapping (Patient, Encounter, Observation). */
export const S3_CLIENT = 'bench-hospital-s3';
export const RESULTS = new URL('./results/', import.meta.url);

export const startedAt = performance.now();
export const log = (line: string) =>
  process.stderr.write(`[bench ${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${line}\n`);

export function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}
