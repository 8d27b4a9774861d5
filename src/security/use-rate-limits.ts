import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { refusalResponse } from '../auth/refusal-response.js';
import { factsOf } from '../auth/request-facts.js';
import { createLogThrottle, tenantHash } from '../logger.js';
import { createRateLimiter, type RateLimit, type RateLimiter } from './rate-limiter.js';

/** At most one `request rate limited` line per tenant per this many ms; the rest are counted. */
const RATE_LOG_INTERVAL_MS = 1000;

export interface RateLimitsOptions {
  /** Requests per user (`iss` + `sub`); per tenant unless `tenantLimiter` is given. */
  readonly limits?: { readonly user: RateLimit; readonly tenant: RateLimit };
  /**
   * The per-tenant limiter, when the caller keeps it (to drop an offboarded tenant's bucket);
   * otherwise one is made from `limits.tenant`.
   */
  readonly tenantLimiter?: RateLimiter;
  readonly log: Logger;
}

const OFF: RateLimit = { perSecond: 0, burst: 0 };

/**
 * Requests per user and per tenant, right after the token verifies (`principal` on the
 * context) and before the registry or any tenant database: a flood costs a token check and no
 * more. Refused with 429 and `Retry-After`.
 */
export function useRateLimits(options: RateLimitsOptions): Plugin {
  const perUser = createRateLimiter(options.limits?.user ?? OFF);
  const perTenant = options.tenantLimiter ?? createRateLimiter(options.limits?.tenant ?? OFF);
  // A flood of refusals must not become a flood of log lines: per tenant, one line a second,
  // carrying how many refusals it stands for.
  const rateLogs = createLogThrottle(RATE_LOG_INTERVAL_MS);
  return {
    onRequest({ serverContext, endResponse }) {
      const { origin, principal } = factsOf(serverContext);
      if (origin === undefined || principal === undefined) {
        return;
      }
      const byUser = perUser.take(`${principal.issuer}\u0000${principal.subject}`);
      // A request refused for its user does not spend its tenant's budget.
      const limited = byUser.ok ? perTenant.take(principal.clientId) : byUser;
      if (limited.ok) {
        return;
      }
      const alsoRefused = rateLogs.due(principal.clientId);
      if (alsoRefused !== undefined) {
        options.log.warn(
          { requestId: origin.requestId, tenant: tenantHash(principal.clientId), alsoRefused },
          'request rate limited',
        );
      }
      endResponse(
        refusalResponse(serverContext, {
          code: 'RATE_LIMITED',
          message: 'Too many requests; retry later.',
          headers: { 'retry-after': String(limited.retryAfterSec) },
          principal,
          holdSec: limited.retryAfterSec,
        }),
      );
    },
  };
}
