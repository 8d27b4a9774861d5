/**
 * One measurement: autocannon at fixed concurrency and duration against a server child, with the
 * MariaDB statement counters read around it and the server's RSS, its sockets to MariaDB and the
 * server's `Threads_connected` sampled every 100 ms while it runs.
 */
import autocannon from 'autocannon';
import type { Connection } from 'mysql2/promise';
import { processSocketsTo, type ServerChild } from './children.js';
import { databaseCpuUs } from './database-cpu.js';

/** Server-wide counters read around a measurement. */
const COUNTERS = [
  'Com_select',
  'Com_insert',
  'Com_stmt_execute',
  'Com_stmt_prepare',
  'Threads_connected',
];

export type Counters = Record<string, number>;

export async function readCounters(conn: Connection): Promise<Counters> {
  const [rows] = await conn.query(
    `SHOW GLOBAL STATUS WHERE Variable_name IN (${COUNTERS.map(() => '?').join(', ')})`,
    COUNTERS,
  );
  return Object.fromEntries(
    (rows as Array<{ Variable_name: string; Value: string }>).map((r) => [
      r.Variable_name,
      Number(r.Value),
    ]),
  );
}

/** Samples taken every 100 ms while something runs. */
export interface Sampler {
  /** Largest `Threads_connected` minus the count before the sampler started. */
  readonly maxThreadsDelta: number;
  /** Largest number of the child's established sockets to MariaDB. */
  readonly maxSockets: number;
  /**
   * Largest number of server threads whose current database starts with `dbPrefix` (the tenant
   * databases: the registry's own pool, and the bench's connections, are not in it); 0 without one.
   */
  readonly maxTenantThreads: number;
  readonly maxRss: number;
  readonly samples: number;
  stop(): Promise<void>;
}

export async function startSampler(
  conn: Connection,
  child: ServerChild,
  mysqlPort: number,
  /** `Threads_connected` before the child existed. @default the value now */
  threadsBefore?: number,
  /** Counts the server's threads in databases named with this prefix too. */
  dbPrefix?: string,
): Promise<Sampler> {
  const before = threadsBefore ?? (await readCounters(conn))['Threads_connected'] ?? 0;
  let maxThreadsDelta = 0;
  let maxSockets = 0;
  let maxTenantThreads = 0;
  let maxRss = 0;
  let samples = 0;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    const [[rows], sockets, rss] = await Promise.all([
      conn.query("SHOW GLOBAL STATUS LIKE 'Threads_connected'"),
      processSocketsTo(child.pid, mysqlPort),
      child.rss(),
    ]);
    if (dbPrefix !== undefined) {
      const [tenantRows] = await conn.query(
        'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE LEFT(DB, ?) = ?',
        [dbPrefix.length, dbPrefix],
      );
      maxTenantThreads = Math.max(
        maxTenantThreads,
        Number((tenantRows as Array<{ n: number }>)[0]?.n ?? 0),
      );
    }
    const value = Number((rows as Array<{ Value: string }>)[0]?.Value ?? 0);
    maxThreadsDelta = Math.max(maxThreadsDelta, value - before);
    maxSockets = Math.max(maxSockets, sockets);
    maxRss = Math.max(maxRss, rss);
    samples++;
  };
  const timer = setInterval(() => {
    // A slow sample is skipped rather than queued, so samples never pile up.
    running = running.then(tick).catch(() => {});
  }, 100);
  return {
    get maxThreadsDelta() {
      return maxThreadsDelta;
    },
    get maxSockets() {
      return maxSockets;
    },
    get maxTenantThreads() {
      return maxTenantThreads;
    },
    get maxRss() {
      return maxRss;
    },
    get samples() {
      return samples;
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** What one autocannon run gives. Latencies are exact (ms, fractional), not autocannon's 1 ms buckets. */
export interface LoadResult {
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly non2xx: number;
  /** 2xx responses whose body has an `errors` member or lacks `data`. */
  readonly graphqlErrors: number;
  /** Status and start of the first failed response, to say what went wrong. */
  readonly firstError?: string;
}

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  /** Body of the next request; called once per request. */
  readonly body: () => string;
  /** Authorization header of the next request; called once per request. */
  readonly token: () => string;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function runLoad(
  options: LoadOptions,
): Promise<LoadResult & { readonly latencies: readonly number[] }> {
  const latencies: number[] = [];
  let graphqlErrors = 0;
  let firstError: string | undefined;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationS,
        requests: [
          {
            method: 'POST',
            setupRequest: (request) => ({
              ...request,
              headers: {
                'content-type': 'application/json',
                accept: 'application/json',
                authorization: `Bearer ${options.token()}`,
              },
              body: options.body(),
            }),
            onResponse: (status, body) => {
              const failed =
                status !== 200 || body.includes('"errors"') || !body.startsWith('{"data"');
              if (status === 200 && failed) {
                graphqlErrors++;
              }
              if (failed && firstError === undefined) {
                firstError = `${status} ${body.slice(0, 200)}`;
              }
            },
          },
        ],
      },
      (err, result) => {
        if (err) {
          reject(err);
          return;
        }
        latencies.sort((a, b) => a - b);
        resolve({
          requests: latencies.length,
          durationS: result.duration,
          rps: latencies.length / result.duration,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          errors: result.errors,
          non2xx: result.non2xx,
          graphqlErrors,
          latencies,
          ...(firstError === undefined ? {} : { firstError }),
        });
      },
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status >= 200 && status < 300) {
        latencies.push(responseTime);
      }
    });
  });
}

/** A measured scenario run against one server: load, statements, memory, connections. */
export interface Measurement extends LoadResult {
  readonly server: string;
  /** Measured windows combined into this one (interleaved with the other server's). */
  readonly segments: number;
  /** `Com_select` delta per request: every SELECT, prepared or not, counted once. */
  readonly sqlPerRequest: number;
  /**
   * `Com_insert` delta per request: the gateway's audit INSERTs (one per batch of events, so
   * below 1 when requests share them); 0 for the baseline unless `--baseline-audit`.
   */
  readonly insertsPerRequest: number;
  /** `Com_stmt_execute` delta per request (prepared executions only). */
  readonly executesPerRequest: number;
  /** `Com_stmt_prepare` delta per request (statement-cache misses). */
  readonly preparesPerRequest: number;
  readonly maxRssBytes: number;
  readonly maxThreadsDelta: number;
  readonly maxSockets: number;
  /** The server process's CPU time (user + system, all its threads) per request, µs. */
  readonly cpuUsPerRequest: number;
  /** The main thread's part of it (the JavaScript; the rest is GC, JIT and libuv threads). */
  readonly mainCpuUsPerRequest: number;
  /**
   * MariaDB's CPU time per request in the same windows (`database-cpu.ts`): the statements and,
   * for the gateway, the audit INSERTs. Server-wide, so other clients of it add to it.
   */
  readonly databaseCpuUsPerRequest: number;
  /** The server's main-thread GC pauses per request (V8's `gc` entries), µs. */
  readonly gcPauseUsPerRequest: number;
  /** The part of it in major collections. */
  readonly gcMajorPauseUsPerRequest: number;
  /**
   * Share of the window the server's event loop was busy (0..1). Well below 1 with requests
   * always waiting at the door means the server is waiting (database, audit commit), not
   * computing.
   */
  readonly loopUtilization: number;
}

/** One measured window against one server. */
export interface Segment {
  readonly load: LoadResult & { readonly latencies: readonly number[] };
  readonly counters: Counters;
  readonly maxRssBytes: number;
  readonly maxThreadsDelta: number;
  readonly maxSockets: number;
  /** CPU µs, event-loop busy and idle ms of the server over the window (NaN without a probe). */
  readonly usage: {
    readonly cpuUs: number;
    readonly mainCpuUs: number;
    readonly loopActiveMs: number;
    readonly loopIdleMs: number;
    readonly gcPauseMs: number;
    readonly gcMajorPauseMs: number;
  };
  /** MariaDB's CPU µs over the window (NaN where `/proc` does not show it). */
  readonly databaseCpuUs: number;
}

const NO_USAGE = {
  cpuUs: Number.NaN,
  mainCpuUs: Number.NaN,
  loopActiveMs: Number.NaN,
  loopIdleMs: Number.NaN,
  gcPauseMs: Number.NaN,
  gcMajorPauseMs: Number.NaN,
};

async function usageOf(child: ServerChild): Promise<Segment['usage']> {
  try {
    const reply = await child.probe({ type: 'usage' });
    return reply.usage ?? NO_USAGE;
  } catch {
    return NO_USAGE;
  }
}

/** Measures `durationS` seconds with the counters and samplers around it. */
export async function measureSegment(
  admin: Connection,
  samplerConn: Connection,
  child: ServerChild,
  mysqlPort: number,
  load: Omit<LoadOptions, 'url'>,
): Promise<Segment> {
  const sampler = await startSampler(samplerConn, child, mysqlPort);
  const before = await readCounters(admin);
  const usageBefore = await usageOf(child);
  const dbCpuBefore = databaseCpuUs();
  const result = await runLoad({ ...load, url: `${child.baseUrl}/graphql` });
  const dbCpuAfter = databaseCpuUs();
  const usageAfter = await usageOf(child);
  const after = await readCounters(admin);
  await sampler.stop();
  const counters: Counters = {};
  for (const name of Object.keys(after)) {
    counters[name] = (after[name] ?? 0) - (before[name] ?? 0);
  }
  return {
    load: result,
    counters,
    maxRssBytes: Math.max(sampler.maxRss, await child.rss()),
    maxThreadsDelta: sampler.maxThreadsDelta,
    maxSockets: sampler.maxSockets,
    usage: {
      cpuUs: usageAfter.cpuUs - usageBefore.cpuUs,
      mainCpuUs: usageAfter.mainCpuUs - usageBefore.mainCpuUs,
      loopActiveMs: usageAfter.loopActiveMs - usageBefore.loopActiveMs,
      loopIdleMs: usageAfter.loopIdleMs - usageBefore.loopIdleMs,
      gcPauseMs: usageAfter.gcPauseMs - usageBefore.gcPauseMs,
      gcMajorPauseMs: usageAfter.gcMajorPauseMs - usageBefore.gcMajorPauseMs,
    },
    databaseCpuUs: dbCpuAfter - dbCpuBefore,
  };
}

/** Several windows of one server as one measurement: summed requests and time, merged latencies. */
export function combine(server: string, segments: readonly Segment[]): Measurement {
  const latencies = segments.flatMap((s) => s.load.latencies).sort((a, b) => a - b);
  const durationS = segments.reduce((n, s) => n + s.load.durationS, 0);
  const sum = (f: (s: Segment) => number) => segments.reduce((n, s) => n + f(s), 0);
  const max = (f: (s: Segment) => number) => Math.max(0, ...segments.map(f));
  const requests = latencies.length;
  const per = (name: string) => sum((s) => s.counters[name] ?? 0) / Math.max(1, requests);
  return {
    server,
    segments: segments.length,
    requests,
    durationS,
    rps: requests / durationS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors: sum((s) => s.load.errors),
    non2xx: sum((s) => s.load.non2xx),
    graphqlErrors: sum((s) => s.load.graphqlErrors),
    ...(segments.find((s) => s.load.firstError !== undefined)?.load.firstError === undefined
      ? {}
      : { firstError: segments.find((s) => s.load.firstError !== undefined)?.load.firstError }),
    sqlPerRequest: per('Com_select'),
    insertsPerRequest: per('Com_insert'),
    executesPerRequest: per('Com_stmt_execute'),
    preparesPerRequest: per('Com_stmt_prepare'),
    maxRssBytes: max((s) => s.maxRssBytes),
    maxThreadsDelta: max((s) => s.maxThreadsDelta),
    maxSockets: max((s) => s.maxSockets),
    cpuUsPerRequest: sum((s) => s.usage.cpuUs) / Math.max(1, requests),
    mainCpuUsPerRequest: sum((s) => s.usage.mainCpuUs) / Math.max(1, requests),
    databaseCpuUsPerRequest: sum((s) => s.databaseCpuUs) / Math.max(1, requests),
    gcPauseUsPerRequest: (1000 * sum((s) => s.usage.gcPauseMs)) / Math.max(1, requests),
    gcMajorPauseUsPerRequest: (1000 * sum((s) => s.usage.gcMajorPauseMs)) / Math.max(1, requests),
    loopUtilization:
      sum((s) => s.usage.loopActiveMs) / sum((s) => s.usage.loopActiveMs + s.usage.loopIdleMs),
  };
}
