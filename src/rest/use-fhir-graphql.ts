import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type ErrorCode, errorBodyFor, httpStatusOf, restStatusOf } from '../errors.js';

/** Largest `$graphql` POST body; the same as the GraphQL endpoint's. */
const MAX_BODY_BYTES = 64 * 1024;

/** The alias the focal resource is read under in an instance-level `$graphql` document. */
const FOCAL = 'focal';

const TYPE = /^[A-Z][A-Za-z]{0,63}$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** A GraphQL-shaped refusal, as the GraphQL endpoint answers its own. */
function refuse(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
  const status = httpStatusOf(code) ?? restStatusOf(code);
  return new Response(JSON.stringify(errorBodyFor(code, message, status)), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

interface GraphqlParams {
  readonly query: string;
  readonly variables?: unknown;
  readonly operationName?: string;
}

/** The operation a document runs: the named one, or the only one. */
function operationOf(
  document: DocumentNode,
  operationName: string | undefined,
): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  return operationName === undefined
    ? operations.length === 1
      ? operations[0]
      : undefined
    : operations.find((o) => o.name?.value === operationName);
}

/**
 * The instance-level document: the operation's selection moved under `focal: Type(id: "id")`,
 * so the operation's root is the focal resource while it runs through the same schema, limits,
 * repository and audit as any other. The id is a checked FHIR id, safe as a string literal.
 */
function focalDocument(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  type: string,
  id: string,
): string {
  const wrapped: SelectionSetNode = {
    kind: Kind.SELECTION_SET,
    selections: [
      {
        kind: Kind.FIELD,
        alias: { kind: Kind.NAME, value: FOCAL },
        name: { kind: Kind.NAME, value: type },
        arguments: [
          {
            kind: Kind.ARGUMENT,
            name: { kind: Kind.NAME, value: 'id' },
            value: { kind: Kind.STRING, value: id },
          },
        ],
        selectionSet: operation.selectionSet,
      },
    ],
  };
  return print({
    ...document,
    definitions: document.definitions.map((d) =>
      d === operation ? { ...operation, selectionSet: wrapped } : d,
    ),
  });
}

/** The parameters of a `GET ...$graphql?query=...`. */
function fromSearchParams(params: URLSearchParams): GraphqlParams | Response {
  const query = params.get('query');
  if (query === null) {
    return refuse('BAD_USER_INPUT', 'A $graphql GET needs a query parameter.');
  }
  const variables = params.get('variables');
  let parsed: unknown;
  if (variables !== null) {
    try {
      parsed = JSON.parse(variables);
    } catch {
      return refuse('BAD_USER_INPUT', 'The variables parameter is not JSON.');
    }
  }
  const operationName = params.get('operationName');
  return {
    query,
    ...(parsed === undefined ? {} : { variables: parsed }),
    ...(operationName === null ? {} : { operationName }),
  };
}

/** The parameters of a `POST ...$graphql`, under the GraphQL endpoint's body rules. */
async function fromBody(request: Request): Promise<GraphqlParams | Response> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json' || request.headers.get('content-encoding') !== null) {
    return refuse('UNSUPPORTED_MEDIA_TYPE', 'GraphQL requests must be sent as application/json.');
  }
  const declared = request.headers.get('content-length');
  if (declared === null || !/^\d{1,12}$/.test(declared)) {
    return refuse('LENGTH_REQUIRED', 'GraphQL requests must declare their Content-Length.');
  }
  if (Number(declared) > MAX_BODY_BYTES) {
    return refuse('PAYLOAD_TOO_LARGE', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
  }
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    return refuse('BAD_USER_INPUT', 'The request body is not JSON.');
  }
  const { query, variables, operationName } = (body ?? {}) as Record<string, unknown>;
  if (typeof query !== 'string') {
    return refuse('BAD_USER_INPUT', 'A $graphql request needs a query.');
  }
  return {
    query,
    ...(variables === undefined || variables === null ? {} : { variables }),
    ...(typeof operationName === 'string' ? { operationName } : {}),
  };
}

/** A focal read's answer: where it came from, to unwrap the answer. */
interface Focal {
  readonly type: string;
}

/**
 * `[base]/$graphql` and `[base]/[type]/[id]/$graphql`, as the HL7 FHIR GraphQL page defines them
 * (POST, and GET with `query=` for queries only). Placed before authentication: the request is
 * replaced by the equivalent `POST` to the GraphQL endpoint, which authentication (which sees
 * the original path, under the FHIR base), the query limits, the repository and the audit then
 * treat as any other. The instance level moves the operation under `focal: Type(id:)` and
 * unwraps the answer, 404 when the resource does not exist.
 */
export function useFhirGraphql(options: {
  readonly base: string;
  readonly graphqlEndpoint: string;
}): Plugin {
  const focals = new WeakMap<Request, Focal>();
  // Instance-level requests whose focal resource does not exist.
  const missing = new WeakSet<Request>();

  type OnRequest = NonNullable<Plugin['onRequest']>;
  type OnResponse = NonNullable<Plugin['onResponse']>;
  type OnResultProcess = NonNullable<Plugin['onResultProcess']>;

  // Every request Yoga serves passes these hooks: anything but `$graphql` returns at once,
  // without a promise.
  return {
    onRequest(payload) {
      if (!payload.url.pathname.startsWith(`${options.base}/`)) {
        return;
      }
      return rewrite(payload);
    },
    onResultProcess: unwrap,
    onResponse: notFound,
  };

  async function rewrite({
    request,
    url,
    setRequest,
    endResponse,
  }: Parameters<OnRequest>[0]): Promise<void> {
    const path = url.pathname.replace(/%24/gi, '$');
    if (!path.startsWith(`${options.base}/`) || !path.endsWith('/$graphql')) {
      return;
    }
    const inner = path.slice(options.base.length + 1, -'/$graphql'.length);
    let focal: { type: string; id: string } | undefined;
    if (inner !== '') {
      const [type, id, ...rest] = inner.split('/');
      if (type === undefined || id === undefined || rest.length > 0) {
        return;
      }
      if (!TYPE.test(type) || !ID.test(id)) {
        endResponse(refuse('RESOURCE_NOT_FOUND', 'Nothing is served at this path.'));
        return;
      }
      focal = { type, id };
    }
    if (request.method !== 'GET' && request.method !== 'POST') {
      endResponse(
        refuse('METHOD_NOT_ALLOWED', '$graphql answers GET and POST only.', {
          allow: 'GET, POST',
        }),
      );
      return;
    }
    const params =
      request.method === 'GET' ? fromSearchParams(url.searchParams) : await fromBody(request);
    if (params instanceof Response) {
      endResponse(params);
      return;
    }
    let query = params.query;
    let document: DocumentNode | undefined;
    try {
      document = parse(query, { noLocation: true });
    } catch {
      // Left to the GraphQL endpoint, which reports it as it reports any parse error.
    }
    const operation =
      document === undefined ? undefined : operationOf(document, params.operationName);
    if (request.method === 'GET' && operation !== undefined && operation.operation !== 'query') {
      endResponse(
        refuse('METHOD_NOT_ALLOWED', 'A $graphql GET runs queries only; use POST.', {
          allow: 'POST',
        }),
      );
      return;
    }
    if (focal !== undefined && document !== undefined && operation !== undefined) {
      if (operation.operation !== 'query') {
        endResponse(refuse('BAD_USER_INPUT', 'An instance $graphql runs queries only.'));
        return;
      }
      query = focalDocument(document, operation, focal.type, focal.id);
    }
    const headers = new Headers(request.headers);
    headers.set('content-type', 'application/json');
    headers.delete('content-length');
    headers.delete('content-encoding');
    const replaced = new Request(new URL(options.graphqlEndpoint, url.origin), {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...params, query }),
    });
    if (focal !== undefined) {
      focals.set(replaced, { type: focal.type });
    }
    setRequest(replaced);
  }

  /**
   * The instance level's answer is the focal resource: its result's `data` is replaced before it
   * is written, so the answer is serialised once, in slices and within the work budget (plugins
   * after this one see the unwrapped result), instead of parsed back and written again whole.
   */
  function unwrap({ request, result, setResult }: Parameters<OnResultProcess>[0]): void {
    if (!focals.has(request) || Array.isArray(result) || !('data' in result)) {
      return;
    }
    const { data, errors } = result as ExecutionResult;
    if (data === undefined || data === null) {
      return;
    }
    const resource = data[FOCAL];
    if (resource === null && errors === undefined) {
      // Answered 404 once the response is built (`notFound`), unless a later plugin changed it.
      missing.add(request);
      return;
    }
    setResult({
      ...(errors === undefined ? {} : { errors: errors.map(belowFocal) }),
      data: resource as Record<string, unknown>,
    });
  }

  function notFound({ request, response, setResponse }: Parameters<OnResponse>[0]): void {
    const focal = focals.get(request);
    if (focal === undefined || !missing.has(request) || response.status !== 200) {
      return;
    }
    const message = `The ${focal.type} was not found.`;
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    setResponse(
      new Response(JSON.stringify(errorBodyFor('RESOURCE_NOT_FOUND', message, 404)), {
        status: 404,
        headers,
      }),
    );
  }
}

/** An error at a path under the focal resource, at the same path from the resource. */
function belowFocal(error: GraphQLError): GraphQLError {
  if (error.path?.[0] !== FOCAL) {
    return error;
  }
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path.slice(1),
    originalError: error.originalError,
    extensions: error.extensions,
  });
}
