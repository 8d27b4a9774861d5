import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.js';
import type { TenantRuntime } from '../tenancy/config-resolver.js';
import type { LightTicket } from '../tenancy/light-first.js';
import type { Principal } from './principal.js';

/** Where a request came from, as the first plugin in front of Yoga saw it. */
export interface RequestOrigin {
  /** The gateway's own id for this request (a UUID), whatever the client sent. */
  readonly requestId: string;
  /** The client's `X-Request-Id`, when it sent a well-formed one: a correlation id only. */
  readonly correlationId?: string;
  /** The client address: the socket peer, or the forwarded client behind a trusted proxy. */
  readonly source?: string;
  /** Whether the request must carry a verified token (false: GraphiQL's page, anonymous paths). */
  readonly needsToken: boolean;
}

/** How a plugin in front of Yoga ended a request. */
export interface Refusal {
  readonly code: ErrorCode;
  /** The tenant's hash, when the refusal came after the tenant was resolved. */
  readonly tenantHash?: string;
  /** A machine reason for the audit (`ERR_JWT_EXPIRED`, `missing-token`); never the token. */
  readonly reason?: string;
  /** The verified caller, when the token verified. */
  readonly principal?: Principal;
  /**
   * A throttling refusal (429, busy or unavailable tenant) is held up to its `Retry-After`, in
   * seconds, before it is sent (see `security/refusal-hold.ts`).
   */
  readonly holdSec?: number;
}

/** The tenant a request's token selected, and the logger that names it. */
export interface TenantSelection {
  readonly runtime: TenantRuntime;
  readonly log: Logger;
}

/**
 * What the plugins in front of Yoga learned about one request. Each adds its part to the
 * request's server context (Yoga builds the GraphQL context on top of that object, and the REST
 * handlers get it in `onRequest`), the way graphql-yoga's JWT plugin extends it: one object per
 * request, so nothing is kept aside in a map keyed by request.
 */
export interface RequestFacts {
  /** The request's place in the light-first count, set by the gateway's handler (`gateway.ts`). */
  readonly lightTicket?: LightTicket;
  readonly origin?: RequestOrigin;
  readonly principal?: Principal;
  readonly tenantSelection?: TenantSelection;
  readonly refusal?: Refusal;
}

/** The facts on a request's server (or GraphQL) context. */
export function factsOf(context: unknown): RequestFacts {
  return (context ?? {}) as RequestFacts;
}

/** Adds what a plugin learned to the request's server context. */
export function extendContext(context: unknown, facts: RequestFacts): void {
  Object.assign(context as object, facts);
}

/** What the context factory needs: a request that passed authentication and tenant selection. */
export interface AuthenticatedRequest {
  readonly requestId: string;
  readonly correlationId?: string;
  /** The client address (see {@link RequestOrigin}). */
  readonly source?: string;
  readonly principal: Principal;
  readonly runtime: TenantRuntime;
  readonly log: Logger;
  readonly lightTicket?: LightTicket;
}

/** The authenticated request on a context, or `undefined` when it was not authenticated. */
export function authenticatedRequest(context: unknown): AuthenticatedRequest | undefined {
  const { origin, principal, tenantSelection, refusal, lightTicket } = factsOf(context);
  if (
    origin === undefined ||
    principal === undefined ||
    tenantSelection === undefined ||
    refusal !== undefined
  ) {
    return undefined;
  }
  return {
    requestId: origin.requestId,
    ...(origin.correlationId === undefined ? {} : { correlationId: origin.correlationId }),
    ...(origin.source === undefined ? {} : { source: origin.source }),
    principal,
    runtime: tenantSelection.runtime,
    log: tenantSelection.log,
    ...(lightTicket === undefined ? {} : { lightTicket }),
  };
}
