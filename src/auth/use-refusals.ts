import type { Plugin } from 'graphql-yoga';
import { type ErrorCode, httpStatusOf } from '../errors.js';
import type { RefusalHold } from '../security/refusal-hold.js';
import type { Principal } from './principal.js';
import { factsOf } from './request-facts.js';

/** A refusal with 401, 403 or 429, as the audit trail records it. */
export interface Denial {
  readonly code: ErrorCode;
  readonly requestId: string;
  /** For a token that did not verify, its machine reason (`ERR_JWT_EXPIRED`); never the token. */
  readonly reason?: string;
  readonly principal?: Principal;
  /** The client's `X-Request-Id`, if any. */
  readonly correlationId?: string;
  /** The client address (anonymous denials are counted per address). */
  readonly source?: string;
}

export interface RefusalsOptions {
  /**
   * Told of every refusal with 401, 403 or 429. A 503 (the tenant busy or down, the registry or
   * the realm's keys unavailable) is not an access-control decision and is not reported.
   */
  readonly onDenied?: (denial: Denial) => void;
  /**
   * Holds 429 and busy/unavailable 503 answers for up to their `Retry-After` before sending them,
   * so a client that re-sends at once cannot turn refusals into a loop (see `refusal-hold.ts`).
   */
  readonly refusalHold?: RefusalHold;
}

/**
 * What happens to a request the plugins in front of Yoga refused (`refusal-response.ts`), on
 * its way out: a denial is reported once, with the origin and the verified caller the context
 * holds, then a throttling refusal is held.
 */
export function useRefusals(options: RefusalsOptions): Plugin {
  return {
    async onResponse({ serverContext }) {
      const { refusal, origin } = factsOf(serverContext);
      if (refusal === undefined || origin === undefined) {
        return;
      }
      const status = httpStatusOf(refusal.code);
      if (status === 401 || status === 403 || status === 429) {
        options.onDenied?.({
          code: refusal.code,
          requestId: origin.requestId,
          ...(refusal.reason === undefined ? {} : { reason: refusal.reason }),
          ...(refusal.principal === undefined ? {} : { principal: refusal.principal }),
          ...(origin.correlationId === undefined ? {} : { correlationId: origin.correlationId }),
          ...(origin.source === undefined ? {} : { source: origin.source }),
        });
      }
      if (refusal.holdSec !== undefined) {
        await options.refusalHold?.hold(refusal.holdSec);
      }
    },
  };
}
