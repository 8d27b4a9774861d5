import { describe, expect, it } from 'vitest';
import { createGatewayMetrics } from '../../../src/observability/metrics.js';
import { createReadiness } from '../../../src/observability/readiness.js';
import {
  hasMetricsToken,
  metricsRoute,
  readinessRoute,
} from '../../../src/observability/routes.js';

const metrics = createGatewayMetrics(
  {
    pools: {
      stats: () => ({ pools: 0, openConnections: 0, maxTotalConnections: 1 }),
      allTenantStats: () => [],
    },
    policies: { breakerStates: () => [] },
    resolver: { stats: () => ({ cacheHits: 0, cacheMisses: 0 }) },
  },
  { defaultMetrics: false },
);

const TOKEN = 'scrape-token-0123456789';

describe('metrics route', () => {
  it('serves the exposition format without a token when none is configured', async () => {
    const res = await metricsRoute(metrics, {}).handle(new Request('http://x/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('# TYPE fhirgate_requests_total counter');
  });

  it('with a token, answers 401 and no metric unless the scrape sends it', async () => {
    const route = metricsRoute(metrics, { token: TOKEN });
    for (const authorization of [
      undefined,
      'Bearer wrong',
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN}x`,
      `Bearer  ${TOKEN}`,
    ]) {
      const res = await route.handle(
        new Request('http://x/metrics', {
          headers: authorization === undefined ? {} : { authorization },
        }),
      );
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(await res.text()).not.toContain('fhirgate_');
    }
    const ok = await route.handle(
      new Request('http://x/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('fhirgate_requests_total');
  });

  it('compares tokens of any length without throwing', () => {
    expect(hasMetricsToken(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(hasMetricsToken('Bearer x', TOKEN)).toBe(false);
    expect(hasMetricsToken(null, TOKEN)).toBe(false);
  });
});

describe('readiness route', () => {
  it('answers 200 ready, then 503 with a fixed reason once shutdown began', async () => {
    const readiness = createReadiness({ ping: async () => {}, timeoutMs: 100 });
    const route = readinessRoute(readiness);
    const ready = await route.handle(new Request('http://x/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    readiness.markShuttingDown();
    const stopping = await route.handle(new Request('http://x/readyz'));
    expect(stopping.status).toBe(503);
    expect(stopping.headers.get('content-type')).toBe('application/json');
    expect(await stopping.json()).toEqual({ status: 'not-ready', reason: 'shutting-down' });
  });

  it('answers 503 registry-unavailable when the registry ping fails', async () => {
    const route = readinessRoute(
      createReadiness({ ping: () => Promise.reject(new Error('down')), timeoutMs: 100 }),
    );
    const res = await route.handle(new Request('http://x/readyz'));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not-ready', reason: 'registry-unavailable' });
  });
});
