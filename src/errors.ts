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
  | 'REFERENCE_NOT_FOUND'
  | 'GRAPHQL_PARSE_FAILED'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'LENGTH_REQUIRED'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'QUERY_TOO_COSTLY'
  | 'AUDIT_UNAVAILABLE'
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
  RATE_LIMITED: 429,
  QUERY_TOO_COSTLY: 400,
  AUDIT_UNAVAILABLE: 503,
  NOT_FOUND: 404,
  BAD_REQUEST: 400,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  LENGTH_REQUIRED: 411,
  PAYLOAD_TOO_LARGE: 413,
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
    extensions: {
      ...extensions,
      code,
      // Keep headers a caller set (Retry-After) while the code decides the status.
      ...(status === undefined
        ? {}
        : { http: { ...(extensions['http'] as Record<string, unknown> | undefined), status } }),
    },
  });
}

/** True for a GraphQLError we created with a given code. */
export function hasErrorCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof GraphQLError && err.extensions['code'] === code;
}

/**
 * The FHIR R4 `IssueType` codes (http://hl7.org/fhir/R4/valueset-issue-type.html) the gateway
 * reports. Only the codes below are used; the value set has more.
 */
export type FhirIssueType =
  | 'invalid'
  | 'structure'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'not-supported'
  | 'not-found'
  | 'exception'
  | 'timeout'
  | 'too-long'
  | 'throttled'
  | 'too-costly'
  | 'transient';

/** One issue per error: what a FHIR client reads from `extensions.resource`. */
export interface OperationOutcome {
  readonly resourceType: 'OperationOutcome';
  readonly issue: readonly [
    {
      readonly severity: 'error';
      readonly code: FhirIssueType;
      /** The error's message, the same text as the GraphQL error's `message`. */
      readonly details: { readonly text: string };
    },
  ];
}

const ISSUE_TYPE: Record<ErrorCode, FhirIssueType> = {
  UNAUTHENTICATED: 'login',
  AUTH_UNAVAILABLE: 'transient',
  FORBIDDEN: 'forbidden',
  UNKNOWN_TENANT: 'forbidden',
  TENANT_MISMATCH: 'security',
  TENANT_UNRESOLVED: 'security',
  TENANT_DISABLED: 'forbidden',
  TENANT_CONFIG_INVALID: 'exception',
  TENANT_UNAVAILABLE: 'transient',
  TENANT_BUSY: 'throttled',
  UPSTREAM_TIMEOUT: 'timeout',
  REGISTRY_UNAVAILABLE: 'transient',
  RESOURCE_NOT_SUPPORTED: 'not-supported',
  SEARCH_PARAM_NOT_SUPPORTED: 'not-supported',
  BAD_USER_INPUT: 'invalid',
  REFERENCE_NOT_FOUND: 'not-found',
  GRAPHQL_PARSE_FAILED: 'structure',
  GRAPHQL_VALIDATION_FAILED: 'invalid',
  NOT_FOUND: 'not-found',
  BAD_REQUEST: 'invalid',
  METHOD_NOT_ALLOWED: 'not-supported',
  UNSUPPORTED_MEDIA_TYPE: 'not-supported',
  LENGTH_REQUIRED: 'structure',
  PAYLOAD_TOO_LARGE: 'too-long',
  RATE_LIMITED: 'throttled',
  QUERY_TOO_COSTLY: 'too-costly',
  AUDIT_UNAVAILABLE: 'transient',
  INTERNAL_SERVER_ERROR: 'exception',
};

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ISSUE_TYPE, code);
}

/**
 * The FHIR issue type of an error code. Codes from elsewhere (Yoga, plugins) fall back on their
 * HTTP status: a 4xx is the client's (`invalid`), anything else ours (`exception`).
 */
export function issueTypeOf(code: string, httpStatus?: number): FhirIssueType {
  if (isErrorCode(code)) {
    return ISSUE_TYPE[code];
  }
  return httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500
    ? 'invalid'
    : 'exception';
}

/**
 * The OperationOutcome every error carries in `extensions.resource`, as FHIR clients expect
 * from a FHIR server. Request-level errors that never reach GraphQL execution (authentication)
 * put it there themselves with this helper; `useOperationOutcome` adds it to all other errors.
 * The message must already be client-safe: it is copied as is.
 */
export function operationOutcomeFor(
  code: string,
  message: string,
  httpStatus?: number,
): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: issueTypeOf(code, httpStatus),
        details: { text: message },
      },
    ],
  };
}
