import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DatabaseStats } from '../db/tenant-database.js';
import type { BreakerState } from '../tenancy/breakers.js';
import type { StatementListener } from '../tenancy/tenant-scope.js';

/**
 * What the metrics read at scrape time. Narrow views of the pool manager, the tenant policies and
 * the config resolver, so the unit tests can hand in plain objects.
 */
export interface MetricsSources {
  readonly pools: {
    stats(): {
      readonly pools: number;
      readonly openConnections: number;
      readonly maxTotalConnections: number;
    };
    allTenantStats(): Iterable<{ readonly tenantHash: string; readonly stats: DatabaseStats }>;
  };
  readonly policies: {
    breakerStates(): Iterable<{ readonly tenantHash: string; readonly state: BreakerState }>;
  };
  readonly resolver: {
    stats(): { readonly cacheHits: number; readonly cacheMisses: number };
  };
}

/** One finished GraphQL request, as the metrics plugin reports it. */
export interface RequestRecord {
  /** The tenant hash, or undefined when the request was refused before a tenant was resolved. */
  readonly tenantHash: string | undefined;
  /** {@link operationLabel} or `none`. */
  readonly operation: string;
  /** `ok`, or the `extensions.code` of the first error. */
  readonly outcome: string;
  readonly durationMs: number;
}

/**
 * The gateway's Prometheus metrics, in a registry of their own (never prom-client's global one,
 * so two gateways in one test process do not share counters). Labels are tenant hashes, schema
 * root fields, error codes and fixed words: never a client id, a URL, SQL or a value.
 */
export interface GatewayMetrics {
  recordRequest(record: RequestRecord): void;
  /** Counts and times every tenant statement; pass as the gateway's `onStatement`. */
  readonly onStatement: StatementListener;
  /** Where `fhirgate_audit_backlog` comes from: events accepted and not yet stored. */
  setAuditBacklogSource(source: (() => number) | undefined): void;
  /** Where the heavy-request gauges come from (`heavy-requests.ts`); unset: they read 0. */
  setHeavySource(source: (() => HeavyStats) | undefined): void;
  /** The exposition text of every metric. */
  render(): Promise<string>;
  readonly contentType: string;
}

/** What the heavy-request gauges show: totals over all tenants of this process. */
export interface HeavyStats {
  /** Requests counted as light and not yet ended (a scrape on the gateway's port counts itself). */
  readonly lightInFlight: number;
  /** Heavy requests holding a slot of their tenant's heavy-request bulkhead. */
  readonly running: number;
  /** Heavy requests waiting for a slot. */
  readonly queued: number;
}

/** The `tenant` label of a request that never reached a tenant. */
export const NO_TENANT = 'none';

const TENANT_HASH = /^[0-9a-f]{12}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,39}$/;
const OPERATION = /^(?:none|(?:query|mutation|subscription):[_A-Za-z][_0-9A-Za-z]{0,63})$/;

/** Seconds. Requests: 5 ms to 10 s (the statement budget is 5 s, a request may run several). */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds. Statements: 1 ms to 5 s (the statement budget). */
const STATEMENT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const BREAKER_STATES: readonly BreakerState[] = ['closed', 'half-open', 'open', 'isolated'];

/** Labels are checked here, whatever the caller passes: a bad value collapses to a fixed word. */
export function tenantLabel(hash: string | undefined): string {
  return hash !== undefined && TENANT_HASH.test(hash) ? hash : NO_TENANT;
}

export function outcomeLabel(outcome: string): string {
  return outcome === 'ok' || ERROR_CODE.test(outcome) ? outcome : 'OTHER';
}

export function operationLabelOrNone(operation: string): string {
  return OPERATION.test(operation) ? operation : 'none';
}

export function createGatewayMetrics(
  sources: MetricsSources,
  options: { readonly defaultMetrics?: boolean } = {},
): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    // Process CPU, memory, event-loop lag, GC: no labels of ours.
    collectDefaultMetrics({ register: registry });
  }
  let auditBacklog: (() => number) | undefined;

  const requests = new Counter({
    name: 'fhirgate_requests_total',
    help: 'GraphQL requests by tenant hash, operation (type:root field) and outcome (ok or error code).',
    labelNames: ['tenant', 'operation', 'outcome'] as const,
    registers: [registry],
  });
  const requestSeconds = new Histogram({
    name: 'fhirgate_request_duration_seconds',
    help: 'GraphQL request latency by tenant hash, from the first plugin to the response.',
    labelNames: ['tenant'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  const operationSeconds = new Histogram({
    name: 'fhirgate_operation_duration_seconds',
    help: 'GraphQL request latency by operation (type:root field), all tenants together.',
    labelNames: ['operation'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  const statements = new Counter({
    name: 'fhirgate_sql_statements_total',
    help: 'Statements sent to tenant databases by tenant hash and outcome (ok or the error code).',
    labelNames: ['tenant', 'outcome'] as const,
    registers: [registry],
  });
  const statementSeconds = new Histogram({
    name: 'fhirgate_sql_statement_duration_seconds',
    help: 'Tenant statement latency by tenant hash, bulkhead queueing included.',
    labelNames: ['tenant'] as const,
    buckets: STATEMENT_BUCKETS,
    registers: [registry],
  });

  new Gauge({
    name: 'fhirgate_tenant_pool_connections',
    help: 'Connections of each live tenant pool by state (open = in_use + idle + opening).',
    labelNames: ['tenant', 'state'] as const,
    registers: [registry],
    collect() {
      // Reset first: a pool closed since the last scrape must disappear, not freeze.
      this.reset();
      for (const { tenantHash, stats } of sources.pools.allTenantStats()) {
        const tenant = tenantLabel(tenantHash);
        this.set({ tenant, state: 'open' }, stats.open);
        this.set({ tenant, state: 'in_use' }, stats.inUse);
        this.set({ tenant, state: 'idle' }, stats.idle);
      }
    },
  });
  new Gauge({
    name: 'fhirgate_tenant_pool_queued',
    help: 'Statements waiting for a connection of each live tenant pool.',
    labelNames: ['tenant'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { tenantHash, stats } of sources.pools.allTenantStats()) {
        this.set({ tenant: tenantLabel(tenantHash) }, stats.queued);
      }
    },
  });
  new Gauge({
    name: 'fhirgate_pool_connections',
    help: 'Tenant connections of this process: open, in_use, and max (FHIRGATE_POOL_MAX_CONNECTIONS).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const global = sources.pools.stats();
      let inUse = 0;
      for (const { stats } of sources.pools.allTenantStats()) {
        inUse += stats.inUse;
      }
      this.set({ state: 'open' }, global.openConnections);
      this.set({ state: 'in_use' }, inUse);
      this.set({ state: 'max' }, global.maxTotalConnections);
    },
  });
  new Gauge({
    name: 'fhirgate_pool_queued',
    help: 'Statements waiting for a tenant connection, all tenants together.',
    registers: [registry],
    collect() {
      let queued = 0;
      for (const { stats } of sources.pools.allTenantStats()) {
        queued += stats.queued;
      }
      this.set(queued);
    },
  });
  new Gauge({
    name: 'fhirgate_tenant_pools',
    help: 'Tenant pools alive (at most FHIRGATE_POOL_MAX_TENANTS).',
    registers: [registry],
    collect() {
      this.set(sources.pools.stats().pools);
    },
  });
  new Gauge({
    name: 'fhirgate_tenant_breaker_state',
    help: 'Circuit breaker of each tenant: 1 for its current state, 0 for the others.',
    labelNames: ['tenant', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { tenantHash, state } of sources.policies.breakerStates()) {
        const tenant = tenantLabel(tenantHash);
        for (const s of BREAKER_STATES) {
          this.set({ tenant, state: s }, s === state ? 1 : 0);
        }
      }
    },
  });
  new Counter({
    name: 'fhirgate_config_cache_lookups_total',
    help: 'Tenant config lookups: hit (answered from memory) or miss (waited for the registry).',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      const { cacheHits, cacheMisses } = sources.resolver.stats();
      this.reset();
      this.inc({ result: 'hit' }, cacheHits);
      this.inc({ result: 'miss' }, cacheMisses);
    },
  });
  /** A gauge read from a source set later; a source that throws keeps the last value. */
  const sourcedGauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        try {
          const value = read();
          if (Number.isFinite(value)) {
            this.set(value);
          }
        } catch {
          // A failing source must not fail the scrape; the gauge keeps its last value.
        }
      },
    });
  sourcedGauge(
    'fhirgate_audit_backlog',
    'Audit events accepted and not yet stored (0 without an audit store).',
    () => auditBacklog?.() ?? 0,
  );

  let heavy: (() => HeavyStats) | undefined;
  const heavyGauge = (name: string, help: string, read: (stats: HeavyStats) => number) =>
    sourcedGauge(name, help, () => (heavy === undefined ? 0 : read(heavy())));
  heavyGauge(
    'fhirgate_light_requests_in_flight',
    'Requests counted as light (heavy slices wait while any is in flight), the scrape included when it shares the port.',
    (stats) => stats.lightInFlight,
  );
  heavyGauge(
    'fhirgate_heavy_requests_running',
    'Heavy requests holding a slot of their tenant bulkhead (FHIRGATE_HEAVY_CONCURRENCY per tenant).',
    (stats) => stats.running,
  );
  heavyGauge(
    'fhirgate_heavy_requests_queued',
    'Heavy requests waiting for a slot (FHIRGATE_HEAVY_QUEUE per tenant; past it TENANT_BUSY).',
    (stats) => stats.queued,
  );

  return {
    setHeavySource(source) {
      heavy = source;
    },
    recordRequest(record) {
      const tenant = tenantLabel(record.tenantHash);
      const operation = operationLabelOrNone(record.operation);
      const seconds = record.durationMs / 1000;
      requests.inc({ tenant, operation, outcome: outcomeLabel(record.outcome) });
      requestSeconds.observe({ tenant }, seconds);
      operationSeconds.observe({ operation }, seconds);
    },
    onStatement(event) {
      // The statement's SQL is never looked at: its text is schema-derived, but labels stay fixed.
      const tenant = tenantLabel(event.tenantHash);
      const outcome = event.ok ? 'ok' : outcomeLabel(event.errorCode ?? 'ERROR');
      statements.inc({ tenant, outcome });
      statementSeconds.observe({ tenant }, event.durationMs / 1000);
    },
    setAuditBacklogSource(source) {
      auditBacklog = source;
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
