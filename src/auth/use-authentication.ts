import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { type ErrorCode, httpStatusOf, operationOutcomeFor } from '../errors.js';
import { createLogThrottle, tenantHash } from '../logger.js';
import { createRateLimiter, type RateLimit, type RateLimiter } from '../security/rate-limiter.js';
import type { RefusalHold } from '../security/refusal-hold.js';
import type { ConfigResolver, TenantRuntime } from '../tenancy/config-resolver.js';
import { isAuthError } from './auth-error.js';
import { operationsRuntime } from './operations-runtime.js';
import { FHIR_ROLES, type Principal } from './principal.js';
import { type AccessTokenVerifier, parseBearer } from './verify-access-token.js';

/** What the authentication step established for one request; the context factory reads it. */
export interface AuthenticatedRequest {
  /** The gateway's own id for this request (a UUID), whatever the client sent. */
  readonly requestId: string;
  /** The client's `X-Request-Id`, when it sent a well-formed one: a correlation id only. */
  readonly correlationId?: string;
  readonly principal: Principal;
  readonly runtime: TenantRuntime;
  readonly log: Logger;
  readonly startedAt: number;
}

/** What ended a request in the authentication step, for the request metrics. */
export interface Refusal {
  readonly code: ErrorCode;
  /** The tenant's hash, when the refusal came after the tenant was resolved. */
  readonly tenantHash?: string;
}

export interface AuthenticationOptions {
  readonly verifier: AccessTokenVerifier;
  readonly resolver: ConfigResolver;
  readonly log: Logger;
  readonly graphqlEndpoint: string;
  /**
   * The FHIR REST base (`/fhir`): its paths pass the same checks as the GraphQL endpoint, for
   * GET and POST alike. Absent: no REST paths.
   */
  readonly fhirBase?: string;
  /**
   * Paths under `fhirBase` that a request without an `Authorization` header may reach
   * unauthenticated (the server-level CapabilityStatement); a request with one is checked.
   */
  readonly anonymousPaths?: ReadonlySet<string>;
  /** Serve GraphiQL's HTML page (it holds no data; every operation it sends needs a token). */
  readonly graphiql: boolean;
  /**
   * Whether the tenant's resilience policy would refuse a statement right now (`busy`: bulkhead
   * slots and queue full; `open`: breaker open), asked once the tenant is resolved. A refused
   * tenant's request ends here with 503 `TENANT_BUSY` / `TENANT_UNAVAILABLE` and `Retry-After`,
   * before Yoga parses it: a flood against a stalled tenant costs a token check, not a GraphQL
   * execution whose statement the bulkhead would refuse anyway. Not asked for `fhir-admin` tokens.
   */
  readonly tenantRefusal?: (
    clientId: string,
  ) => { readonly kind: 'busy' | 'open'; readonly retryAfterSec: number } | undefined;
  /**
   * Holds 429 and busy/unavailable 503 answers for up to their `Retry-After` before sending them,
   * so a client that re-sends at once cannot turn refusals into a loop (see `refusal-hold.ts`).
   */
  readonly refusalHold?: RefusalHold;
  /** Requests per user (`iss` + `sub`) and per tenant, checked after the token verifies. */
  readonly rateLimits?: { readonly user: RateLimit; readonly tenant: RateLimit };
  /**
   * Failed token checks per client address. Checked before the token is verified: an address
   * whose failures used up the bucket is answered 429 at once, valid tokens from it included
   * (behind a proxy that hides addresses, see `sourceOf`), until the bucket refills.
   * @default off
   */
  readonly anonymousLimit?: RateLimit;
  /** The client address of a request (the socket's peer by default). */
  readonly sourceOf?: (request: Request, serverContext: unknown) => string | undefined;
  /**
   * The per-tenant limiter, when the caller keeps it (to drop an offboarded tenant's bucket);
   * otherwise one is made from `rateLimits.tenant`.
   */
  readonly tenantLimiter?: RateLimiter;
  /**
   * Told of every refusal with 401, 403 or 429 (the audit trail records it): the code, the
   * request id, the verified principal when there is one, and for a token that did not verify
   * its machine reason (`ERR_JWT_EXPIRED`, `missing-token`). Never the token. A 503 (the tenant
   * busy or down, the registry or the realm's keys unavailable) is not an access-control decision
   * and is not reported here.
   */
  readonly onDenied?: (denial: {
    readonly code: ErrorCode;
    readonly requestId: string;
    readonly reason?: string;
    readonly principal?: Principal;
    /** The client's `X-Request-Id`, if any. */
    readonly correlationId?: string;
    /** The client address (anonymous denials are counted per address). */
    readonly source?: string;
  }) => void;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** At most one `request rate limited` line per tenant per this many ms; the rest are counted. */
const RATE_LOG_INTERVAL_MS = 1000;

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  UNKNOWN_TENANT: 'The tenant named by the access token is not served here.',
  TENANT_CONFIG_INVALID: "The tenant's configuration is invalid; an administrator has been told.",
  REGISTRY_UNAVAILABLE: 'The tenant registry is unavailable.',
  FORBIDDEN: 'The access token grants no fhirgate role for this tenant.',
  // The same texts as the statement-level refusals in `tenant-scope.ts`.
  TENANT_BUSY: 'The tenant database is busy; retry shortly.',
  TENANT_UNAVAILABLE: 'The tenant database is unavailable.',
};

/** The socket peer of a request served by Node (Yoga's server context holds `req`). */
function peerAddress(_request: Request, serverContext: unknown): string | undefined {
  const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
  return req?.socket?.remoteAddress;
}

function wantsGraphiQL(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

/**
 * Authenticates every GraphQL request before Yoga parses it: a verified bearer token, then the
 * tenant its client id selects, resolved through the registry. Failures end the request here with
 * 401 (and `WWW-Authenticate: Bearer`), 403 or 503, so an unauthenticated caller never reaches
 * parsing, validation, introspection or a tenant database.
 */
export function useAuthentication(options: AuthenticationOptions): {
  plugin: Plugin;
  authenticated(request: Request): AuthenticatedRequest | undefined;
  /** The code (and tenant) of a request this step ended; `undefined` for one it let through. */
  refused(request: Request): Refusal | undefined;
} {
  const states = new WeakMap<Request, AuthenticatedRequest>();
  const refusals = new WeakMap<Request, Refusal>();
  const { verifier, resolver, log } = options;
  const perUser = createRateLimiter(options.rateLimits?.user ?? { perSecond: 0, burst: 0 });
  const perTenant =
    options.tenantLimiter ??
    createRateLimiter(options.rateLimits?.tenant ?? { perSecond: 0, burst: 0 });
  const failuresBySource = createRateLimiter(options.anonymousLimit ?? { perSecond: 0, burst: 0 });
  const sourceOf = options.sourceOf ?? peerAddress;
  /** Correlation id and address of requests in flight, for the denial record. */
  const origins = new WeakMap<Request, { correlationId?: string; source?: string }>();
  // A flood of refusals must not become a flood of log lines: per tenant, one line a second,
  // carrying how many refusals it stands for.
  const rateLogs = createLogThrottle(RATE_LOG_INTERVAL_MS);

  function logRateLimited(requestId: string, clientId: string): void {
    const alsoRefused = rateLogs.due(clientId);
    if (alsoRefused !== undefined) {
      log.warn({ requestId, tenant: tenantHash(clientId), alsoRefused }, 'request rate limited');
    }
  }

  /** A JSON error response in the GraphQL shape, ending the request before Yoga parses it. */
  function reject(
    request: Request,
    code: ErrorCode,
    message: string,
    requestId: string,
    headers: Record<string, string> = {},
    who: { readonly reason?: string; readonly principal?: Principal } = {},
    tenant?: string,
  ): Response {
    const status = httpStatusOf(code) ?? 400;
    if (status === 401 || status === 403 || status === 429) {
      options.onDenied?.({ code, requestId, ...who, ...origins.get(request) });
    }
    refusals.set(request, tenant === undefined ? { code } : { code, tenantHash: tenant });
    // The same error shape as every later failure: a stable code and its FHIR OperationOutcome.
    const body = {
      errors: [
        { message, extensions: { code, resource: operationOutcomeFor(code, message, status) } },
      ],
    };
    return new Response(JSON.stringify(body), {
      status,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'x-request-id': requestId,
        ...headers,
      },
    });
  }

  const plugin: Plugin = {
    async onRequest({ request, url, endResponse, serverContext }) {
      const { fhirBase } = options;
      const isGraphql = url.pathname === options.graphqlEndpoint;
      const isFhir =
        fhirBase !== undefined &&
        (url.pathname === fhirBase || url.pathname.startsWith(`${fhirBase}/`));
      if (!isGraphql && !isFhir) {
        return;
      }
      // Always our own: a client could otherwise give two requests one audit id.
      const requestId = randomUUID();
      const headerId = request.headers.get('x-request-id');
      const correlationId = headerId !== null && REQUEST_ID.test(headerId) ? headerId : undefined;
      const source = sourceOf(request, serverContext);
      origins.set(request, {
        ...(correlationId === undefined ? {} : { correlationId }),
        ...(source === undefined ? {} : { source }),
      });
      if (isGraphql && options.graphiql && wantsGraphiQL(request)) {
        return;
      }
      if (
        isFhir &&
        options.anonymousPaths?.has(url.pathname) === true &&
        request.headers.get('authorization') === null
      ) {
        return;
      }
      if (isGraphql && request.method !== 'POST') {
        // Queries in a URL end up in proxy and access logs: PHI search values included.
        endResponse(
          reject(request, 'METHOD_NOT_ALLOWED', 'GraphQL requests must use POST.', requestId, {
            allow: 'POST',
          }),
        );
        return;
      }
      // An address whose tokens keep failing is refused before the next one is even verified.
      const sourceKey = source ?? '';
      const failing = failuresBySource.peek(sourceKey);
      if (!failing.ok) {
        const response = reject(
          request,
          'RATE_LIMITED',
          'Too many failed authentications from this address; retry later.',
          requestId,
          { 'retry-after': String(failing.retryAfterSec) },
          { reason: 'source-rate-limited' },
        );
        await options.refusalHold?.hold(failing.retryAfterSec);
        endResponse(response);
        return;
      }
      let principal: Principal;
      try {
        principal = await verifier.verify(parseBearer(request.headers.get('authorization')));
      } catch (err) {
        if (isAuthError(err)) {
          if (err.code !== 'AUTH_UNAVAILABLE') {
            failuresBySource.take(sourceKey);
          }
          log.info(
            { requestId, code: err.code, reason: err.reason, claim: err.claim },
            'request refused',
          );
          // RFC 6750: a request without credentials gets no error attribute.
          const challenge =
            err.reason === 'missing-token'
              ? 'Bearer realm="fhirgate"'
              : 'Bearer realm="fhirgate", error="invalid_token"';
          endResponse(
            reject(
              request,
              err.code,
              err.message,
              requestId,
              err.code === 'UNAUTHENTICATED'
                ? { 'www-authenticate': challenge }
                : err.code === 'AUTH_UNAVAILABLE'
                  ? { 'retry-after': '5' }
                  : {},
              { reason: err.reason },
            ),
          );
          return;
        }
        throw err;
      }
      // Before the registry and any tenant database: a flood costs a token check and no more.
      const byUser = perUser.take(`${principal.issuer}\u0000${principal.subject}`);
      // A request refused for its user does not spend its tenant's budget.
      const limited = byUser.ok ? perTenant.take(principal.clientId) : byUser;
      if (!limited.ok) {
        logRateLimited(requestId, principal.clientId);
        const response = reject(
          request,
          'RATE_LIMITED',
          'Too many requests; retry later.',
          requestId,
          { 'retry-after': String(limited.retryAfterSec) },
          { principal },
        );
        await options.refusalHold?.hold(limited.retryAfterSec);
        endResponse(response);
        return;
      }
      if (!FHIR_ROLES.some((role) => principal.roles.has(role))) {
        endResponse(
          reject(request, 'FORBIDDEN', MESSAGES.FORBIDDEN ?? '', requestId, {}, { principal }),
        );
        return;
      }
      let runtime: TenantRuntime;
      try {
        const resolution = await resolver.resolve(principal.clientId);
        if (
          resolution.status === 'unknown' &&
          principal.platformAdmin === true &&
          principal.roles.has('fhir-admin')
        ) {
          // An operations client need not be a tenant: it gets the admin fields and no data.
          runtime = operationsRuntime(principal.clientId);
        } else if (
          resolution.status === 'invalid' &&
          resolution.adminRuntime !== undefined &&
          principal.roles.has('fhir-admin')
        ) {
          // No usable mapping yet: the tenant's own admin may still reach the admin fields (to
          // activate one); the empty mapping serves no resource.
          runtime = resolution.adminRuntime;
        } else if (resolution.status !== 'active') {
          // Unknown and disabled look the same from outside: no probing for tenant names.
          const code: ErrorCode =
            resolution.status === 'invalid' ? 'TENANT_CONFIG_INVALID' : 'UNKNOWN_TENANT';
          log.info({ requestId, code, status: resolution.status }, 'request refused');
          endResponse(reject(request, code, MESSAGES[code] ?? '', requestId, {}, { principal }));
          return;
        } else {
          runtime = resolution.runtime;
        }
      } catch (err) {
        log.error({ requestId, err }, 'tenant resolution failed');
        endResponse(
          reject(request, 'REGISTRY_UNAVAILABLE', MESSAGES.REGISTRY_UNAVAILABLE ?? '', requestId, {
            'retry-after': '5',
          }),
        );
        return;
      }
      // A tenant whose bulkhead is full or whose breaker is open would refuse this request's first
      // statement anyway: refuse it before parsing, validation and execution cost the shared event
      // loop anything. Not a denial: the caller may read this tenant, just not now. A `fhir-admin`
      // token is let through (its reads still meet the bulkhead): an administrator must be able
      // to see and reload a tenant while its database is down.
      const busy = principal.roles.has('fhir-admin')
        ? undefined
        : options.tenantRefusal?.(runtime.clientId);
      if (busy !== undefined) {
        const code: ErrorCode = busy.kind === 'busy' ? 'TENANT_BUSY' : 'TENANT_UNAVAILABLE';
        const response = reject(
          request,
          code,
          MESSAGES[code] ?? '',
          requestId,
          { 'retry-after': String(busy.retryAfterSec) },
          {},
          runtime.tenantHash,
        );
        await options.refusalHold?.hold(busy.retryAfterSec);
        endResponse(response);
        return;
      }
      states.set(request, {
        requestId,
        ...(correlationId === undefined ? {} : { correlationId }),
        principal,
        runtime,
        log: log.child(
          correlationId === undefined
            ? { requestId, tenant: runtime.tenantHash }
            : { requestId, correlationId, tenant: runtime.tenantHash },
        ),
        startedAt: performance.now(),
      });
    },
    onResponse({ request, response }) {
      const state = states.get(request);
      if (state !== undefined) {
        response.headers.set('x-request-id', state.requestId);
      }
    },
  };

  return {
    plugin,
    authenticated: (request) => states.get(request),
    refused: (request) => refusals.get(request),
  };
}
