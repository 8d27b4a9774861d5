import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { isAuthError } from './auth-error.js';
import { refusalResponse } from './refusal-response.js';
import { extendContext, factsOf } from './request-facts.js';
import { type AccessTokenVerifier, parseBearer } from './verify-access-token.js';

export interface AuthenticationOptions {
  readonly verifier: AccessTokenVerifier;
  readonly log: Logger;
  readonly graphqlEndpoint: string;
}

/**
 * Verifies the bearer token of every request that needs one (`origin.needsToken`) before Yoga
 * parses it, and adds the verified `principal` to the context. A missing or invalid token ends
 * the request here with 401 (and `WWW-Authenticate: Bearer`), an unreachable realm with 503, so
 * an unauthenticated caller never reaches parsing, validation, introspection or a tenant.
 */
export function useAuthentication(options: AuthenticationOptions): Plugin {
  const { verifier, log } = options;
  return {
    async onRequest({ request, url, serverContext, endResponse }) {
      const { origin } = factsOf(serverContext);
      if (origin === undefined || !origin.needsToken) {
        return;
      }
      const { requestId } = origin;
      if (url.pathname === options.graphqlEndpoint && request.method !== 'POST') {
        // Queries in a URL end up in proxy and access logs: PHI search values included.
        endResponse(
          refusalResponse(serverContext, {
            code: 'METHOD_NOT_ALLOWED',
            message: 'GraphQL requests must use POST.',
            headers: { allow: 'POST' },
          }),
        );
        return;
      }
      try {
        const principal = await verifier.verify(parseBearer(request.headers.get('authorization')));
        extendContext(serverContext, { principal });
      } catch (err) {
        if (!isAuthError(err)) {
          throw err;
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
          refusalResponse(serverContext, {
            code: err.code,
            message: err.message,
            headers:
              err.code === 'UNAUTHENTICATED'
                ? { 'www-authenticate': challenge }
                : err.code === 'AUTH_UNAVAILABLE'
                  ? { 'retry-after': '5' }
                  : {},
            reason: err.reason,
          }),
        );
      }
    },
  };
}
