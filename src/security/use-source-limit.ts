import type { Plugin } from 'graphql-yoga';
import { refusalResponse } from '../auth/refusal-response.js';
import { factsOf } from '../auth/request-facts.js';
import type { ErrorCode } from '../errors.js';
import { createRateLimiter, type RateLimit } from './rate-limiter.js';

/** Refusals that mean a token did not verify (not `AUTH_UNAVAILABLE`: the realm was down). */
const TOKEN_FAILURES: ReadonlySet<ErrorCode> = new Set([
  'UNAUTHENTICATED',
  'TENANT_UNRESOLVED',
  'TENANT_MISMATCH',
]);

/**
 * Failed token checks per client address (`origin.source`). Goes before authentication: an
 * address whose failures used up its bucket is answered 429 at once, valid tokens from it
 * included, until the bucket refills, so a flood of bad tokens costs no verification. Each
 * failure authentication answered is taken from the bucket on the way out. Behind a proxy the
 * address is the forwarded client only when the proxy is trusted (`client-address.ts`);
 * otherwise every client of the proxy shares its bucket.
 */
export function useSourceLimit(limit: RateLimit): Plugin {
  const failuresBySource = createRateLimiter(limit);
  return {
    onRequest({ serverContext, endResponse }) {
      const { origin } = factsOf(serverContext);
      if (origin === undefined || !origin.needsToken) {
        return;
      }
      const failing = failuresBySource.peek(origin.source ?? '');
      if (!failing.ok) {
        endResponse(
          refusalResponse(serverContext, {
            code: 'RATE_LIMITED',
            message: 'Too many failed authentications from this address; retry later.',
            headers: { 'retry-after': String(failing.retryAfterSec) },
            reason: 'source-rate-limited',
            holdSec: failing.retryAfterSec,
          }),
        );
      }
    },
    onResponse({ serverContext }) {
      const { origin, refusal } = factsOf(serverContext);
      if (origin !== undefined && refusal !== undefined && TOKEN_FAILURES.has(refusal.code)) {
        failuresBySource.take(origin.source ?? '');
      }
    },
  };
}
