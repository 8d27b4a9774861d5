import type { IncomingMessage, ServerResponse } from 'node:http';
import { useGraphQlJit } from '@envelop/graphql-jit';
import {
  createServerAdapter,
  type ServerAdapterBaseObject,
  type ServerAdapterPlugin,
} from '@whatwg-node/server';
import { type DocumentNode, type GraphQLSchema, Kind } from 'graphql';
import { type createYoga, type Plugin, type YogaLogger, YogaServer } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { AuditTrail } from './audit/audit-trail.js';
import type { PatientEnumerationLimit } from './audit/patient-enumeration.js';
import { useAudit } from './audit/use-audit.js';
import { authenticatedRequest, type RequestFacts } from './auth/request-facts.js';
import { useAuthentication } from './auth/use-authentication.js';
import { useRefusals } from './auth/use-refusals.js';
import { useRequestOrigin } from './auth/use-request-origin.js';
import { useTenantSelection } from './auth/use-tenant-selection.js';
import type { AccessTokenVerifier } from './auth/verify-access-token.js';
import type { Config } from './config.js';
import type { GatewayContext } from './context.js';
import type { FhirDefinitions } from './fhir/definitions.js';
import {
  followsReferences,
  resourceTypesOf,
  selectedElements,
} from './graphql/selected-elements.js';
import { useOperationOutcome } from './graphql/use-operation-outcome.js';
import { useShapingDirectives } from './graphql/use-shaping-directives.js';
import { useSingleValueLists } from './graphql/use-single-value-lists.js';
import { useWorkBudget } from './graphql/use-work-budget.js';
import type { GatewayMetrics } from './observability/metrics.js';
import { NO_OPERATION } from './observability/operation-label.js';
import { useMetrics } from './observability/use-metrics.js';
import type { ListLimits } from './repository/search-request.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from './repository/work-budget.js';
import { createRequestContext, type RequestContextDeps } from './request-context.js';
import { smartConfiguration } from './rest/smart-configuration.js';
import { useFhirGraphql } from './rest/use-fhir-graphql.js';
import { useFhirRest } from './rest/use-fhir-rest.js';
import { NO_TRUSTED_PROXIES, type TrustedProxies } from './security/client-address.js';
import { createFrontDoor, type NodeHandler } from './security/front-door.js';
import type { RateLimiter } from './security/rate-limiter.js';
import { createRefusalHold } from './security/refusal-hold.js';
import { useQueryLimits } from './security/use-query-limits.js';
import { useRateLimits } from './security/use-rate-limits.js';
import { type ResourceBudget, useResourceBudget } from './security/use-resource-budget.js';
import { useSourceLimit } from './security/use-source-limit.js';
import type { TenantPolicies } from './tenancy/breakers.js';
import type { ConfigResolver } from './tenancy/config-resolver.js';
import { createHeavyRequests, type HeavyRequestOptions } from './tenancy/heavy-requests.js';
import type { TenantPoolManager } from './tenancy/pool-manager.js';
import type { StatementListener } from './tenancy/tenant-scope.js';
import { graphiqlAssets } from './web/graphiql-assets.js';
import {
  GRAPHIQL_WELCOME,
  type GraphiQLPageOptions,
  renderGraphiQLPage,
} from './web/graphiql-page.js';
import { useSlicedAnswers } from './web/sliced-answers.js';
import { createAdapterListener, createGraphqlListener } from './yoga-listeners.js';

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
  /** What GraphiQL opens with (the demo's token and examples), asked per page load; else nothing. */
  readonly graphiqlOptions?: () => GraphiQLPageOptions | Promise<GraphiQLPageOptions>;
  /** Browser origins allowed to call the endpoint (CORS, no credentials). @default none: closed */
  readonly corsOrigins?: readonly string[];
  /** Failed token checks per client address, checked before verification; absent: off. */
  readonly authFailureLimit?: Config['authFailureLimit'];
  /** Proxies whose `X-Forwarded-For` names the client (`client-address.ts`). @default none */
  readonly trustedProxies?: TrustedProxies;
  /** Per-user and per-tenant request rates; absent means unlimited (tests). */
  readonly rateLimits?: Config['rateLimits'];
  /** The per-tenant limiter, kept by `main.ts` so an offboarded tenant's bucket can be dropped. */
  readonly tenantLimiter?: RateLimiter;
  /** Hold throttling refusals (see `refusal-hold.ts`); absent = answer them at once. */
  readonly refusalHold?: Config['refusalHold'];
  /** Extra GET routes (the demo's JWKS). */
  readonly routes?: readonly Route[];
  /** Sees every tenant statement: tests count them, metrics time them. */
  readonly onStatement?: StatementListener;
  /** DataLoader batching and caching; false only for the benchmark's naive variant. @default true */
  readonly batchLoads?: boolean;
  /** Prometheus metrics: requests, latency and tenant statements are recorded when present. */
  readonly metrics?: GatewayMetrics;
  /** The HIPAA audit trail: PHI reads await it (no audit, no data), denials are recorded. */
  readonly audit: AuditTrail;
  /**
   * Worst-case resources per request, refused above (`use-resource-budget.ts`), and the cap on
   * resources built while the answer is (`work-budget.ts`); absent: neither.
   */
  readonly resourceBudget?: ResourceBudget;
  /** Bytes of one answer's JSON at most (`work-budget.ts`). @default 16 MiB */
  readonly maxResponseBytes?: number;
  /** Per-tenant bulkheads for heavy requests (`heavy-requests.ts`); absent: off. */
  readonly heavyRequests?: HeavyRequestOptions;
  /** Per-user distinct-patient limit (C48); absent: off. */
  readonly patientLimit?: PatientEnumerationLimit;
  /** The FHIR REST API (`src/rest`); absent: only GraphQL is served. */
  readonly fhir?: FhirRestConfig;
}

/** What the FHIR REST API needs besides what GraphQL has. */
export interface FhirRestConfig {
  /** The REST base path. @default '/fhir' */
  readonly base: string;
  readonly defs: FhirDefinitions;
  /** The resource types the gateway serves: the schema's. */
  readonly resourceTypes: readonly string[];
  readonly limits: ListLimits;
  /** The token issuer, for the CapabilityStatement's security and the SMART configuration. */
  readonly issuer?: string;
  /** `FHIRGATE_PUBLIC_BASE_URL`: where clients reach the gateway; absent: each request's origin. */
  readonly publicBaseUrl?: string;
}

/** A Node request listener: the front door (`security/front-door.ts`), then Yoga. */
export type Gateway = (req: IncomingMessage, res: ServerResponse) => void;

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

const HEALTH_ROUTE: Route = {
  method: 'GET',
  path: '/healthz',
  handle: () =>
    new Response(JSON.stringify({ status: 'ok' }), {
      headers: { 'content-type': 'application/json' },
    }),
};

function useRoutes(routes: readonly Route[]): Plugin {
  const table = new Map([HEALTH_ROUTE, ...routes].map((r) => [r.path, r]));
  return {
    async onRequest({ request, url, endResponse }) {
      const route = table.get(url.pathname);
      if (route !== undefined && request.method === route.method) {
        endResponse(await route.handle(request));
      }
    },
  };
}

/** SMART discovery at the server root too, where some clients look first. */
function smartRoutes(fhir: FhirRestConfig | undefined): Route[] {
  const issuer = fhir?.issuer;
  if (issuer === undefined) {
    return [];
  }
  return [
    {
      method: 'GET',
      path: '/.well-known/smart-configuration',
      handle: () =>
        new Response(JSON.stringify(smartConfiguration(issuer)), {
          headers: { 'content-type': 'application/json; charset=utf-8' },
        }),
    },
  ];
}

/**
 * Yoga's `cors` option: closed (`false`) without configured origins, since Yoga's default
 * answers every origin, credentials allowed. With origins, a listed one may POST with the
 * headers a GraphQL client sends and no credentials (the token travels in `Authorization`,
 * never in a cookie); any other origin gets no CORS header, so the browser withholds the answer.
 */
export function corsOptions(origins: readonly string[]): YogaCors {
  if (origins.length === 0) {
    return false;
  }
  const allowed = new Set(origins);
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (origin === null || !allowed.has(origin)) {
      return false;
    }
    return {
      origin: [origin],
      methods: ['POST'],
      allowedHeaders: ['authorization', 'content-type', 'accept', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after'],
      credentials: false,
      maxAge: 600,
    };
  };
}

type YogaCors = NonNullable<Parameters<typeof createYoga>[0]>['cors'];

/**
 * Tells the request's repository which elements the operation reads (`selected-elements.ts`), so
 * the mapping builds only those and skips child tables nobody selected, and whether it follows
 * references (else nothing read is kept for later reads by id). Execution has the
 * document; the context (and its repository) is made before it.
 */
function useSelectedElements(resourceTypes: ReadonlySet<string>): Plugin<GatewayContext> {
  return {
    onExecute({ args }) {
      const { repository } = args.contextValue;
      repository.selectElements(selectedElements(args.schema, args.document, resourceTypes));
      repository.keepReads(followsReferences(args.schema, args.document));
    },
  };
}

function hasOneOperation(document: DocumentNode): boolean {
  let operations = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      operations += 1;
    }
  }
  return operations === 1;
}

/**
 * The gateway as a fetch-style handler: Yoga with authentication in front, a fresh context per
 * request and the routes beside it. It never listens; `main.ts` (or a test) gives it a port.
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { fhir } = deps;
  // One hold for every throttling refusal: the access plugins' and the heavy-request bulkheads'.
  const refusalHold =
    deps.refusalHold === undefined ? undefined : createRefusalHold(deps.refusalHold);
  // In front of Yoga, each adding what it learned to the request's context (request-facts.ts):
  // where the request came from, failed authentications per address, the verified token, the
  // per-user and per-tenant rates, then the tenant; refusals are audited and held on the way out.
  const access: Plugin[] = [
    useRequestOrigin({
      graphqlEndpoint: GRAPHQL_ENDPOINT,
      ...(fhir === undefined
        ? {}
        : {
            fhirBase: fhir.base,
            // Without a token: the server-level CapabilityStatement and SMART discovery only.
            anonymousPaths: new Set([
              `${fhir.base}/metadata`,
              `${fhir.base}/.well-known/smart-configuration`,
            ]),
          }),
      graphiql: deps.graphiql,
      trustedProxies: deps.trustedProxies ?? NO_TRUSTED_PROXIES,
    }),
    useRefusals({
      onDenied: (denial) => deps.audit.denied(denial),
      ...(refusalHold === undefined ? {} : { refusalHold }),
    }),
    ...(deps.authFailureLimit === undefined ? [] : [useSourceLimit(deps.authFailureLimit)]),
    useAuthentication({
      verifier: deps.verifier,
      log: deps.log,
      graphqlEndpoint: GRAPHQL_ENDPOINT,
    }),
    useRateLimits({
      log: deps.log,
      ...(deps.rateLimits === undefined ? {} : { limits: deps.rateLimits }),
      ...(deps.tenantLimiter === undefined ? {} : { tenantLimiter: deps.tenantLimiter }),
    }),
    useTenantSelection({
      resolver: deps.resolver,
      log: deps.log,
      // A full or open tenant is refused before parsing (503 + Retry-After), not in its resolver.
      tenantRefusal: (clientId) => deps.policies.refusal(clientId),
    }),
  ];
  const audit = useAudit({
    trail: deps.audit,
    ...(deps.patientLimit === undefined ? {} : { patientLimit: deps.patientLimit }),
  });
  const { metrics, onStatement: listener } = deps;
  const onStatement: StatementListener | undefined =
    metrics === undefined
      ? listener
      : (event) => {
          listener?.(event);
          metrics.onStatement(event);
        };
  const resourceTypes = resourceTypesOf(deps.schema);
  // GraphiQL's files come from the installed package, never from a CDN (see graphiql-assets.ts).
  const graphiql = deps.graphiql ? graphiqlAssets() : undefined;
  const graphiqlOptions = deps.graphiqlOptions;
  const routes = [...(graphiql?.routes ?? []), ...(deps.routes ?? []), ...smartRoutes(fhir)];
  const heavy =
    deps.heavyRequests === undefined
      ? undefined
      : createHeavyRequests(deps.heavyRequests, refusalHold);
  if (heavy !== undefined) {
    metrics?.setHeavySource(() => ({ lightInFlight: heavy.light.inFlight, ...heavy.stats() }));
  }
  const contextDeps: RequestContextDeps = {
    pools: deps.pools,
    policies: deps.policies,
    onStatement,
    batchLoads: deps.batchLoads !== false,
    beginAudit: (scope) => audit.begin(scope),
    work: {
      maxResources: deps.resourceBudget?.maxResources ?? Number.POSITIVE_INFINITY,
      maxBytes: deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      heavy,
    },
  };
  const yogaServer = new YogaServer<Record<string, unknown>, GatewayContext>({
    schema: deps.schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    // Pinned: Yoga would put original messages and stacks in responses when NODE_ENV=development.
    maskedErrors: { isDev: false },
    logging: toYogaLogger(deps.log),
    graphiql:
      graphiql === undefined
        ? false
        : async (): Promise<GraphiQLPageOptions> => ({
            title: 'fhirgate',
            shouldPersistHeaders: false,
            query: GRAPHIQL_WELCOME,
            ...(await graphiqlOptions?.()),
          }),
    ...(graphiql === undefined
      ? {}
      : { renderGraphiQL: (options) => renderGraphiQLPage(graphiql.urls, options) }),
    landingPage: false,
    cors: corsOptions(deps.corsOrigins ?? []),
    multipart: false,
    batching: false,
    // The front door already refuses a GraphQL POST without a Content-Length of at most 64 KiB,
    // and Node's parser cuts a body at its declared length. Yoga's own limit would pipe every body
    // through a TransformStream (an AbortController and a DOMException per request) to enforce a
    // 25 MB cap that can never be reached.
    maxRequestBodySize: false,
    // useOperationOutcome works on the final result, so it sees masked errors too.
    plugins: [
      // First, so its clock starts before authentication and it sees what authentication ends.
      ...(metrics === undefined
        ? []
        : [useMetrics(metrics, { graphqlEndpoint: GRAPHQL_ENDPOINT })]),
      useRoutes(routes),
      // Before authentication: `$graphql` becomes a POST to the GraphQL endpoint.
      ...(fhir === undefined
        ? []
        : [useFhirGraphql({ base: fhir.base, graphqlEndpoint: GRAPHQL_ENDPOINT })]),
      ...access,
      ...(fhir === undefined
        ? []
        : [
            useFhirRest({
              env: {
                defs: fhir.defs,
                served: new Set(fhir.resourceTypes),
                limits: fhir.limits,
                maxResources: deps.resourceBudget?.maxResources,
                base: fhir.base,
                issuer: fhir.issuer,
                publicBaseUrl: fhir.publicBaseUrl,
              },
              log: deps.log,
              createContext: (state) => createRequestContext(contextDeps, state),
              completeAudit: (requestAudit, codes, count) =>
                audit.complete(requestAudit, codes, count),
            }),
          ]),
      ...useQueryLimits(),
      useSingleValueLists(),
      // Before the executor is chosen and the selected elements are read: it swaps in the
      // document with the hidden fields the shaping directives read.
      useShapingDirectives(),
      // Before graphql-jit takes over execution: an operation over budget runs nothing.
      ...(deps.resourceBudget === undefined
        ? []
        : [useResourceBudget(deps.resourceBudget, resourceTypes)]),
      // Compiled execution, cached per parsed document (Yoga caches parse and validate by query
      // text, so a repeated query reuses both). Runs after validation, so armor's limits hold.
      useGraphQlJit(
        {},
        {
          onError: () => deps.log.warn('graphql-jit could not compile an operation'),
          // The plugin caches one compiled operation per document and ignores operationName, so
          // a document with several operations (GraphiQL's tabs) would always run the first one.
          enableIf: (args) => hasOneOperation(args.document),
        },
      ),
      useSelectedElements(resourceTypes),
      // Before the audit: an answer over a cap is audited as the error it becomes.
      useWorkBudget(),
      // Before useOperationOutcome: an AUDIT_UNAVAILABLE result gets its OperationOutcome too.
      audit.plugin,
      useOperationOutcome(),
      // Last: every other onResponse hook has read or replaced the answer before it is cut.
      useSlicedAnswers(),
    ],
    context: (initial): GatewayContext => {
      const state = authenticatedRequest(initial);
      if (state === undefined) {
        // The plugins in front of Yoga end every request they could not authenticate.
        throw new Error('createGateway: request reached execution without authentication');
      }
      return createRequestContext(contextDeps, state);
    },
  });
  // What createYoga does: the Fetch API server adapter around Yoga, running every plugin's
  // onRequest and onResponse. It serves everything but the endpoint's POST (GraphiQL,
  // preflights, the FHIR REST API); yoga-listeners.ts runs the same hooks for that one.
  const plugins = (yogaServer as unknown as { plugins: ServerAdapterPlugin<RequestFacts>[] })
    .plugins;
  const yoga = createServerAdapter<RequestFacts, ServerAdapterBaseObject<RequestFacts>>(
    yogaServer as unknown as ServerAdapterBaseObject<RequestFacts>,
    { fetchAPI: yogaServer.fetchAPI, plugins },
  );
  const graphqlPost = createGraphqlListener({
    yoga: yogaServer as unknown as YogaServer<Record<string, unknown>, Record<string, unknown>>,
    plugins,
    waitUntil: (promise) => yoga.waitUntil(promise as Promise<void>),
    url: `http://localhost${GRAPHQL_ENDPOINT}`,
    log: deps.log,
  });
  const throughAdapter = createAdapterListener(
    yoga as unknown as Parameters<typeof createAdapterListener>[0],
    yogaServer.fetchAPI,
    deps.log,
  );
  const serve = (req: IncomingMessage, res: ServerResponse, facts: RequestFacts) => {
    // The front door has cut the query string off the endpoint's URL.
    if (req.method === 'POST' && req.url === GRAPHQL_ENDPOINT) {
      graphqlPost(req, res, facts as Record<string, unknown>);
      return;
    }
    throughAdapter(req, res, facts as Record<string, unknown>);
  };
  // With heavy requests scheduled, every request the front door lets through counts as light
  // from here to its response's `close` (which always comes) unless it turns out heavy; the
  // context carries its ticket to the work budget that admits it (`light-first.ts`).
  const next: NodeHandler =
    heavy === undefined
      ? (req, res) => serve(req, res, {})
      : (req, res) => {
          const lightTicket = heavy.light.begin();
          res.once('close', () => lightTicket.end());
          serve(req, res, { lightTicket });
        };
  return createFrontDoor(
    {
      endpoint: GRAPHQL_ENDPOINT,
      ...(fhir === undefined ? {} : { fhirBase: fhir.base }),
      routes: new Set([HEALTH_ROUTE.path, ...routes.map((r) => r.path)]),
      graphiql: deps.graphiql,
      cors: (deps.corsOrigins ?? []).length > 0,
      ...(metrics === undefined
        ? {}
        : {
            onRefused: (code, durationMs) =>
              metrics.recordRequest({
                tenantHash: undefined,
                operation: NO_OPERATION,
                outcome: code,
                durationMs,
              }),
          }),
    },
    next,
  );
}
