import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ErrorCode, errorBodyFor, httpStatusOf, operationOutcomeFor } from '../errors.js';

/** Largest request body accepted. @default 65536 (64 KiB) */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** What the front door lets through to Yoga, and how it answers everything else. */
export interface FrontDoorOptions {
  /** The one GraphQL path (`/graphql`). Compared byte for byte with the request's path. */
  readonly endpoint: string;
  /** Paths of the plain GET routes (health, readiness, metrics, the demo's JWKS). */
  readonly routes: ReadonlySet<string>;
  /** GraphiQL is on: a `GET` of the endpoint asking for HTML goes through. */
  readonly graphiql: boolean;
  /** CORS is configured: an `OPTIONS` preflight of the endpoint goes through. */
  readonly cors: boolean;
  /** @default DEFAULT_MAX_BODY_BYTES */
  readonly maxBodyBytes?: number;
  /**
   * The FHIR REST base (`/fhir`): requests at or below it go through with their query string
   * (a FHIR search lives there) under the body rules of the endpoint, except the media type,
   * which the REST handlers check (a `_search` body is form-encoded). Absent: no REST paths.
   */
  readonly fhirBase?: string;
  /** Told of every request the front door answers itself (metrics). */
  readonly onRefused?: (code: ErrorCode, durationMs: number) => void;
}

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A `Host` header that cannot change the URL Yoga builds from it (`http://<host><path>`):
 * a name or an IPv4/IPv6 literal and a port, nothing else. `Host: a?` would otherwise turn
 * `POST /graphql` into the URL `http://a?/graphql`, whose path is `/`.
 */
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

const JSON_TYPES: ReadonlySet<string> = new Set([
  'application/json',
  'application/graphql-response+json',
]);

const MESSAGES = {
  NOT_FOUND: 'Nothing is served at this path.',
  BAD_REQUEST: 'The request has a malformed Host header.',
  METHOD_NOT_ALLOWED: 'GraphQL requests must use POST.',
  ROUTE_METHOD_NOT_ALLOWED: 'This path answers GET only.',
  UNSUPPORTED_MEDIA_TYPE: 'GraphQL requests must be sent as application/json.',
  UNSUPPORTED_ENCODING: 'Request bodies must not be compressed.',
  LENGTH_REQUIRED: 'GraphQL requests must declare their Content-Length.',
  FHIR_SUFFIX: 'A FHIR request URL must not end in /health or /graphql.',
} as const;

/**
 * How much of a refused request's body is read and thrown away, at most, before the connection
 * is closed. Reading nothing and closing makes the kernel answer the client's next bytes with a
 * reset, and a client still sending (most do not read before they have sent) loses the answer.
 */
const DISCARD_BYTES = 64 * 1024 * 1024;
const DISCARD_MS = 2000;

function discardBody(req: IncomingMessage, res: ServerResponse): void {
  let discarded = 0;
  const done = (close: boolean) => {
    clearTimeout(timer);
    res.end();
    if (close) {
      req.socket.destroy();
    }
  };
  const timer = setTimeout(() => done(true), DISCARD_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_BYTES) {
      done(true);
    }
  });
  req.on('end', () => done(false));
  req.on('close', () => clearTimeout(timer));
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * The HTTP rules in front of Yoga, applied to the raw Node request before Yoga builds a URL, a
 * `Request` or a body stream for it. Yoga serves its endpoint at any URL that merely ends in
 * it (`/x/graphql`, `/graphql/`, `/?a=/graphql`) and answers its health check at any URL ending
 * in `/health`, while the plugins in front of it look at the exact path: so the only requests
 * Yoga ever sees are:
 *
 * - a `POST` to exactly the endpoint path (no normalisation is applied and none is needed: the
 *   path before `?` must equal it byte for byte, so `/GraphQL`, `//graphql`, `/%67raphql` and
 *   `/a/../graphql` are 404), whose body is JSON (415 otherwise, and for a compressed body), has
 *   a declared `Content-Length` (411 otherwise: a chunked body has none) of at most
 *   `maxBodyBytes` (413). Node's parser reads no byte past the declared length.
 * - a `GET` of the endpoint asking for HTML when GraphiQL is on, and an `OPTIONS` preflight
 *   when CORS is on; any other method is 405 `Allow: POST`.
 * - a `GET` of one of the plain routes (405 `Allow: GET` for other methods).
 *
 * The query string is dropped before Yoga sees the request (`req.url` becomes the bare path):
 * GraphQL is read from POST bodies only, and Yoga's suffix matching cannot be steered by it.
 * Everything else is 404, and a `Host` that is not a plain host[:port] is 400. A refused
 * request's body is never buffered: the answer goes out at once, up to 64 MiB (or 2 s) of what the
 * client is still sending is read and dropped so that it can read the answer, then the
 * connection is closed.
 */
/**
 * Why a body may not be read, or `undefined`: a compressed body (415), no plain `Content-Length`
 * (411, so every chunked body) or one above `max` (413).
 */
function bodyRefusal(
  req: IncomingMessage,
  max: number,
):
  | { code: 'UNSUPPORTED_MEDIA_TYPE' | 'LENGTH_REQUIRED' | 'PAYLOAD_TOO_LARGE'; message: string }
  | undefined {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return { code: 'UNSUPPORTED_MEDIA_TYPE', message: MESSAGES.UNSUPPORTED_ENCODING };
  }
  const declared = req.headers['content-length'];
  if (declared === undefined || !/^\d{1,12}$/.test(declared)) {
    return { code: 'LENGTH_REQUIRED', message: MESSAGES.LENGTH_REQUIRED };
  }
  if (Number(declared) > max) {
    return { code: 'PAYLOAD_TOO_LARGE', message: `Request bodies are limited to ${max} bytes.` };
  }
  return undefined;
}

export function createFrontDoor(options: FrontDoorOptions, next: NodeHandler): NodeHandler {
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const { endpoint, routes } = options;

  function refuse(
    req: IncomingMessage,
    res: ServerResponse,
    startedAt: number,
    code: ErrorCode,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    const status = httpStatusOf(code) ?? 400;
    const path = (req.url ?? '').split('?')[0] ?? '';
    const fhir =
      options.fhirBase !== undefined &&
      (path === options.fhirBase || path.startsWith(`${options.fhirBase}/`));
    // The same error shape as every later failure: a stable code and its FHIR OperationOutcome
    // (for a FHIR REST path, the OperationOutcome itself).
    const body = JSON.stringify(
      fhir ? operationOutcomeFor(code, message, status) : errorBodyFor(code, message, status),
    );
    res.writeHead(status, {
      'content-type': fhir
        ? 'application/fhir+json; charset=utf-8'
        : 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-request-id': randomUUID(),
      ...headers,
    });
    if (hasBody(req)) {
      // Written now, ended once the body is gone: ending it at once would let Node close a
      // `Connection: close` socket with the client's bytes unread, and the reset can destroy the
      // answer before the client reads it.
      res.write(body);
      discardBody(req, res);
    } else {
      res.end(body);
    }
    options.onRefused?.(code, performance.now() - startedAt);
  }

  return (req, res) => {
    const startedAt = performance.now();
    const target = req.url ?? '';
    const query = target.indexOf('?');
    const path = query === -1 ? target : target.slice(0, query);
    const host = req.headers.host;
    if (host !== undefined && !HOST.test(host)) {
      refuse(req, res, startedAt, 'BAD_REQUEST', MESSAGES.BAD_REQUEST);
      return;
    }
    const method = req.method ?? '';
    if (path === endpoint) {
      if (method === 'POST') {
        const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
        if (type === undefined || !JSON_TYPES.has(type)) {
          refuse(req, res, startedAt, 'UNSUPPORTED_MEDIA_TYPE', MESSAGES.UNSUPPORTED_MEDIA_TYPE);
          return;
        }
        const body = bodyRefusal(req, max);
        if (body !== undefined) {
          refuse(req, res, startedAt, body.code, body.message);
          return;
        }
      } else if (
        !(
          (method === 'GET' &&
            options.graphiql &&
            !hasBody(req) &&
            (req.headers.accept ?? '').includes('text/html')) ||
          (method === 'OPTIONS' && options.cors && !hasBody(req))
        )
      ) {
        // Queries in a URL end up in proxy and access logs: PHI search values included.
        refuse(req, res, startedAt, 'METHOD_NOT_ALLOWED', MESSAGES.METHOD_NOT_ALLOWED, {
          allow: 'POST',
        });
        return;
      }
    } else if (
      options.fhirBase !== undefined &&
      (path === options.fhirBase || path.startsWith(`${options.fhirBase}/`))
    ) {
      // Yoga answers its health check and GraphiQL at any URL *ending* in their paths, query
      // string included: a FHIR URL must not end in them.
      if (/\/(?:health|graphql\/?)$/.test(target)) {
        refuse(req, res, startedAt, 'BAD_REQUEST', MESSAGES.FHIR_SUFFIX);
        return;
      }
      if (hasBody(req)) {
        const body = bodyRefusal(req, max);
        if (body !== undefined) {
          refuse(req, res, startedAt, body.code, body.message);
          return;
        }
      }
      next(req, res);
      return;
    } else if (routes.has(path)) {
      if (method !== 'GET' || hasBody(req)) {
        refuse(req, res, startedAt, 'METHOD_NOT_ALLOWED', MESSAGES.ROUTE_METHOD_NOT_ALLOWED, {
          allow: 'GET',
        });
        return;
      }
    } else {
      refuse(req, res, startedAt, 'NOT_FOUND', MESSAGES.NOT_FOUND);
      return;
    }
    if (query !== -1) {
      req.url = path;
    }
    next(req, res);
  };
}
