import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import {
  type AdminActionInput,
  type AuditEventResource,
  adminActionEvent,
  deniedAccessEvent,
  phiReadEvent,
} from './audit-event.js';

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
  /** Events waiting for the next INSERT. */
  readonly pending: number;
  /** Largest number of events one INSERT carried. */
  readonly largestBatch: number;
}

/**
 * The audit trail (45 CFR 164.312(b)). Every event goes through one queue that is written by
 * group commit: while one INSERT runs, the events of all concurrent requests gather, and the
 * next INSERT carries them all in one multi-row statement (at most `batchMax` events and
 * `batchMaxBytes` of JSON). One INSERT runs at a time. The queue is bounded (`backlog`): a full
 * queue refuses new events at once instead of growing.
 */
export interface AuditTrail {
  /**
   * A request that read tenant data. Resolves once the event is durably written; rejects with
   * {@link AuditUnavailableError} otherwise, and the caller must then send no data.
   */
  phiRead(input: {
    readonly principal: Principal;
    readonly requestId: string;
    readonly search: boolean;
    readonly references: readonly string[];
    readonly outcome: '0' | '4';
    readonly errorCodes?: readonly string[];
  }): Promise<void>;
  /**
   * A refused request (401, 403, 429 or a field refused with FORBIDDEN). Not awaited: the
   * response carries no data. A write failure is logged with counts only.
   */
  denied(input: {
    readonly code: string;
    readonly requestId: string;
    readonly reason?: string;
    readonly principal?: Principal;
    readonly references?: readonly string[];
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
  readonly row: AuditRow;
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
  const queue: Pending[] = [];
  let draining: Promise<void> | undefined;
  let closed = false;
  const counters = {
    batches: 0,
    written: 0,
    failedBatches: 0,
    dropped: 0,
    droppedDenials: 0,
    largestBatch: 0,
  };
  // Denials queued and not yet written. A flood of bad tokens costs nothing to send, so denials
  // may fill at most half the backlog: they can never crowd out the PHI reads that must wait.
  let queuedDenials = 0;
  let lastDenialWarning = 0;

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

  async function drain(): Promise<void> {
    // Lets every event queued in this turn of the event loop join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (queue.length > 0) {
      const batch = takeBatch();
      try {
        await store.insert(batch.map((p) => p.row));
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
    draining = undefined;
  }

  function enqueue(event: AuditEventResource, row: Omit<AuditRow, 'event' | 'recordedAt'>) {
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
        row: { ...row, recordedAt: event.recorded, event: JSON.stringify(event) },
        resolve,
        reject,
      });
      draining ??= drain();
    });
  }

  return {
    phiRead(input) {
      const event = phiReadEvent({ ...input, sourceId });
      return enqueue(event, {
        requestId: input.requestId,
        clientId: input.principal.clientId,
        kind: input.search ? 'search' : 'read',
        outcome: Number(input.outcome),
      });
    },
    denied(input) {
      if (queuedDenials >= backlog / 2) {
        counters.droppedDenials++;
        if (Date.now() - lastDenialWarning > 1000) {
          lastDenialWarning = Date.now();
          log.warn({ dropped: counters.droppedDenials }, 'audit: denial events dropped (flood)');
        }
        return;
      }
      const event = deniedAccessEvent({ ...input, sourceId });
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
      return { ...counters, pending: queue.length };
    },
    async close() {
      closed = true;
      while (draining !== undefined) {
        await draining;
      }
      await store.close();
    },
  };
}
