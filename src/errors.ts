import { GraphQLError } from 'graphql';

/**
 * Stable codes clients may switch on (`extensions.code`). Add codes; never rename or reuse one.
 * Request-level failures carry an HTTP status; field-level ones keep 200 so partial data survives.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'AUTH_UNAVAILABLE'
  | 'FORBIDDEN'
  | 'UNKNOWN_TENANT'
  | 'TENANT_MISMATCH'
  | 'TENANT_UNRESOLVED'
  | 'TENANT_DISABLED'
  | 'TENANT_CONFIG_INVALID'
  | 'TENANT_UNAVAILABLE'
  | 'TENANT_BUSY'
  | 'UPSTREAM_TIMEOUT'
  | 'REGISTRY_UNAVAILABLE'
  | 'RESOURCE_NOT_SUPPORTED'
  | 'SEARCH_PARAM_NOT_SUPPORTED'
  | 'BAD_USER_INPUT'
  | 'INTERNAL_SERVER_ERROR';

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  AUTH_UNAVAILABLE: 503,
  FORBIDDEN: 403,
  UNKNOWN_TENANT: 403,
  TENANT_MISMATCH: 403,
  TENANT_UNRESOLVED: 403,
  TENANT_DISABLED: 403,
  TENANT_CONFIG_INVALID: 503,
  TENANT_UNAVAILABLE: 503,
  TENANT_BUSY: 503,
  UPSTREAM_TIMEOUT: 503,
  REGISTRY_UNAVAILABLE: 503,
};

/** The HTTP status a request-level error code answers with, if it has one. */
export function httpStatusOf(code: ErrorCode): number | undefined {
  return HTTP_STATUS[code];
}

/**
 * An error the client is meant to read. The message is fixed text: never SQL, a URL, row data,
 * PHI or an echo of user input. Log the low-level cause yourself; passing it as `originalError`
 * makes Yoga mask the whole error.
 */
export function gatewayError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  const status = HTTP_STATUS[code];
  return new GraphQLError(message, {
    extensions: { ...extensions, code, ...(status === undefined ? {} : { http: { status } }) },
  });
}

/** True for a GraphQLError we created with a given code. */
export function hasErrorCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof GraphQLError && err.extensions['code'] === code;
}
