import { describe, expect, it } from 'vitest';
import type { DatabaseStats } from '../../../src/db/tenant-database.js';
import { createGatewayMetrics, type MetricsSources } from '../../../src/observability/metrics.js';
import type { BreakerState } from '../../../src/tenancy/breakers.js';

/** The value of one sample of the exposition text, matched on name and exact labels. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) {
      continue;
    }
    const got: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) {
      got[pair[1] as string] = pair[2] as string;
    }
    if (
      JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(labels).sort())
    ) {
      return Number(m[3]);
    }
  }
  return undefined;
}

const A = 'aaaaaaaaaaaa';
const B = 'bbbbbbbbbbbb';

function stats(partial: Partial<DatabaseStats>): DatabaseStats {
  return { open: 0, inUse: 0, idle: 0, queued: 0, inFlight: 0, ...partial };
}

function sources() {
  const state = {
    tenants: [
      { tenantHash: A, stats: stats({ open: 3, inUse: 2, idle: 1, queued: 4 }) },
      { tenantHash: B, stats: stats({ open: 1, idle: 1 }) },
    ],
    breakers: [
      { tenantHash: A, state: 'open' as BreakerState },
      { tenantHash: B, state: 'closed' as BreakerState },
    ],
    cacheHits: 10,
    cacheMisses: 2,
  };
  const src: MetricsSources = {
    pools: {
      stats: () => ({ pools: state.tenants.length, openConnections: 4, maxTotalConnections: 150 }),
      allTenantStats: () => state.tenants,
    },
    policies: { breakerStates: () => state.breakers },
    resolver: { stats: () => ({ cacheHits: state.cacheHits, cacheMisses: state.cacheMisses }) },
  };
  return { state, src };
}

describe('createGatewayMetrics', () => {
  it('counts and times requests by tenant hash, operation and outcome', async () => {
    const metrics = createGatewayMetrics(sources().src, { defaultMetrics: false });
    metrics.recordRequest({
      tenantHash: A,
      operation: 'query:Patient',
      outcome: 'ok',
      durationMs: 30,
    });
    metrics.recordRequest({
      tenantHash: A,
      operation: 'query:Patient',
      outcome: 'ok',
      durationMs: 700,
    });
    metrics.recordRequest({
      tenantHash: undefined,
      operation: 'none',
      outcome: 'UNAUTHENTICATED',
      durationMs: 1,
    });
    const text = await metrics.render();
    expect(
      sample(text, 'fhirgate_requests_total', {
        tenant: A,
        operation: 'query:Patient',
        outcome: 'ok',
      }),
    ).toBe(2);
    expect(
      sample(text, 'fhirgate_requests_total', {
        tenant: 'none',
        operation: 'none',
        outcome: 'UNAUTHENTICATED',
      }),
    ).toBe(1);
    expect(sample(text, 'fhirgate_request_duration_seconds_count', { tenant: A })).toBe(2);
    expect(
      sample(text, 'fhirgate_request_duration_seconds_bucket', { tenant: A, le: '0.05' }),
    ).toBe(1);
    expect(sample(text, 'fhirgate_request_duration_seconds_bucket', { tenant: A, le: '1' })).toBe(
      2,
    );
    expect(sample(text, 'fhirgate_request_duration_seconds_sum', { tenant: A })).toBeCloseTo(
      0.73,
      5,
    );
    expect(
      sample(text, 'fhirgate_operation_duration_seconds_count', { operation: 'query:Patient' }),
    ).toBe(2);
  });

  it('collapses label values that are not hashes, root fields or codes', async () => {
    const metrics = createGatewayMetrics(sources().src, { defaultMetrics: false });
    metrics.recordRequest({
      tenantHash: 'hospital-a',
      operation: 'query Soto Juan',
      outcome: 'error: patient SOTO not found',
      durationMs: 5,
    });
    const text = await metrics.render();
    expect(
      sample(text, 'fhirgate_requests_total', {
        tenant: 'none',
        operation: 'none',
        outcome: 'OTHER',
      }),
    ).toBe(1);
    expect(text).not.toContain('hospital-a');
    expect(text).not.toContain('SOTO');
  });

  it('counts tenant statements by outcome and times them, never looking at the SQL', async () => {
    const metrics = createGatewayMetrics(sources().src, { defaultMetrics: false });
    const sql = "SELECT * FROM pacientes WHERE ap_pat_pac = 'SOTO'";
    metrics.onStatement({ tenantHash: A, sql, durationMs: 2, ok: true });
    metrics.onStatement({
      tenantHash: A,
      sql,
      durationMs: 3000,
      ok: false,
      errorCode: 'UPSTREAM_TIMEOUT',
    });
    metrics.onStatement({ tenantHash: B, sql, durationMs: 1, ok: false });
    const text = await metrics.render();
    expect(sample(text, 'fhirgate_sql_statements_total', { tenant: A, outcome: 'ok' })).toBe(1);
    expect(
      sample(text, 'fhirgate_sql_statements_total', { tenant: A, outcome: 'UPSTREAM_TIMEOUT' }),
    ).toBe(1);
    expect(sample(text, 'fhirgate_sql_statements_total', { tenant: B, outcome: 'ERROR' })).toBe(1);
    expect(sample(text, 'fhirgate_sql_statement_duration_seconds_count', { tenant: A })).toBe(2);
    expect(
      sample(text, 'fhirgate_sql_statement_duration_seconds_bucket', { tenant: A, le: '0.0025' }),
    ).toBe(1);
    expect(text).not.toContain('pacientes');
  });

  it('reads pool, breaker and config-cache state at scrape time, dropping closed pools', async () => {
    const { state, src } = sources();
    const metrics = createGatewayMetrics(src, { defaultMetrics: false });
    let text = await metrics.render();
    expect(sample(text, 'fhirgate_tenant_pool_connections', { tenant: A, state: 'open' })).toBe(3);
    expect(sample(text, 'fhirgate_tenant_pool_connections', { tenant: A, state: 'in_use' })).toBe(
      2,
    );
    expect(sample(text, 'fhirgate_tenant_pool_connections', { tenant: A, state: 'idle' })).toBe(1);
    expect(sample(text, 'fhirgate_tenant_pool_queued', { tenant: A })).toBe(4);
    expect(sample(text, 'fhirgate_pool_connections', { state: 'open' })).toBe(4);
    expect(sample(text, 'fhirgate_pool_connections', { state: 'in_use' })).toBe(2);
    expect(sample(text, 'fhirgate_pool_connections', { state: 'max' })).toBe(150);
    expect(sample(text, 'fhirgate_pool_queued')).toBe(4);
    expect(sample(text, 'fhirgate_tenant_pools')).toBe(2);
    expect(sample(text, 'fhirgate_tenant_breaker_state', { tenant: A, state: 'open' })).toBe(1);
    expect(sample(text, 'fhirgate_tenant_breaker_state', { tenant: A, state: 'closed' })).toBe(0);
    expect(sample(text, 'fhirgate_tenant_breaker_state', { tenant: B, state: 'closed' })).toBe(1);
    expect(sample(text, 'fhirgate_config_cache_lookups_total', { result: 'hit' })).toBe(10);
    expect(sample(text, 'fhirgate_config_cache_lookups_total', { result: 'miss' })).toBe(2);

    state.tenants = state.tenants.slice(1);
    state.cacheHits = 15;
    text = await metrics.render();
    expect(
      sample(text, 'fhirgate_tenant_pool_connections', { tenant: A, state: 'open' }),
    ).toBeUndefined();
    expect(sample(text, 'fhirgate_tenant_pools')).toBe(1);
    expect(sample(text, 'fhirgate_config_cache_lookups_total', { result: 'hit' })).toBe(15);
  });

  it('reports the audit backlog from its source, and survives a failing source', async () => {
    const metrics = createGatewayMetrics(sources().src, { defaultMetrics: false });
    expect(sample(await metrics.render(), 'fhirgate_audit_backlog')).toBe(0);
    metrics.setAuditBacklogSource(() => 42);
    expect(sample(await metrics.render(), 'fhirgate_audit_backlog')).toBe(42);
    metrics.setAuditBacklogSource(() => {
      throw new Error('store gone');
    });
    expect(sample(await metrics.render(), 'fhirgate_audit_backlog')).toBe(42);
  });

  it('keeps two instances apart (no global registry) and adds process metrics by default', async () => {
    const one = createGatewayMetrics(sources().src);
    const two = createGatewayMetrics(sources().src);
    one.recordRequest({ tenantHash: A, operation: 'query:Patient', outcome: 'ok', durationMs: 1 });
    expect(
      sample(await two.render(), 'fhirgate_requests_total', {
        tenant: A,
        operation: 'query:Patient',
        outcome: 'ok',
      }),
    ).toBeUndefined();
    expect(await one.render()).toContain('process_cpu_user_seconds_total');
    expect(one.contentType).toContain('text/plain');
  });

  it('reads the heavy-request gauges from their source, 0 without one', async () => {
    const metrics = createGatewayMetrics(sources().src, { defaultMetrics: false });
    expect(await metrics.render()).toMatch(/^fhirgate_heavy_requests_running 0$/m);
    metrics.setHeavySource(() => ({ lightInFlight: 3, running: 2, queued: 1 }));
    const text = await metrics.render();
    expect(text).toMatch(/^fhirgate_light_requests_in_flight 3$/m);
    expect(text).toMatch(/^fhirgate_heavy_requests_running 2$/m);
    expect(text).toMatch(/^fhirgate_heavy_requests_queued 1$/m);
  });
});
