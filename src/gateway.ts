import type { GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaLogger, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { useAuthentication } from './auth/use-authentication.js';
import type { AccessTokenVerifier } from './auth/verify-access-token.js';
import type { Config } from './config.js';
import type { GatewayContext } from './context.js';
import { createRequestLoaders } from './graphql/loaders.js';
import { useOperationOutcome } from './graphql/use-operation-outcome.js';
import { useQueryLimits } from './security/use-query-limits.js';
import { useRequestLimits } from './security/use-request-limits.js';
import type { TenantPolicies } from './tenancy/breakers.js';
import type { ConfigResolver } from './tenancy/config-resolver.js';
import type { TenantPoolManager } from './tenancy/pool-manager.js';
import { createTenantScope, type StatementListener } from './tenancy/tenant-scope.js';

export const GRAPHQL_ENDPOINT = '/graphql';

/** A plain HTTP route served beside GraphQL (health, the demo's JWKS). */
export interface Route {
  readonly method: 'GET';
  readonly path: string;
  handle(request: Request): Response | Promise<Response>;
}

export interface GatewayDeps {
  readonly schema: GraphQLSchema;
  readonly log: Logger;
  readonly verifier: AccessTokenVerifier;
  readonly resolver: ConfigResolver;
  readonly pools: TenantPoolManager;
  /** One resilience policy per tenant (bulkhead, breaker, timeout). */
  readonly policies: TenantPolicies;
  /** Serve GraphiQL at the GraphQL endpoint for browsers. @default true */
  readonly graphiql: boolean;
  /** Per-user and per-tenant request rates; absent means unlimited (tests). */
  readonly rateLimits?: Config['rateLimits'];
  /** Extra GET routes (the demo's JWKS). */
  readonly routes?: readonly Route[];
  /** Sees every tenant statement: tests count them, metrics time them. */
  readonly onStatement?: StatementListener;
}

export type Gateway = YogaServerInstance<Record<string, unknown>, GatewayContext>;

/**
 * Yoga's log lines go through pino with nothing but a fixed message: Yoga hands masked errors and
 * request parameters to its logger, and both may carry PHI.
 */
export function toYogaLogger(log: Logger): YogaLogger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      const err = args.find((a) => a instanceof Error);
      const first = args[0];
      const msg = typeof first === 'string' && first.length <= 120 ? first : 'yoga';
      if (err !== undefined) {
        log[level]({ err }, msg === 'yoga' ? 'yoga error' : msg);
      } else {
        log[level](msg);
      }
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function useRoutes(routes: readonly Route[]): Plugin {
  const health: Route = {
    method: 'GET',
    path: '/healthz',
    handle: () =>
      new Response(JSON.stringify({ status: 'ok' }), {
        headers: { 'content-type': 'application/json' },
      }),
  };
  const table = new Map([health, ...routes].map((r) => [r.path, r]));
  return {
    async onRequest({ request, url, endResponse }) {
      const route = table.get(url.pathname);
      if (route !== undefined && request.method === route.method) {
        endResponse(await route.handle(request));
      }
    },
  };
}

/**
 * The gateway as a fetch-style handler: Yoga with authentication in front, a fresh context per
 * request and the routes beside it. It never listens; `main.ts` (or a test) gives it a port.
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const auth = useAuthentication({
    verifier: deps.verifier,
    resolver: deps.resolver,
    log: deps.log,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    graphiql: deps.graphiql,
    ...(deps.rateLimits === undefined ? {} : { rateLimits: deps.rateLimits }),
  });
  return createYoga<Record<string, unknown>, GatewayContext>({
    schema: deps.schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    // Pinned: Yoga would put original messages and stacks in responses when NODE_ENV=development.
    maskedErrors: { isDev: false },
    logging: toYogaLogger(deps.log),
    graphiql: deps.graphiql ? { title: 'fhirgate', shouldPersistHeaders: false } : false,
    landingPage: false,
    multipart: false,
    batching: false,
    // useOperationOutcome works on the final result, so it sees masked errors too.
    plugins: [
      useRoutes(deps.routes ?? []),
      useRequestLimits({ graphqlEndpoint: GRAPHQL_ENDPOINT }),
      auth.plugin,
      ...useQueryLimits(),
      useOperationOutcome(),
    ],
    context: ({ request }): GatewayContext => {
      const state = auth.authenticated(request);
      if (state === undefined) {
        // The authentication plugin ends every request it could not authenticate.
        throw new Error('createGateway: request reached execution without authentication');
      }
      const tenant = createTenantScope({
        runtime: state.runtime,
        pools: deps.pools,
        policies: deps.policies,
        log: state.log,
        onStatement: deps.onStatement,
      });
      return {
        requestId: state.requestId,
        principal: state.principal,
        tenant,
        loaders: createRequestLoaders(tenant),
        log: state.log,
      };
    },
  });
}
