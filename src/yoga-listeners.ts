import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ServerAdapter,
  type ServerAdapterBaseObject,
  type ServerAdapterPlugin,
  sendNodeResponse,
} from '@whatwg-node/server';
import type { ExecutionResult } from 'graphql';
import type { GraphQLParams, Plugin, YogaServer } from 'graphql-yoga';
import type { Logger } from 'pino';
import { errorBodyFor } from './errors.js';
import { NodeRequest } from './node-request.js';

type Hooks = Required<Pick<ServerAdapterPlugin, 'onRequest' | 'onResponse'>>;
type OnRequest = Hooks['onRequest'];
type OnResponse = Hooks['onResponse'];
type OnResultProcess = NonNullable<Plugin['onResultProcess']>;
type ResultProcessor = NonNullable<Parameters<OnResultProcess>[0]['resultProcessor']>;
type FetchApi = YogaServer<Record<string, unknown>, Record<string, unknown>>['fetchAPI'];

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Yoga's JSON request parser's test (`isContentTypeMatch`) for `application/json`. */
function isJsonContentType(header: string | null): boolean {
  const type = header?.split(',')[0];
  return type === 'application/json' || type?.startsWith('application/json;') === true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Parameters Yoga's checks (`checkGraphQLQueryParams`) accept: an object with a string `query`,
 * an object or nothing for `variables` and `extensions`, a string or nothing for
 * `operationName`, and no other parameter with a value.
 */
function isPlainParams(params: unknown): params is GraphQLParams {
  if (!isObject(params) || typeof params['query'] !== 'string') {
    return false;
  }
  for (const key in params) {
    const value = params[key];
    if (value === null || value === undefined || key === 'query') {
      continue;
    }
    if (
      key === 'operationName' ? typeof value !== 'string' : !PARAMS.has(key) || !isObject(value)
    ) {
      return false;
    }
  }
  return true;
}

const PARAMS: ReadonlySet<string> = new Set(['variables', 'extensions']);

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    isObject(value) &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/**
 * The answer to an exception thrown outside GraphQL (by a plugin's hook, or Yoga itself): 500
 * in the gateway's error shape, the error in the log only. The Fetch API server adapter would
 * send the exception's stack trace as the body.
 */
function internalError(fetchAPI: FetchApi, log: Logger, err: unknown): Response {
  log.error({ err }, 'request failed outside GraphQL');
  return new fetchAPI.Response(
    JSON.stringify(errorBodyFor('INTERNAL_SERVER_ERROR', 'Unexpected error.', 500)),
    { status: 500, headers: { 'content-type': 'application/json; charset=utf-8' } },
  );
}

/**
 * Sends what `pending` resolves to, or `internalError` when it rejects, as the adapter's own
 * listener writes a response (one `writeHead`, a string body written as it is).
 */
function sendAnswer(
  pending: Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
  fetchAPI: FetchApi,
  log: Logger,
): void {
  pending
    .catch((err: unknown) => internalError(fetchAPI, log, err))
    .then((response) => sendNodeResponse(response, res, req, true))
    .catch((err: unknown) => {
      log.error({ err }, 'response could not be written');
      res.destroy();
    });
}

export interface GraphqlListenerOptions {
  /** The Yoga server: its `handle` runs request parsing, GraphQL and result processing. */
  readonly yoga: YogaServer<Record<string, unknown>, Record<string, unknown>>;
  /** Every plugin of that server, in its order: their `onRequest` and `onResponse` run here. */
  readonly plugins: readonly unknown[];
  /** The server adapter's `waitUntil`, which Yoga's server context carries. */
  readonly waitUntil: (promise: Promise<unknown>) => void;
  /** The URL a request to the endpoint has (`http://localhost/graphql`). */
  readonly url: string;
  readonly log: Logger;
}

/** A Node request listener, with what the gateway learned of the request before it. */
export type YogaListener = (
  req: IncomingMessage,
  res: ServerResponse,
  facts: Record<string, unknown>,
) => void;

/**
 * The GraphQL endpoint's `POST` served straight from Node's request and response: the same
 * plugins' `onRequest` and `onResponse` hooks, in the same order, around Yoga's own `handle`,
 * as the Fetch API server adapter runs them, without the adapter's `Request` (headers copied,
 * the body as a stream, an `AbortController`), its URL and its promise plumbing per request.
 * Everything else Yoga serves (GraphiQL, preflights, the FHIR REST API) keeps the adapter.
 *
 * An exception from a hook or from Yoga is answered by `internalError`.
 */
export function createGraphqlListener(options: GraphqlListenerOptions): YogaListener {
  const { yoga, url, log } = options;
  const fetchAPI: FetchApi = yoga.fetchAPI;
  const parsedUrl = new URL(url);
  const onRequestHooks: OnRequest[] = [];
  const onResponseHooks: OnResponse[] = [];
  const onResultProcessHooks: OnResultProcess[] = [];
  for (const plugin of options.plugins as (Partial<Hooks> & {
    onResultProcess?: OnResultProcess;
  })[]) {
    if (plugin?.onRequest !== undefined) {
      onRequestHooks.push(plugin.onRequest);
    }
    if (plugin?.onResponse !== undefined) {
      onResponseHooks.push(plugin.onResponse);
    }
    if (plugin?.onResultProcess !== undefined) {
      onResultProcessHooks.push(plugin.onResultProcess);
    }
  }

  /**
   * What Yoga's result processing does (`processResult`): every plugin's `onResultProcess` in
   * order (they choose the media type's processor and replace the result), then the processor,
   * or 406 when none matched.
   */
  async function processResult(
    request: Request,
    executed: ExecutionResult,
    serverContext: Record<string, unknown>,
  ): Promise<Response> {
    let result = executed;
    let resultProcessor: ResultProcessor | undefined;
    let acceptedMediaType = '*/*';
    const acceptableMediaTypes: string[] = [];
    for (const hook of onResultProcessHooks) {
      const done = hook({
        request,
        acceptableMediaTypes,
        result,
        setResult(replaced) {
          result = replaced as ExecutionResult;
        },
        resultProcessor,
        setResultProcessor(processor, mediaType) {
          resultProcessor = processor;
          acceptedMediaType = mediaType;
        },
        serverContext: serverContext as never,
      });
      if (isThenable(done)) {
        await done;
      }
    }
    if (resultProcessor === undefined) {
      return new fetchAPI.Response(null, {
        status: 406,
        statusText: 'Not Acceptable',
        headers: { accept: acceptableMediaTypes.join('; charset=utf-8, ') },
      });
    }
    return resultProcessor(result, fetchAPI, acceptedMediaType);
  }

  /**
   * Yoga's `handle` for what clients send: a JSON object with a string `query` and at most
   * `variables`, `operationName` and `extensions` of the expected types. Its parameters go
   * through Yoga's own `getResultForParams` (parameter checks, parse and validation caches,
   * execution, masked errors); Yoga's request parsing and its promise chain around them are what
   * this saves. Any other body, valid or not, is Yoga's `handle`'s (the body is read once and
   * kept, so Yoga reads the same text).
   */
  async function handle(request: Request, serverContext: Record<string, unknown>) {
    if (!isJsonContentType(request.headers.get('content-type'))) {
      return yoga.handle(request, serverContext as never);
    }
    let params: unknown;
    try {
      params = JSON.parse(await request.text());
    } catch {
      return yoga.handle(request, serverContext as never);
    }
    if (!isPlainParams(params)) {
      return yoga.handle(request, serverContext as never);
    }
    const result = await yoga.getResultForParams({ params, request }, serverContext);
    if (result === undefined || isAsyncIterable(result)) {
      throw new Error('yoga-listeners: a query gave no single result');
    }
    return processResult(request, result, serverContext);
  }

  const replaceRequest = () => {
    throw new Error('yoga-listeners: a plugin replaced the request');
  };
  const replaceHandler = () => {
    throw new Error('yoga-listeners: a plugin replaced the request handler');
  };

  async function respond(
    req: IncomingMessage,
    res: ServerResponse,
    serverContext: Record<string, unknown>,
  ): Promise<Response> {
    const request = new NodeRequest(req, res, url) as unknown as Request;
    let ended: Response | undefined;
    // One argument object for every hook of the request, as the hooks only read it.
    const onRequest: Parameters<OnRequest>[0] = {
      request,
      setRequest: replaceRequest,
      serverContext: serverContext as never,
      fetchAPI,
      url: parsedUrl,
      requestHandler: handle as never,
      setRequestHandler: replaceHandler,
      endResponse(response) {
        ended = response;
      },
    };
    for (const hook of onRequestHooks) {
      const done = hook(onRequest);
      if (isThenable(done)) {
        await done;
      }
      if (ended !== undefined) {
        break;
      }
    }
    const onResponse: Parameters<OnResponse>[0] = {
      request,
      response: ended ?? (await handle(request, serverContext)),
      serverContext: serverContext as never,
      setResponse(replaced) {
        onResponse.response = replaced;
      },
      fetchAPI,
    };
    for (const hook of onResponseHooks) {
      const done = hook(onResponse);
      if (isThenable(done)) {
        await done;
      }
    }
    return onResponse.response;
  }

  return (req, res, facts) => {
    const serverContext: Record<string, unknown> = {
      req,
      res,
      waitUntil: options.waitUntil,
      ...facts,
    };
    sendAnswer(respond(req, res, serverContext), req, res, fetchAPI, log);
  };
}

/**
 * Every other request Yoga serves, through the Fetch API server adapter (its `Request`, hooks and
 * response writing, streamed bodies included), except that an exception is answered by
 * `internalError` rather than by the adapter's own 500 with the stack trace.
 */
export function createAdapterListener(
  adapter: Pick<
    ServerAdapter<Record<string, unknown>, ServerAdapterBaseObject<Record<string, unknown>>>,
    'handleNodeRequestAndResponse' | 'waitUntil'
  >,
  fetchAPI: FetchApi,
  log: Logger,
): YogaListener {
  return (req, res, facts) => {
    const serverContext = { req, res, waitUntil: adapter.waitUntil, ...facts };
    const pending = Promise.resolve().then(() =>
      adapter.handleNodeRequestAndResponse(req, res, serverContext),
    );
    sendAnswer(pending, req, res, fetchAPI, log);
  };
}
