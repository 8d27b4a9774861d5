import { createHash, timingSafeEqual } from 'node:crypto';
import type { Route } from '../gateway.js';
import type { GatewayMetrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export const METRICS_PATH = '/metrics';
export const READINESS_PATH = '/readyz';

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Whether `authorization` carries `Bearer <token>`. Both sides are hashed first, so the comparison
 * is constant-time whatever the lengths.
 */
export function hasMetricsToken(authorization: string | null, token: string): boolean {
  const match = /^Bearer ([^\s]+)$/.exec(authorization ?? '');
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), digest(token));
}

/**
 * `GET /metrics` in the Prometheus text format. With `token` set, a scrape must send
 * `Authorization: Bearer <token>`; anything else gets 401 and no metric.
 */
export function metricsRoute(metrics: GatewayMetrics, options: { readonly token?: string }): Route {
  return {
    method: 'GET',
    path: METRICS_PATH,
    async handle(request) {
      if (
        options.token !== undefined &&
        !hasMetricsToken(request.headers.get('authorization'), options.token)
      ) {
        return new Response(JSON.stringify({ status: 'unauthorized' }), {
          status: 401,
          headers: { ...JSON_HEADERS, 'www-authenticate': 'Bearer realm="fhirgate-metrics"' },
        });
      }
      return new Response(await metrics.render(), {
        headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' },
      });
    },
  };
}

/**
 * `GET /readyz`: 200 `{"status":"ready"}`, or 503 `{"status":"not-ready","reason":...}` when the
 * registry does not answer or shutdown has begun. The reason is a fixed word, never an error.
 */
export function readinessRoute(readiness: Readiness): Route {
  return {
    method: 'GET',
    path: READINESS_PATH,
    async handle() {
      const result = await readiness.check();
      if (result.ready) {
        return new Response(JSON.stringify({ status: 'ready' }), { headers: JSON_HEADERS });
      }
      return new Response(JSON.stringify({ status: 'not-ready', reason: result.reason }), {
        status: 503,
        headers: { ...JSON_HEADERS, 'retry-after': '1' },
      });
    },
  };
}
