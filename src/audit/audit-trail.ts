import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import { type ChainLink, createAuditChain } from './audit-chain.js';
import {
  type AdminActionInput,
  type AuditEventResource,
  adminActionEvent,
  deniedAccessEvent,
  deniedAggregateEvent,
  phiReadEventJson,
} from './audit-event.js';
import { createDenialAggregation } from './denial-aggregation.js';

/** What the store writes per event: the AuditEvent and the columns it is found by. */
export interface AuditRow {
  readonly recordedAt: string;
  readonly requestId: string;
  /** The tenant (client id) the event concerns, when one is known. */
  readonly clientId: string | null;
  readonly kind: 'read' | 'search' | 'denied' | 'admin';
  readonly outcome: number;
  /** The AuditEvent as JSON text. */
  readonly event: string;
  /** The hash chain link (see `audit-chain.ts`), set when the row is batched. */
  readonly chain: ChainLink;
}

/** Where audit rows go. `insert` writes all rows in one statement, or none. */
export interface AuditStore {
  insert(rows: readonly AuditRow[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The audit store did not take an event (a failed write, or a full backlog). PHI reads answer
 * 503 `AUDIT_UNAVAILABLE` with no data: no audit, no data. Fixed message, safe to log.
 */
export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
  readonly code = 'AUDIT_UNAVAILABLE';
  readonly safeMessage = true;
  readonly reason: 'write-failed' | 'backlog-full' | 'closed';
  constructor(reason: 'write-failed' | 'backlog-full' | 'closed') {
    super(`audit store unavailable (${reason})`);
    this.reason = reason;
  }
}

export interface AuditTrailOptions {
  readonly store: AuditStore;
  readonly log: Logger;
  /** The source observer written into every event (this gateway). @default 'fhirgate' */
  readonly sourceId?: string;
  /** Most events per INSERT. @default 100 */
  readonly batchMax?: number;
  /** Most bytes of event JSON per INSERT (below MySQL's 16 MiB packet). @default 4 MiB */
  readonly batchMaxBytes?: number;
  /** Events waiting to be written; beyond it new events fail at once. @default 10000 */
  readonly backlog?: number;
  /**
   * INSERT batches written at the same time (the store needs as many connections). Above 1, an
   * event that arrives while a batch commits goes out in an INSERT of its own at once instead of
   * waiting for that commit first (InnoDB group-commits concurrent transactions into one log
   * flush). That pays when a commit takes long against a request's CPU time (a remote audit
   * database); with a local one, whose commit is short against a request's CPU time, it only
   * makes batches smaller (more INSERTs, no lower latency). @default 1
   */
  readonly maxInFlight?: number;
  /** Interval over which anonymous denials are counted per client address. @default 60000 */
  readonly denialIntervalMs?: number;
}

/** Counters for tests and metrics. */
export interface AuditTrailStats {
  /** INSERT statements that succeeded. */
  readonly batches: number;
  /** Events durably written. */
  readonly written: number;
  /** INSERT statements that failed. */
  readonly failedBatches: number;
  /** Events refused (full backlog) or lost with a failed batch. */
  readonly dropped: number;
  /** Denial events refused because denials already held half the backlog. */
  readonly droppedDenials: number;
  /** Anonymous denials counted into an aggregate row instead of a row of their own. */
  readonly aggregatedDenials: number;
  /** Events waiting for the next INSERT (not counting those in an INSERT being written). */
  readonly pending: number;
  /** INSERT batches being written now. */
  readonly inFlight: number;
  /** Most INSERT batches that were ever written at the same time. */
  readonly peakInFlight: number;
  /** Largest number of events one INSERT carried. */
  readonly largestBatch: number;
}

/**
 * The audit trail (45 CFR 164.312(b)). Every event goes through one queue that is written by
 * group commit: the events of all requests that finish in the same turn of the event loop go out
 * in one multi-row INSERT (at most `batchMax` events and `batchMaxBytes` of JSON), and while
 * `maxInFlight` INSERTs are being written, new events gather for the next one. Up to
 * `maxInFlight` INSERTs run at once (pipelining: an event never waits for a commit that does not
 * carry it while a connection is free), so an event waits for one commit, not for the one in
 * progress plus its own. Each event's promise settles with its own INSERT, whatever the order
 * the INSERTs finish in. The queue is bounded (`backlog`): a full queue refuses new events at
 * once instead of growing; in flight are at most `maxInFlight * batchMax` more.
 */
export interface AuditTrail {
  /**
   * A request that read tenant data. Resolves once the event is durably written; rejects with
   * {@link AuditUnavailableError} otherwise, and the caller must then send no data.
   */
  phiRead(input: {
    readonly principal: Principal;
    readonly requestId: string;
    readonly correlationId?: string;
    readonly search: boolean;
    readonly references: readonly string[];
    readonly outcome: '0' | '4';
    readonly errorCodes?: readonly string[];
    /** The client address, as the request's origin saw it (`agent.network`). */
    readonly source?: string;
  }): Promise<void>;
  /**
   * A refused request (401, 403, 429 or a field refused with FORBIDDEN). Not awaited: the
   * response carries no data. A write failure is logged with counts only. Anonymous denials
   * (no verified principal) with a `source` are aggregated per address: the first of each
   * interval gets its own row, the rest one row with their count at the interval's end.
   */
  denied(input: {
    readonly code: string;
    readonly requestId: string;
    readonly reason?: string;
    readonly principal?: Principal;
    readonly references?: readonly string[];
    readonly correlationId?: string;
    readonly source?: string;
  }): void;
  /**
   * An admin action, for the admin API (`reloadTenantConfig`, `activateTenantMapping`...) and
   * the operator CLI. Call it once per action, after the outcome is known, refusals included.
   * `main.ts` passes the admin service's `onAdminAction` events straight in; a resolver with a
   * request context can call it too:
   *
   * ```ts
   * await ctx.audit.trail.adminAction({
   *   principal: ctx.principal, action: 'reloadTenantConfig', target: 'hospital-a',
   *   outcome: 'success', requestId: ctx.requestId,
   * });
   * ```
   *
   * Targets are tenant client ids, never URLs or mapping content. Resolves when durable;
   * rejects with {@link AuditUnavailableError} when the store does not take it. Whether the
   * action then fails is the caller's decision (the admin service logs it and answers as before).
   */
  adminAction(input: AdminActionInput): Promise<void>;
  stats(): AuditTrailStats;
  /** Writes what is queued, then closes the store. Later events fail. */
  close(): Promise<void>;
}

interface Pending {
  readonly row: Omit<AuditRow, 'chain'>;
  resolve(): void;
  reject(err: AuditUnavailableError): void;
}

const NOOP = () => undefined;

export function createAuditTrail(options: AuditTrailOptions): AuditTrail {
  const { store, log } = options;
  const sourceId = options.sourceId ?? 'fhirgate';
  const batchMax = options.batchMax ?? 100;
  const batchMaxBytes = options.batchMaxBytes ?? 4 * 1024 * 1024;
  const backlog = options.backlog ?? 10_000;
  const maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? 1));
  const queue: Pending[] = [];
  // This process's hash chain: rows are linked in the order their batches are started.
  const chain = createAuditChain();
  /** A flush is scheduled for the end of this turn of the event loop. */
  let scheduled = false;
  let inFlight = 0;
  let closed = false;
  /** Resolvers of `close()` waiting for the queue and every in-flight INSERT to finish. */
  let idleWaiters: Array<() => void> = [];
  const counters = {
    batches: 0,
    written: 0,
    failedBatches: 0,
    dropped: 0,
    droppedDenials: 0,
    aggregatedDenials: 0,
    largestBatch: 0,
    peakInFlight: 0,
  };
  // Denials queued and not yet written. A flood of bad tokens costs nothing to send, so denials
  // may fill at most half the backlog: they can never crowd out the PHI reads that must wait.
  let queuedDenials = 0;
  let lastDenialWarning = 0;
  const denialIntervalMs = options.denialIntervalMs ?? 60_000;
  const aggregation = createDenialAggregation({ intervalMs: denialIntervalMs });
  // Writes the aggregates of intervals that are over; unref'd: it never keeps a process alive.
  const aggregateTimer = setInterval(
    () => writeAggregates(false),
    Math.max(100, Math.floor(denialIntervalMs / 4)),
  );
  aggregateTimer.unref();

  function writeAggregates(all: boolean): void {
    for (const aggregate of aggregation.drain(Date.now(), all)) {
      const requestId = randomUUID();
      writeDenial(deniedAggregateEvent({ ...aggregate, requestId, sourceId }), { requestId });
    }
  }

  function writeDenial(
    event: AuditEventResource,
    input: { readonly requestId: string; readonly principal?: Principal },
  ): void {
    if (queuedDenials >= backlog / 2) {
      counters.droppedDenials++;
      if (Date.now() - lastDenialWarning > 1000) {
        lastDenialWarning = Date.now();
        log.warn({ dropped: counters.droppedDenials }, 'audit: denial events dropped (flood)');
      }
      return;
    }
    queuedDenials++;
    enqueue(event, {
      requestId: input.requestId,
      clientId: input.principal?.clientId ?? null,
      kind: 'denied',
      outcome: 4,
    })
      .catch(NOOP)
      .finally(() => {
        queuedDenials--;
      });
  }

  function takeBatch(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < queue.length && n < batchMax) {
      bytes += (queue[n] as Pending).row.event.length;
      // One oversized event still goes alone rather than never.
      if (n > 0 && bytes > batchMaxBytes) {
        break;
      }
      n++;
    }
    return queue.splice(0, n);
  }

  async function write(batch: Pending[], rows: readonly AuditRow[]): Promise<void> {
    try {
      await store.insert(rows);
      counters.batches++;
      counters.written += batch.length;
      counters.largestBatch = Math.max(counters.largestBatch, batch.length);
      for (const p of batch) {
        p.resolve();
      }
    } catch (err) {
      counters.failedBatches++;
      counters.dropped += batch.length;
      log.error({ err, events: batch.length }, 'audit write failed');
      const failure = new AuditUnavailableError('write-failed');
      for (const p of batch) {
        p.reject(failure);
      }
    }
  }

  function idle(): boolean {
    return !scheduled && inFlight === 0 && queue.length === 0;
  }

  /** Starts INSERTs for what is queued while fewer than `maxInFlight` run. */
  function flush(): void {
    scheduled = false;
    while (queue.length > 0 && inFlight < maxInFlight) {
      const batch = takeBatch();
      // Linked here, synchronously and in queue order, whatever order the INSERTs finish in.
      const rows = batch.map((p) => ({ ...p.row, chain: chain.link(p.row) }));
      inFlight++;
      counters.peakInFlight = Math.max(counters.peakInFlight, inFlight);
      void write(batch, rows).finally(() => {
        inFlight--;
        // Events that gathered while every slot was busy go out now (after the rest of this
        // turn, so that they all share the INSERT).
        schedule();
        if (idle()) {
          const waiters = idleWaiters;
          idleWaiters = [];
          for (const w of waiters) {
            w();
          }
        }
      });
    }
  }

  function schedule(): void {
    if (!scheduled && queue.length > 0 && inFlight < maxInFlight) {
      scheduled = true;
      // Lets every event queued in this turn of the event loop join the batch.
      setImmediate(flush);
    }
  }

  function enqueue(
    event: AuditEventResource | { readonly recorded: string; readonly json: string },
    row: Omit<AuditRow, 'event' | 'recordedAt' | 'chain'>,
  ) {
    if (closed) {
      return Promise.reject(new AuditUnavailableError('closed'));
    }
    if (queue.length >= backlog) {
      counters.dropped++;
      log.warn({ backlog }, 'audit backlog full: event refused');
      return Promise.reject(new AuditUnavailableError('backlog-full'));
    }
    return new Promise<void>((resolve, reject) => {
      queue.push({
        row: {
          ...row,
          recordedAt: event.recorded,
          event: 'json' in event ? event.json : JSON.stringify(event),
        },
        resolve,
        reject,
      });
      schedule();
    });
  }

  return {
    phiRead(input) {
      const event = phiReadEventJson({ ...input, sourceId });
      return enqueue(event, {
        requestId: input.requestId,
        clientId: input.principal.clientId,
        kind: input.search ? 'search' : 'read',
        outcome: Number(input.outcome),
      });
    },
    denied(input) {
      if (
        input.principal === undefined &&
        input.source !== undefined &&
        !aggregation.admit(input.source, input.code)
      ) {
        counters.aggregatedDenials++;
        return;
      }
      writeDenial(deniedAccessEvent({ ...input, sourceId }), input);
    },
    adminAction(input) {
      const event = adminActionEvent({ admin: input, requestId: input.requestId, sourceId });
      return enqueue(event, {
        requestId: input.requestId,
        clientId: input.principal?.clientId ?? null,
        kind: 'admin',
        outcome: Number(event.outcome),
      });
    },
    stats() {
      return { ...counters, pending: queue.length, inFlight };
    },
    async close() {
      clearInterval(aggregateTimer);
      // Counted denials are written before the store closes.
      writeAggregates(true);
      closed = true;
      // Every queued event is written and every in-flight INSERT has settled before the store
      // closes.
      if (!idle()) {
        await new Promise<void>((resolve) => idleWaiters.push(resolve));
      }
      await store.close();
    },
  };
}
