import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { operationOutcomeFor } from '../errors.js';

/**
 * The code of an error that arrives without one. graphql-js's own errors carry none: an error
 * at a field path broke our side of the contract (a non-null field came back null), an error
 * without a path is about the request itself (a variable of the wrong type, a missing operation
 * name).
 */
function defaultCode(error: GraphQLError): string {
  return error.path === undefined ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR';
}

function httpStatusOf(extensions: Record<string, unknown>): number | undefined {
  const http = extensions['http'];
  if (http !== null && typeof http === 'object') {
    const status = (http as Record<string, unknown>)['status'];
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}

/**
 * The error as the client receives it: `extensions.code` always set, and the FHIR view of the
 * same failure in `extensions.resource`. A copy, because Yoga caches validation errors across
 * requests and a GraphQLError's extensions are meant to be read-only.
 */
export function withOperationOutcome(error: GraphQLError): GraphQLError {
  const extensions: Record<string, unknown> = { ...error.extensions };
  const given = extensions['code'];
  const code = typeof given === 'string' && given.length > 0 ? given : defaultCode(error);
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    // Kept so Yoga still tells masked (unexpected) errors from expected ones for the status.
    originalError: error.originalError,
    extensions: {
      ...extensions,
      code,
      resource: operationOutcomeFor(code, error.message, httpStatusOf(extensions)),
    },
  });
}

function toGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) {
    return error;
  }
  // Never the case with Yoga's own pipeline, which hands over GraphQLErrors; a plain object
  // from another plugin keeps its message only.
  const message =
    error !== null && typeof error === 'object' && typeof Reflect.get(error, 'message') === 'string'
      ? (Reflect.get(error, 'message') as string)
      : 'Unexpected error.';
  return new GraphQLError(message);
}

/**
 * Gives every GraphQL error a client receives an `extensions.code` and an OperationOutcome in
 * `extensions.resource`, as the HL7 FHIR GraphQL page has servers report errors. It works on the
 * final result (`onResultProcess`), after Yoga has masked unexpected errors, so parse, validation,
 * resolver and masked errors are all covered. Errors that authentication writes as HTTP
 * responses before GraphQL runs carry the outcome through `operationOutcomeFor` themselves.
 */
export function useOperationOutcome(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      // Batching and incremental delivery are off, so the result is one plain object.
      if (Array.isArray(result) || !('errors' in result) || result.errors === undefined) {
        return;
      }
      const errors = result.errors as readonly unknown[];
      if (errors.length === 0) {
        return;
      }
      setResult({ ...result, errors: errors.map((e) => withOperationOutcome(toGraphQLError(e))) });
    },
  };
}
