import {
  type BulkheadPolicy,
  bulkhead,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type IPolicy,
  TaskCancelledError,
  wrap,
} from 'cockatiel';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { DatabaseError } from '../db/tenant-database.js';
import { statementTimeout } from './statement-timeout.js';

export interface TenantPolicyOptions {
  /** Statements of one tenant running at once. @default 10 */
  readonly concurrency: number;
  /** Statements of one tenant waiting for a slot; more are rejected at once. @default 20 */
  readonly queue: number;
  /** Consecutive infrastructure failures that open the tenant's breaker. @default 5 */
  readonly failureThreshold: number;
  /** How long an open breaker waits before one probe may try again. @default 10000 */
  readonly halfOpenAfterMs: number;
  /** Budget of one statement, queue wait excluded. @default 5000 */
  readonly timeoutMs: number;
}

/** Why a tenant's policy would refuse a statement now, and when to try again (whole seconds). */
export interface TenantRefusal {
  readonly kind: 'busy' | 'open';
  readonly retryAfterSec: number;
}

const BUSY: TenantRefusal = { kind: 'busy', retryAfterSec: 1 };

/** The state of one tenant's breaker, for `tenantStatus` and metrics. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface TenantPolicies {
  /** The tenant's policy: bulkhead around breaker around timeout. One per tenant, reused. */
  policyFor(clientId: string, tenantHash: string): IPolicy;
  breakerState(clientId: string): BreakerState | undefined;
  /**
   * Whether the tenant's policy would refuse a statement right now, without running anything:
   * `busy` when every bulkhead slot runs and its queue is full (retry after 1 s), `open` when the
   * breaker is open (or isolated) and its half-open wait has not elapsed (retry once it has).
   * `undefined` when a statement would be admitted, or the tenant has no policy yet. Read-only:
   * it never changes a breaker's state, so the first statement after the half-open wait still
   * becomes the breaker's probe.
   */
  refusal(clientId: string): TenantRefusal | undefined;
  /** The breaker state of every tenant with a policy, labelled by tenant hash (metrics). */
  breakerStates(): Array<{ readonly tenantHash: string; readonly state: BreakerState }>;
  /** Forgets a tenant's policy (an offboarded tenant). */
  discard(clientId: string): void;
}

/**
 * Only failures of the tenant's infrastructure count toward opening its breaker: a refused or
 * dropped connection, a timeout. A statement the database rejects, or a full queue, says nothing
 * about the server's health.
 */
export function isInfrastructureFailure(err: unknown): boolean {
  return err instanceof TaskCancelledError || (err instanceof DatabaseError && err.infrastructure);
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

interface Entry {
  readonly policy: IPolicy;
  readonly breaker: CircuitBreakerPolicy;
  readonly bulkhead: BulkheadPolicy;
  readonly tenantHash: string;
}

/**
 * One cockatiel policy per tenant, so a tenant whose database is slow or down gets fast errors
 * while every other tenant keeps its latency: the bulkhead bounds what one tenant may hold, the
 * breaker stops sending work to a dead server, the timeout bounds each statement.
 */
export function createTenantPolicies(options: TenantPolicyOptions, log: Logger): TenantPolicies {
  const entries = new LRUCache<string, Entry>({ max: 20_000 });

  function create(tenantHash: string): Entry {
    const limiter = bulkhead(options.concurrency, options.queue);
    const breaker = circuitBreaker(handleWhen(isInfrastructureFailure), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.failureThreshold),
    });
    breaker.onBreak(() => log.warn({ tenant: tenantHash }, 'tenant breaker opened'));
    breaker.onHalfOpen(() => log.info({ tenant: tenantHash }, 'tenant breaker half-open'));
    breaker.onReset(() => log.info({ tenant: tenantHash }, 'tenant breaker closed'));
    // The timeout is innermost, so a statement that times out counts as a breaker failure.
    const budget = statementTimeout(options.timeoutMs);
    return { policy: wrap(limiter, breaker, budget), breaker, bulkhead: limiter, tenantHash };
  }

  return {
    policyFor(clientId, tenantHash) {
      let entry = entries.get(clientId);
      if (entry === undefined) {
        entry = create(tenantHash);
        entries.set(clientId, entry);
      }
      return entry.policy;
    },
    breakerState(clientId) {
      const entry = entries.peek(clientId);
      return entry === undefined ? undefined : STATES[entry.breaker.state];
    },
    refusal(clientId) {
      const entry = entries.peek(clientId);
      if (entry === undefined) {
        return undefined;
      }
      const { breaker } = entry;
      if (breaker.state === CircuitState.Isolated) {
        return { kind: 'open', retryAfterSec: Math.ceil(options.halfOpenAfterMs / 1000) };
      }
      if (breaker.state === CircuitState.Open) {
        // cockatiel stays Open until a statement arrives after the wait; that statement is the
        // probe, so refuse only while the wait (a constant backoff here) is still running.
        const { ownState } = breaker.toJSON() as { ownState: { openedAt?: number } };
        const left = options.halfOpenAfterMs - (Date.now() - (ownState.openedAt ?? 0));
        if (left > 0) {
          return { kind: 'open', retryAfterSec: Math.max(1, Math.ceil(left / 1000)) };
        }
      }
      const slots = entry.bulkhead;
      return slots.executionSlots <= 0 && slots.queueSlots <= 0 ? BUSY : undefined;
    },
    breakerStates() {
      return [...entries.values()].map((e) => ({
        tenantHash: e.tenantHash,
        state: STATES[e.breaker.state],
      }));
    },
    discard(clientId) {
      entries.delete(clientId);
    },
  };
}
