/**
 * Preloaded into the benchmark's server children (`node --import tsx --import ./bench/child-probe.ts
 * src/main.ts`), so the real production entry runs unchanged while the parent can still ask it,
 * over the IPC channel, for a heap reading after a forced GC (needs `--expose-gc`) and for a CPU
 * profile of exactly a measurement window. The child also ends itself when the parent goes away
 * (Ctrl-C, crash), so no server outlives a run.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import {
  type IntervalHistogram,
  monitorEventLoopDelay,
  PerformanceObserver,
  performance,
} from 'node:perf_hooks';

/** What `bench/run.ts` can ask a child. */
export type ProbeCommand =
  | { readonly type: 'heap' }
  | { readonly type: 'usage' }
  | { readonly type: 'profile-start' }
  | { readonly type: 'profile-stop'; readonly path: string }
  | { readonly type: 'alloc-start' }
  | { readonly type: 'alloc-stop'; readonly path: string }
  | { readonly type: 'loop-delay'; readonly reset: boolean }
  | { readonly type: 'watch'; readonly resolutionMs: number; readonly cpuBlocks: boolean };

/**
 * Garbage-collection pauses: how many, their sum, the longest, how many over 5 ms and the sum of
 * the major ones (mark-compact and its steps), in ms.
 */
export interface GcPauses {
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
  readonly over5Ms: number;
  readonly majorMs: number;
}

/** A {@link ProbeCommand} on the wire. */
export type ProbeRequest = ProbeCommand & { readonly id: number };

/** The answer to a {@link ProbeRequest} with the same id. */
export interface ProbeReply {
  readonly id: number;
  readonly ok: boolean;
  readonly memory?: NodeJS.MemoryUsage;
  /**
   * `usage`: the process's CPU time so far (user + system, µs) and its event loop's busy and
   * idle time so far (ms); the parent takes differences around a measured window.
   */
  readonly usage?: {
    readonly cpuUs: number;
    /** The main thread's share of `cpuUs` (Linux, 10 ms resolution); NaN elsewhere. */
    readonly mainCpuUs: number;
    readonly loopActiveMs: number;
    readonly loopIdleMs: number;
    /** The main thread's GC pauses so far (ms), from V8's `gc` entries. */
    readonly gcPauseMs: number;
    /** The part of `gcPauseMs` in major collections (mark-compact, incremental marking steps). */
    readonly gcMajorPauseMs: number;
  };
  /**
   * `loop-delay`: the event loop's delay since the last reset (ms), from `monitorEventLoopDelay`
   * at the resolution `watch` set (NaN before any `watch`): `max` is the longest the loop was
   * held at once.
   */
  readonly loopDelay?: {
    readonly max: number;
    readonly p99: number;
    readonly p50: number;
    /**
     * The most CPU time the process used between two ticks of a 1 ms timer (ms), while `watch`
     * asked for `cpuBlocks` (else NaN): the longest block in CPU time, which the OS taking the CPU
     * away does not inflate as it does `max` (GC and pool threads running beside the main thread
     * count in it).
     */
    readonly maxCpuBlock: number;
    /** Garbage-collection pauses since the last reset. */
    readonly gc: GcPauses;
  };
  readonly error?: string;
}

// Off until the parent asks (`watch`): measured here, a 1 ms delay monitor costs an idle process
// 2.5 % of a core and the 1 ms CPU sampler 5.4 % (a wakeup and a getrusage call each millisecond),
// which the server under test would pay in every window and the noisy-neighbour bench's B with it.
let loopDelay: IntervalHistogram | undefined;
let cpuSampler: NodeJS.Timeout | undefined;
let lastCpu = process.cpuUsage();
let maxCpuBlockUs = Number.NaN;

// GC pauses (main-thread stops), from V8's own entries: one callback per collection, no timer.
const noPauses = () => ({ count: 0, totalMs: 0, maxMs: 0, over5Ms: 0, majorMs: 0 });
let gc = noPauses();
// Never reset: `usage` readers take differences.
let gcPauseTotalMs = 0;
let gcMajorPauseTotalMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcPauseTotalMs += entry.duration;
    gc.count += 1;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    gc.over5Ms += entry.duration > 5 ? 1 : 0;
    // `detail.kind` 1 is a scavenge; the rest (mark-compact, incremental marking) are major.
    if ((entry as { detail?: { kind?: number } }).detail?.kind !== 1) {
      gcMajorPauseTotalMs += entry.duration;
      gc.majorMs += entry.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

function watch(resolutionMs: number, cpuBlocks: boolean): void {
  loopDelay?.disable();
  loopDelay = monitorEventLoopDelay({ resolution: resolutionMs });
  loopDelay.enable();
  clearInterval(cpuSampler);
  cpuSampler = undefined;
  maxCpuBlockUs = Number.NaN;
  if (cpuBlocks) {
    lastCpu = process.cpuUsage();
    maxCpuBlockUs = 0;
    cpuSampler = setInterval(() => {
      const now = process.cpuUsage();
      const used = now.user + now.system - (lastCpu.user + lastCpu.system);
      maxCpuBlockUs = Math.max(maxCpuBlockUs, used);
      lastCpu = now;
    }, 1).unref();
  }
}

let session: Session | undefined;

/**
 * CPU time of the main thread alone (the JavaScript), from `/proc/self/task/<pid>/stat`: the
 * rest of `process.cpuUsage()` is V8's GC and compiler threads and libuv's pool.
 */
async function mainThreadCpuUs(): Promise<number> {
  try {
    const stat = await readFile(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5) (utime, stime), counted after the command name.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1_000_000) / 100;
  } catch {
    return Number.NaN;
  }
}

async function answer(request: ProbeRequest): Promise<ProbeReply> {
  switch (request.type) {
    case 'heap': {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc === undefined) {
        return { id: request.id, ok: false, error: 'start the child with --expose-gc' };
      }
      // Two passes: the first may only queue finalizers (WeakRefs, FinalizationRegistry).
      gc();
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      return { id: request.id, ok: true, memory: process.memoryUsage() };
    }
    case 'usage': {
      const cpu = process.cpuUsage();
      const loop = performance.eventLoopUtilization();
      return {
        id: request.id,
        ok: true,
        usage: {
          cpuUs: cpu.user + cpu.system,
          mainCpuUs: await mainThreadCpuUs(),
          loopActiveMs: loop.active,
          loopIdleMs: loop.idle,
          gcPauseMs: gcPauseTotalMs,
          gcMajorPauseMs: gcMajorPauseTotalMs,
        },
      };
    }
    case 'profile-start': {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      return { id: request.id, ok: true };
    }
    case 'alloc-start': {
      // Every allocation is sampled, also those a GC already freed: what the GC has to clean up.
      session = new Session();
      session.connect();
      await session.post('HeapProfiler.enable');
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      return { id: request.id, ok: true };
    }
    case 'alloc-stop': {
      if (session === undefined) {
        return { id: request.id, ok: false, error: 'no allocation profile running' };
      }
      const { profile } = await session.post('HeapProfiler.stopSampling');
      session.disconnect();
      session = undefined;
      await writeFile(request.path, JSON.stringify(profile));
      return { id: request.id, ok: true };
    }
    case 'loop-delay': {
      const reading = {
        max: loopDelay === undefined ? Number.NaN : loopDelay.max / 1e6,
        p99: loopDelay === undefined ? Number.NaN : loopDelay.percentile(99) / 1e6,
        p50: loopDelay === undefined ? Number.NaN : loopDelay.percentile(50) / 1e6,
        maxCpuBlock: maxCpuBlockUs / 1000,
        gc,
      };
      if (request.reset) {
        gc = noPauses();
        loopDelay?.reset();
        if (cpuSampler !== undefined) {
          maxCpuBlockUs = 0;
        }
      }
      return { id: request.id, ok: true, loopDelay: reading };
    }
    case 'watch': {
      watch(request.resolutionMs, request.cpuBlocks);
      return { id: request.id, ok: true };
    }
    case 'profile-stop': {
      if (session === undefined) {
        return { id: request.id, ok: false, error: 'no profile running' };
      }
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      session = undefined;
      await writeFile(request.path, JSON.stringify(profile));
      return { id: request.id, ok: true };
    }
  }
}

if (process.send !== undefined) {
  process.on('message', (message: ProbeRequest) => {
    void answer(message)
      .catch((err: unknown): ProbeReply => ({ id: message.id, ok: false, error: String(err) }))
      .then((reply) => process.send?.(reply));
  });
  // The parent is gone: stop the way an operator would, so the server closes its pools.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
