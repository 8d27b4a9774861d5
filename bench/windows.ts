/**
 * Measurement windows: both servers under the same load in interleaved windows (so load from
 * other processes hits both alike), one server alone, and the exact statement count of a request.
 */
import type { Connection } from 'mysql2/promise';
import type { ServerChild } from './children.js';
import {
  combine,
  type Measurement,
  measureSegment,
  readCounters,
  runLoad,
  type Segment,
} from './load.js';
import { fmt, log, QUICK, SETTINGS } from './options.js';
import { post } from './scenarios.js';

/** The connections and MariaDB port every measurement uses; set once by `main`. */
let measuring: { admin: Connection; sampler: Connection; port: number } | undefined;

/** Sets the connections every window reads the server's counters through. */
export function setMeasuringContext(context: {
  admin: Connection;
  sampler: Connection;
  port: number;
}): void {
  measuring = context;
}

export function measuringContext(): { admin: Connection; sampler: Connection; port: number } {
  if (measuring === undefined) {
    throw new Error('measuring context not set');
  }
  return measuring;
}

/** No transport errors, no non-2xx, no GraphQL errors: otherwise the numbers measure failures. */
export function clean(pair: { gateway: Measurement; baseline: Measurement }): boolean {
  return [pair.gateway, pair.baseline].every((m) => m.errors + m.non2xx + m.graphqlErrors === 0);
}

/** One scenario on both servers: warm-up, then interleaved windows (B G, G B, ...). */
export async function compare(
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
export async function exactStatements(
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
export async function measureAlone(
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
