import { errorBodyFor, httpStatusOf } from '../errors.js';
import { extendContext, factsOf, type Refusal } from './request-facts.js';

/** A refusal and what its answer says. */
export interface RefusalAnswer extends Refusal {
  /** Client-safe, fixed text. */
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Ends a request before Yoga parses it: records the refusal on the request's context (for
 * metrics, the denial audit and the refusal hold, see `use-refusals.ts`) and answers in the
 * GraphQL error shape, with the code's OperationOutcome in `extensions.resource` (the REST
 * plugin sends that outcome as the body on FHIR paths).
 */
export function refusalResponse(context: unknown, answer: RefusalAnswer): Response {
  const { message, headers, ...refusal } = answer;
  extendContext(context, { refusal });
  const status = httpStatusOf(refusal.code) ?? 400;
  const requestId = factsOf(context).origin?.requestId;
  return new Response(JSON.stringify(errorBodyFor(refusal.code, message, status)), {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      ...(requestId === undefined ? {} : { 'x-request-id': requestId }),
      ...headers,
    },
  });
}
