import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { type ErrorCode, httpStatusOf, operationOutcomeFor } from '../errors.js';
import { tenantHash } from '../logger.js';
import { createRateLimiter, type RateLimit } from '../security/rate-limiter.js';
import type { ConfigResolver, TenantRuntime } from '../tenancy/config-resolver.js';
import { isAuthError } from './auth-error.js';
import { FHIR_ROLES, type Principal } from './principal.js';
import { type AccessTokenVerifier, parseBearer } from './verify-access-token.js';

/** What the authentication step established for one request; the context factory reads it. */
export interface AuthenticatedRequest {
  readonly requestId: string;
  readonly principal: Principal;
  readonly runtime: TenantRuntime;
  readonly log: Logger;
  readonly startedAt: number;
}

export interface AuthenticationOptions {
  readonly verifier: AccessTokenVerifier;
  readonly resolver: ConfigResolver;
  readonly log: Logger;
  readonly graphqlEndpoint: string;
  /** Serve GraphiQL's HTML page (it holds no data; every operation it sends needs a token). */
  readonly graphiql: boolean;
  /** Requests per user (`iss` + `sub`) and per tenant, checked after the token verifies. */
  readonly rateLimits?: { readonly user: RateLimit; readonly tenant: RateLimit };
  /**
   * Told of every refusal with 401, 403 or 429 (the audit trail records it): the code, the
   * request id, the verified principal when there is one, and for a token that did not verify
   * its machine reason (`ERR_JWT_EXPIRED`, `missing-token`). Never the token.
   */
  readonly onDenied?: (denial: {
    readonly code: ErrorCode;
    readonly requestId: string;
    readonly reason?: string;
    readonly principal?: Principal;
  }) => void;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  UNKNOWN_TENANT: 'The tenant named by the access token is not served here.',
  TENANT_CONFIG_INVALID: "The tenant's configuration is invalid; an administrator has been told.",
  REGISTRY_UNAVAILABLE: 'The tenant registry is unavailable.',
  FORBIDDEN: 'The access token grants no fhirgate role for this tenant.',
};

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
} {
  const states = new WeakMap<Request, AuthenticatedRequest>();
  const { verifier, resolver, log } = options;
  const perUser = createRateLimiter(options.rateLimits?.user ?? { perSecond: 0, burst: 0 });
  const perTenant = createRateLimiter(options.rateLimits?.tenant ?? { perSecond: 0, burst: 0 });

  /** A JSON error response in the GraphQL shape, ending the request before Yoga parses it. */
  function reject(
    code: ErrorCode,
    message: string,
    requestId: string,
    headers: Record<string, string> = {},
    who: { readonly reason?: string; readonly principal?: Principal } = {},
  ): Response {
    const status = httpStatusOf(code) ?? 400;
    if (status === 401 || status === 403 || status === 429) {
      options.onDenied?.({ code, requestId, ...who });
    }
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
    async onRequest({ request, url, endResponse }) {
      if (url.pathname !== options.graphqlEndpoint) {
        return;
      }
      const headerId = request.headers.get('x-request-id');
      const requestId = headerId !== null && REQUEST_ID.test(headerId) ? headerId : randomUUID();
      if (options.graphiql && wantsGraphiQL(request)) {
        return;
      }
      if (request.method !== 'POST') {
        // Queries in a URL end up in proxy and access logs: PHI search values included.
        endResponse(
          reject('METHOD_NOT_ALLOWED', 'GraphQL requests must use POST.', requestId, {
            allow: 'POST',
          }),
        );
        return;
      }
      let principal: Principal;
      try {
        principal = await verifier.verify(parseBearer(request.headers.get('authorization')));
      } catch (err) {
        if (isAuthError(err)) {
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
        log.warn({ requestId, tenant: tenantHash(principal.clientId) }, 'request rate limited');
        endResponse(
          reject(
            'RATE_LIMITED',
            'Too many requests; retry later.',
            requestId,
            { 'retry-after': String(limited.retryAfterSec) },
            { principal },
          ),
        );
        return;
      }
      if (!FHIR_ROLES.some((role) => principal.roles.has(role))) {
        endResponse(reject('FORBIDDEN', MESSAGES.FORBIDDEN ?? '', requestId, {}, { principal }));
        return;
      }
      let runtime: TenantRuntime;
      try {
        const resolution = await resolver.resolve(principal.clientId);
        if (resolution.status !== 'active') {
          // Unknown and disabled look the same from outside: no probing for tenant names.
          const code: ErrorCode =
            resolution.status === 'invalid' ? 'TENANT_CONFIG_INVALID' : 'UNKNOWN_TENANT';
          log.info({ requestId, code, status: resolution.status }, 'request refused');
          endResponse(reject(code, MESSAGES[code] ?? '', requestId, {}, { principal }));
          return;
        }
        runtime = resolution.runtime;
      } catch (err) {
        log.error({ requestId, err }, 'tenant resolution failed');
        endResponse(
          reject('REGISTRY_UNAVAILABLE', MESSAGES.REGISTRY_UNAVAILABLE ?? '', requestId, {
            'retry-after': '5',
          }),
        );
        return;
      }
      states.set(request, {
        requestId,
        principal,
        runtime,
        log: log.child({ requestId, tenant: runtime.tenantHash }),
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

  return { plugin, authenticated: (request) => states.get(request) };
}
