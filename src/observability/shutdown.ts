import type { Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Readiness } from './readiness.js';

export interface ShutdownOptions {
  /** The gateway's HTTP server. Its requests are tracked from the moment this is created. */
  readonly server: Server;
  readonly log: Logger;
  /**
   * Between the signal and closing the listener, `/readyz` answers 503 while requests are still
   * served, so a load balancer can stop routing here before connections are refused. @default 0
   */
  readonly delayMs?: number;
  /** Once the listener is closed, in-flight requests get this long before connections are cut. */
  readonly deadlineMs: number;
  /** Budget of each cleanup step once HTTP is drained. @default 5000 */
  readonly stepTimeoutMs?: number;
  /** Marked shutting down first, so `/readyz` answers 503 from the first moment. */
  readonly readiness?: Readiness;
}

export interface Shutdown {
  /** The audit store's flush: the first step after HTTP drains, before any pool closes. */
  setAuditFlush(flush: (() => Promise<void>) | undefined): void;
  /** A cleanup step; steps run in the order they were added, after the audit flush. */
  addStep(name: string, run: () => Promise<void>): void;
  /**
   * Runs the shutdown once (later calls get the same promise) and resolves with the exit code:
   * 0 when every request finished and every step succeeded, 1 otherwise.
   */
  run(signal: string): Promise<number>;
  readonly started: boolean;
  /** Requests whose response has not finished. */
  readonly inFlight: number;
}

const STEP_TIMEOUT_MS = 5000;

function withTimeout(work: Promise<void>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.then(() => 'done' as const),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Graceful shutdown of one process, in this order:
 *
 * 1. readiness answers 503 (`shutting-down`); for `delayMs` requests are still accepted;
 * 2. the listening socket closes, so new connections are refused; idle keep-alive connections
 *    close at once, and every response still to be written carries `Connection: close`, so a
 *    keep-alive client does not send its next request here;
 * 3. in-flight requests get `deadlineMs` to finish; past it their connections are destroyed and
 *    the exit code becomes 1;
 * 4. the audit store is flushed, then the steps run in order (tenant pools, then the registry),
 *    each within `stepTimeoutMs`.
 */
export function createShutdown(options: ShutdownOptions): Shutdown {
  const { server, log } = options;
  const stepTimeoutMs = options.stepTimeoutMs ?? STEP_TIMEOUT_MS;
  const active = new Set<ServerResponse>();
  const steps: Array<{ readonly name: string; readonly run: () => Promise<void> }> = [];
  let auditFlush: (() => Promise<void>) | undefined;
  let running: Promise<number> | undefined;
  let draining = false;

  server.on('request', (_req, res: ServerResponse) => {
    active.add(res);
    if (draining) {
      // A request on a connection accepted before the close: served, then the connection ends.
      res.setHeader('connection', 'close');
    }
    res.once('close', () => {
      active.delete(res);
      if (draining) {
        // The connection may now be idle: without this it would hold `server.close` open.
        setImmediate(() => server.closeIdleConnections());
      }
    });
  });

  async function drainHttp(): Promise<boolean> {
    draining = true;
    for (const res of active) {
      if (!res.headersSent) {
        res.setHeader('connection', 'close');
      }
    }
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const outcome = await withTimeout(closed, options.deadlineMs);
    if (outcome === 'done') {
      return true;
    }
    log.warn(
      { inFlight: active.size, deadlineMs: options.deadlineMs },
      'shutdown deadline reached',
    );
    server.closeAllConnections();
    await withTimeout(closed, 1000);
    return false;
  }

  async function runStep(name: string, step: () => Promise<void>): Promise<boolean> {
    try {
      const outcome = await withTimeout(step(), stepTimeoutMs);
      if (outcome === 'timeout') {
        log.error({ step: name, timeoutMs: stepTimeoutMs }, 'shutdown step timed out');
        return false;
      }
      return true;
    } catch (err) {
      log.error({ step: name, err }, 'shutdown step failed');
      return false;
    }
  }

  async function shutdown(signal: string): Promise<number> {
    const started = performance.now();
    options.readiness?.markShuttingDown();
    log.info({ signal, inFlight: active.size }, 'fhirgate stopping');
    if ((options.delayMs ?? 0) > 0) {
      await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    }
    let clean = await drainHttp();
    log.info(
      { durationMs: Math.round(performance.now() - started), forced: !clean },
      'http drained',
    );
    const all =
      auditFlush === undefined ? steps : [{ name: 'audit-flush', run: auditFlush }, ...steps];
    for (const step of all) {
      clean = (await runStep(step.name, step.run)) && clean;
    }
    const exitCode = clean ? 0 : 1;
    log.info({ exitCode, durationMs: Math.round(performance.now() - started) }, 'fhirgate stopped');
    return exitCode;
  }

  return {
    setAuditFlush(flush) {
      auditFlush = flush;
    },
    addStep(name, run) {
      steps.push({ name, run });
    },
    run(signal) {
      running ??= shutdown(signal);
      return running;
    },
    get started() {
      return running !== undefined;
    },
    get inFlight() {
      return active.size;
    },
  };
}
