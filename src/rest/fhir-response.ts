import { type ErrorCode, isGatewayError, operationOutcomeFor, restStatusOf } from '../errors.js';
import type { WorkBudget } from '../repository/work-budget.js';
import { CHARS_PER_SLICE, slicedResponse } from '../web/sliced-answers.js';

/** The media type of every FHIR REST answer. */
export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** A FHIR JSON answer. */
export function fhirResponse(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': FHIR_JSON, ...headers },
  });
}

/**
 * A FHIR JSON answer with tenant data, written through the request's work budget: in slices
 * that yield to the event loop, refused with `RESPONSE_TOO_LARGE` past its byte cap, and sent
 * to the socket in slices when large.
 */
export async function budgetedResponse(
  work: WorkBudget,
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Promise<Response> {
  const text = await work.serialize(body);
  const init = { status, headers: { 'content-type': FHIR_JSON, ...headers } };
  // A large answer goes to the socket a slice per turn too (`src/web/sliced-answers.ts`).
  return text.length > CHARS_PER_SLICE ? slicedResponse(text, init) : new Response(text, init);
}

/** An OperationOutcome answer for one of our codes, with the code's REST status. */
export function outcomeResponse(
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const status = restStatusOf(code);
  return fhirResponse(operationOutcomeFor(code, message, status), status, headers);
}

/** The OperationOutcome answer for an error a handler threw: ours as they are, anything else 500. */
export function errorResponse(err: unknown): Response {
  if (isGatewayError(err)) {
    return outcomeResponse(err.code, err.message, err.headers);
  }
  return outcomeResponse('INTERNAL_SERVER_ERROR', 'Unexpected error.');
}

/**
 * `304 Not Modified` for a conditional read whose `If-None-Match` names the answer's ETag (or
 * `*`), with the validators and no body; otherwise the answer itself. Weak comparison, as
 * RFC 9110 asks for `If-None-Match`.
 */
export function notModifiedOr(request: Request, response: Response): Response {
  const etag = response.headers.get('etag');
  const wanted = request.headers.get('if-none-match');
  if (response.status !== 200 || etag === null || wanted === null) {
    return response;
  }
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const matches =
    wanted.trim() === '*' || wanted.split(',').some((tag) => opaque(tag) === opaque(etag));
  if (!matches) {
    return response;
  }
  const headers = new Headers({ etag });
  const lastModified = response.headers.get('last-modified');
  if (lastModified !== null) {
    headers.set('last-modified', lastModified);
  }
  return new Response(null, { status: 304, headers });
}
