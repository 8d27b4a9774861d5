import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { factsOf } from '../auth/request-facts.js';
import type { GatewayMetrics } from './metrics.js';
import { NO_OPERATION, operationLabel } from './operation-label.js';

interface RequestState {
  readonly startedAt: number;
  operation: string;
  outcome: string | undefined;
}

/** The outcome of a result: `ok`, or the first error's code (as `useOperationOutcome` derives it). */
function outcomeOf(errors: readonly unknown[] | undefined): string {
  const first = errors?.[0] as Partial<GraphQLError> | undefined;
  if (first === undefined) {
    return 'ok';
  }
  const code = first.extensions?.['code'];
  if (typeof code === 'string') {
    return code;
  }
  return first.path === undefined ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR';
}

/**
 * The code of an error response: written before GraphQL ran (authentication, request limits) or
 * replaced after it (audit).
 */
async function outcomeOfResponse(response: Response): Promise<string> {
  if (!(response.headers.get('content-type') ?? '').includes('json')) {
    return `HTTP_${response.status}`;
  }
  try {
    // These bodies are a few hundred bytes of our own JSON; the client reads the original.
    const body = (await response.clone().json()) as { errors?: unknown[] };
    return outcomeOf(body.errors);
  } catch {
    return `HTTP_${response.status}`;
  }
}

/**
 * Counts and times every request to the GraphQL endpoint. Goes first in the plugin list, so its
 * clock starts before authentication and it sees requests that authentication ends. The tenant
 * (its hash) and a refusal come from the request's context (`auth/request-facts.ts`): a request
 * the plugins in front of Yoga refused is counted with operation `none` and the refusal's code,
 * without cloning and parsing its body back (a flood of refusals should cost as little as
 * possible).
 */
export function useMetrics(
  metrics: GatewayMetrics,
  options: { readonly graphqlEndpoint: string },
): Plugin {
  const states = new WeakMap<Request, RequestState>();
  return {
    onRequest({ request, url }) {
      if (url.pathname === options.graphqlEndpoint) {
        states.set(request, {
          startedAt: performance.now(),
          operation: NO_OPERATION,
          outcome: undefined,
        });
      }
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request } | undefined)?.request;
      const state = request === undefined ? undefined : states.get(request);
      if (state !== undefined) {
        state.operation = operationLabel(args.document, args.operationName);
      }
    },
    onResultProcess({ request, result }) {
      const state = states.get(request);
      if (state !== undefined && !Array.isArray(result) && 'errors' in result) {
        state.outcome = outcomeOf(result.errors as readonly unknown[] | undefined);
      } else if (state !== undefined) {
        state.outcome = 'ok';
      }
    },
    async onResponse({ request, response, serverContext }) {
      const state = states.get(request);
      if (state === undefined) {
        return;
      }
      states.delete(request);
      const { refusal, tenantSelection } = factsOf(serverContext);
      if (refusal !== undefined) {
        metrics.recordRequest({
          tenantHash: refusal.tenantHash,
          operation: state.operation,
          outcome: refusal.code,
          durationMs: performance.now() - state.startedAt,
        });
        return;
      }
      // A status of 400 or more is authoritative: a plugin after this one may have replaced the
      // result (the audit's 503 AUDIT_UNAVAILABLE), and such bodies carry errors and no data.
      const outcome =
        response.status >= 400 ? await outcomeOfResponse(response) : (state.outcome ?? 'ok');
      metrics.recordRequest({
        tenantHash: tenantSelection?.runtime.tenantHash,
        operation: state.operation,
        outcome,
        durationMs: performance.now() - state.startedAt,
      });
    },
  };
}
