import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { RequestAudit } from '../audit/use-audit.js';
import { type AuthenticatedRequest, authenticatedRequest } from '../auth/request-facts.js';
import type { GatewayContext } from '../context.js';
import { isGatewayError } from '../errors.js';
import { resourceNotSupported } from '../repository/access-policy.js';
import { tenantCapabilities } from '../repository/tenant-capabilities.js';
import { capabilityStatement } from './capability-statement.js';
import {
  budgetedResponse,
  errorResponse,
  fhirResponse,
  notModifiedOr,
  outcomeResponse,
} from './fhir-response.js';
import { readInstance } from './read-handler.js';
import { publicFhirBase, type RestEnvironment } from './rest-environment.js';
import { searchType } from './search-handler.js';
import { smartConfiguration } from './smart-configuration.js';

/** Largest `POST [type]/_search` form body. @default 65536 (64 KiB), as for GraphQL */
export const MAX_SEARCH_BODY_BYTES = 64 * 1024;

const TYPE = /^[A-Z][A-Za-z]{0,63}$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** The media types a FHIR JSON answer satisfies (R4 http.html#mime-type, plus JSON itself). */
const JSON_RANGES = new Set([
  '*/*',
  'application/*',
  'application/fhir+json',
  'application/json',
  'application/json+fhir',
]);
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json']);

/** Whether the client accepts FHIR JSON (`Accept` and `_format`); else 406. */
function acceptsJson(request: Request, params: URLSearchParams): boolean {
  const format = params.get('_format');
  if (format !== null) {
    return JSON_FORMATS.has(format.trim().toLowerCase());
  }
  const accept = request.headers.get('accept');
  if (accept === null || accept.trim() === '') {
    return true;
  }
  return accept.split(',').some((range) => {
    const [type = '', ...attrs] = range.split(';').map((p) => p.trim().toLowerCase());
    const q = attrs.find((a) => a.startsWith('q='));
    return JSON_RANGES.has(type) && (q === undefined || Number(q.slice(2)) > 0);
  });
}

export interface FhirRestDeps {
  readonly env: RestEnvironment;
  readonly log: Logger;
  /** The request's context: the same factory GraphQL uses. */
  createContext(state: AuthenticatedRequest): GatewayContext;
  /** Ends the request's audit (`useAudit().complete`): an error replaces the answer. */
  completeAudit(
    audit: RequestAudit,
    errorCodes: readonly (string | undefined)[],
    errorCount: number,
  ): Promise<GraphQLError | undefined>;
}

/** Whether `pathname` is under the REST base. */
export function isUnderBase(base: string, pathname: string): boolean {
  return pathname === base || pathname.startsWith(`${base}/`);
}

/** The `Type`, `Type/id` and `Type/_search` routes, or `metadata`. */
type Route =
  | { readonly kind: 'metadata' }
  | { readonly kind: 'smart' }
  | { readonly kind: 'search'; readonly type: string; readonly post: boolean }
  | { readonly kind: 'read'; readonly type: string; readonly id: string }
  | { readonly kind: 'none'; readonly allow?: string };

function routeOf(segments: readonly string[], method: string): Route {
  const [first, second, third] = segments;
  if (segments.length === 1 && first === 'metadata') {
    return method === 'GET' ? { kind: 'metadata' } : { kind: 'none', allow: 'GET' };
  }
  if (segments.length === 2 && first === '.well-known' && second === 'smart-configuration') {
    return method === 'GET' ? { kind: 'smart' } : { kind: 'none', allow: 'GET' };
  }
  if (first === undefined || !TYPE.test(first) || third !== undefined) {
    return { kind: 'none' };
  }
  if (second === undefined) {
    return method === 'GET'
      ? { kind: 'search', type: first, post: false }
      : { kind: 'none', allow: 'GET' };
  }
  if (second === '_search') {
    return method === 'POST'
      ? { kind: 'search', type: first, post: true }
      : { kind: 'none', allow: 'POST' };
  }
  if (ID.test(second)) {
    return method === 'GET'
      ? { kind: 'read', type: first, id: second }
      : { kind: 'none', allow: 'GET' };
  }
  return { kind: 'none' };
}

/** The form body of `POST [type]/_search`, within the HTTP rules GraphQL bodies follow. */
async function formBody(request: Request): Promise<URLSearchParams | Response> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    return outcomeResponse(
      'UNSUPPORTED_MEDIA_TYPE',
      'A _search body must be application/x-www-form-urlencoded.',
    );
  }
  if (request.headers.get('content-encoding') !== null) {
    return outcomeResponse('UNSUPPORTED_MEDIA_TYPE', 'Request bodies must not be compressed.');
  }
  const declared = request.headers.get('content-length');
  if (declared === null || !/^\d{1,12}$/.test(declared)) {
    return outcomeResponse('LENGTH_REQUIRED', 'A _search body must declare its Content-Length.');
  }
  if (Number(declared) > MAX_SEARCH_BODY_BYTES) {
    return outcomeResponse(
      'PAYLOAD_TOO_LARGE',
      `Request bodies are limited to ${MAX_SEARCH_BODY_BYTES} bytes.`,
    );
  }
  return new URLSearchParams(await request.text());
}

/**
 * The FHIR REST API under `env.base`, after authentication (the same plugin as GraphQL's, so
 * the same token checks, tenant selection, rate limits and tenant refusals hold): read, search
 * (GET and POST `_search`), `metadata` and the SMART configuration. Every read goes through the
 * request's repository, made by the same context factory as GraphQL's, and a request that read
 * data answers only once its AuditEvent is written (no audit, no data). Errors are
 * OperationOutcomes with the status the error table gives their code; refusals that
 * authentication answered in GraphQL's shape are rewritten into the same form.
 */
export function useFhirRest(deps: FhirRestDeps): Plugin {
  const { env, log } = deps;

  async function handle(request: Request, url: URL, serverContext: unknown): Promise<Response> {
    const segments = url.pathname.slice(env.base.length + 1).split('/');
    const route = routeOf(
      url.pathname === env.base ? [] : segments,
      request.method === 'HEAD' ? 'GET' : request.method,
    );
    if (route.kind === 'none') {
      return route.allow === undefined
        ? outcomeResponse('NOT_FOUND', 'Nothing is served at this path.')
        : outcomeResponse('METHOD_NOT_ALLOWED', `This path answers ${route.allow} only.`, {
            allow: route.allow,
          });
    }
    if (!acceptsJson(request, url.searchParams)) {
      return outcomeResponse('NOT_ACCEPTABLE', 'This server answers application/fhir+json only.');
    }
    const baseUrl = publicFhirBase(env, url);
    if (route.kind === 'smart') {
      return env.issuer === undefined
        ? outcomeResponse('NOT_FOUND', 'Nothing is served at this path.')
        : new Response(JSON.stringify(smartConfiguration(env.issuer)), {
            headers: { 'content-type': 'application/json; charset=utf-8' },
          });
    }
    const state = authenticatedRequest(serverContext);
    if (state === undefined) {
      if (route.kind === 'metadata') {
        return fhirResponse(capabilityStatement(baseUrl, env.issuer, undefined));
      }
      // Authentication ends every request it could not authenticate before this plugin.
      throw new Error('useFhirRest: request reached a handler without authentication');
    }
    let params = url.searchParams;
    if (route.kind === 'search' && route.post) {
      const body = await formBody(request);
      if (body instanceof Response) {
        return body;
      }
      // FHIR: parameters of the URL and of the body are one search.
      params = new URLSearchParams([...url.searchParams, ...body]);
    }
    const ctx = deps.createContext(state);
    let response: Response;
    let code: string | undefined;
    try {
      if (route.kind === 'metadata') {
        response = fhirResponse(
          capabilityStatement(
            baseUrl,
            env.issuer,
            tenantCapabilities(ctx.repository, env.defs, env.served),
          ),
        );
      } else if (route.kind === 'read') {
        if (!env.served.has(route.type)) {
          throw resourceNotSupported(route.type);
        }
        response = await readInstance(ctx, route.type, route.id, params);
      } else {
        if (!env.served.has(route.type)) {
          throw resourceNotSupported(route.type);
        }
        response = await budgetedResponse(
          ctx.repository.work,
          await searchType(ctx, env, route.type, params, baseUrl),
        );
      }
      // A cap passed in work whose error something swallowed still ends the request.
      const exceeded = ctx.repository.work.exceeded;
      if (exceeded !== undefined) {
        throw exceeded;
      }
    } catch (err) {
      if (!isGatewayError(err)) {
        log.error({ err }, 'fhir rest handler failed');
      }
      code = isGatewayError(err) ? err.code : 'INTERNAL_SERVER_ERROR';
      response = errorResponse(err);
    }
    // The heavy-request slot, if the search took one, is free once the answer is written.
    ctx.repository.work.end();
    const refusal = await deps.completeAudit(ctx.audit, [code], code === undefined ? 0 : 1);
    // No audit, no data: an answer that carries none (an error) goes out as it is.
    if (refusal !== undefined && code === undefined) {
      return errorResponse(refusal);
    }
    return route.kind === 'read' ? notModifiedOr(request, response) : response;
  }

  async function serve(
    request: Request,
    url: URL,
    serverContext: unknown,
    endResponse: (response: Response) => void,
  ): Promise<void> {
    try {
      endResponse(await handle(request, url, serverContext));
    } catch (err) {
      log.error({ err }, 'fhir rest request failed');
      endResponse(outcomeResponse('INTERNAL_SERVER_ERROR', 'Unexpected error.'));
    }
  }

  async function asFhirOutcome(response: Response, setResponse: (response: Response) => void) {
    let body: unknown;
    try {
      body = await response.clone().json();
    } catch {
      return;
    }
    const resource = (body as { errors?: Array<{ extensions?: { resource?: unknown } }> })
      .errors?.[0]?.extensions?.resource;
    if (resource === undefined) {
      return;
    }
    const headers = new Headers(response.headers);
    headers.set('content-type', 'application/fhir+json; charset=utf-8');
    headers.delete('content-length');
    setResponse(new Response(JSON.stringify(resource), { status: response.status, headers }));
  }

  /** The request's URL when its path is at or under the FHIR base; a cheap test first. */
  function fhirUrlOf(request: Request): URL | undefined {
    if (!request.url.includes(env.base)) {
      return undefined;
    }
    const url = new URL(request.url);
    return isUnderBase(env.base, url.pathname) ? url : undefined;
  }

  // Both hooks see every request Yoga serves and return at once, without a promise, when it is
  // not one of the FHIR base's.
  return {
    onRequest({ request, serverContext, endResponse }) {
      // The request's own URL, not the hook's `url`: `$graphql` has replaced the request by then.
      const url = fhirUrlOf(request);
      if (url === undefined) {
        return;
      }
      return serve(request, url, serverContext, endResponse);
    },
    onResponse({ request, response, setResponse }) {
      // Authentication answers its refusals in GraphQL's shape, with the OperationOutcome in
      // `extensions.resource`: a FHIR client gets that outcome as the body.
      if (
        response.status < 400 ||
        fhirUrlOf(request) === undefined ||
        !(response.headers.get('content-type') ?? '').startsWith('application/json')
      ) {
        return;
      }
      return asFhirOutcome(response, setResponse);
    },
  };
}
