import { type ErrorCode, isGatewayError, operationOutcomeFor, restStatusOf } from '../errors.js';

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
