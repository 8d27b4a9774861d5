import { GraphQLError } from 'graphql';

/**
 * Stable codes clients may switch on (`extensions.code`, `OperationOutcome.issue.details.coding`).
 * Add codes; never rename or reuse one.
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
  | 'RESOURCE_NOT_FOUND'
  | 'SEARCH_PARAM_NOT_SUPPORTED'
  | 'BAD_USER_INPUT'
  | 'REFERENCE_NOT_FOUND'
  | 'GRAPHQL_PARSE_FAILED'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'METHOD_NOT_ALLOWED'
  | 'NOT_ACCEPTABLE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'LENGTH_REQUIRED'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'QUERY_TOO_COSTLY'
  | 'FHIRPATH_NOT_SUPPORTED'
  | 'SINGLETON_VIOLATED'
  | 'RESPONSE_TOO_LARGE'
  | 'AUDIT_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

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

/** How one error code is answered, over GraphQL and over FHIR REST. */
interface ErrorSpec {
  /** The HTTP status of a REST answer with this error (and of a request-level GraphQL one). */
  readonly status: number;
  /**
   * The error ends the whole request, so a GraphQL answer takes its status too. A field-level
   * one keeps GraphQL's 200, so the rest of a partial result survives.
   */
  readonly requestLevel: boolean;
  /** The OperationOutcome issue type. */
  readonly issue: FhirIssueType;
}

/** The one table from an error code to its HTTP status, its GraphQL status and its FHIR issue. */
const ERRORS: Readonly<Record<ErrorCode, ErrorSpec>> = {
  UNAUTHENTICATED: { status: 401, requestLevel: true, issue: 'login' },
  AUTH_UNAVAILABLE: { status: 503, requestLevel: true, issue: 'transient' },
  FORBIDDEN: { status: 403, requestLevel: true, issue: 'forbidden' },
  UNKNOWN_TENANT: { status: 403, requestLevel: true, issue: 'forbidden' },
  TENANT_MISMATCH: { status: 403, requestLevel: true, issue: 'security' },
  TENANT_UNRESOLVED: { status: 403, requestLevel: true, issue: 'security' },
  TENANT_DISABLED: { status: 403, requestLevel: true, issue: 'forbidden' },
  TENANT_CONFIG_INVALID: { status: 503, requestLevel: true, issue: 'exception' },
  TENANT_UNAVAILABLE: { status: 503, requestLevel: true, issue: 'transient' },
  TENANT_BUSY: { status: 503, requestLevel: true, issue: 'throttled' },
  UPSTREAM_TIMEOUT: { status: 503, requestLevel: true, issue: 'timeout' },
  REGISTRY_UNAVAILABLE: { status: 503, requestLevel: true, issue: 'transient' },
  RESOURCE_NOT_SUPPORTED: { status: 404, requestLevel: false, issue: 'not-supported' },
  RESOURCE_NOT_FOUND: { status: 404, requestLevel: false, issue: 'not-found' },
  SEARCH_PARAM_NOT_SUPPORTED: { status: 400, requestLevel: false, issue: 'not-supported' },
  BAD_USER_INPUT: { status: 400, requestLevel: false, issue: 'invalid' },
  REFERENCE_NOT_FOUND: { status: 404, requestLevel: false, issue: 'not-found' },
  GRAPHQL_PARSE_FAILED: { status: 400, requestLevel: false, issue: 'structure' },
  GRAPHQL_VALIDATION_FAILED: { status: 400, requestLevel: false, issue: 'invalid' },
  NOT_FOUND: { status: 404, requestLevel: true, issue: 'not-found' },
  BAD_REQUEST: { status: 400, requestLevel: true, issue: 'invalid' },
  METHOD_NOT_ALLOWED: { status: 405, requestLevel: true, issue: 'not-supported' },
  NOT_ACCEPTABLE: { status: 406, requestLevel: true, issue: 'not-supported' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, requestLevel: true, issue: 'not-supported' },
  LENGTH_REQUIRED: { status: 411, requestLevel: true, issue: 'structure' },
  PAYLOAD_TOO_LARGE: { status: 413, requestLevel: true, issue: 'too-long' },
  RATE_LIMITED: { status: 429, requestLevel: true, issue: 'throttled' },
  QUERY_TOO_COSTLY: { status: 400, requestLevel: true, issue: 'too-costly' },
  FHIRPATH_NOT_SUPPORTED: { status: 400, requestLevel: false, issue: 'not-supported' },
  SINGLETON_VIOLATED: { status: 400, requestLevel: false, issue: 'invalid' },
  RESPONSE_TOO_LARGE: { status: 400, requestLevel: true, issue: 'too-costly' },
  AUDIT_UNAVAILABLE: { status: 503, requestLevel: true, issue: 'transient' },
  INTERNAL_SERVER_ERROR: { status: 500, requestLevel: false, issue: 'exception' },
};

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}

/** The HTTP status a request-level error code answers GraphQL with, if it has one. */
export function httpStatusOf(code: ErrorCode): number | undefined {
  const spec = ERRORS[code];
  return spec.requestLevel ? spec.status : undefined;
}

/** The HTTP status of a FHIR REST answer with this error (every code has one). */
export function restStatusOf(code: ErrorCode): number {
  return ERRORS[code].status;
}

/**
 * The base of every error the gateway means a client to read: a closed `code`, a fixed message
 * (never SQL, a URL, row data, PHI or an echo of user input), and the GraphQL extensions the
 * code's row of the table gives (`code`, and `http.status` for request-level codes). A
 * `GraphQLError`, so Yoga passes it through unmasked; the REST layer reads `code` and turns it
 * into an OperationOutcome with `restStatusOf(code)`. Log the low-level cause yourself: passing
 * it as `originalError` makes Yoga mask the whole error.
 */
export class GatewayError extends GraphQLError {
  override readonly name: string = 'GatewayError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    const status = httpStatusOf(code);
    super(message, {
      extensions: {
        ...extensions,
        code,
        // Keep headers a caller set (Retry-After) while the code decides the status.
        ...(status === undefined
          ? {}
          : {
              http: { ...(extensions['http'] as Record<string, unknown> | undefined), status },
            }),
      },
    });
    this.code = code;
  }

  /** Response headers the error asks for (`Retry-After`), from its `http` extension. */
  get headers(): Record<string, string> {
    const http = this.extensions['http'] as { headers?: Record<string, string> } | undefined;
    return { ...http?.headers };
  }
}

/** True for a {@link GatewayError}, optionally with the given code. */
export function isGatewayError(err: unknown, code?: ErrorCode): err is GatewayError {
  return err instanceof GatewayError && (code === undefined || err.code === code);
}

/** Shorthand for `new GatewayError(...)`, kept for the many call sites that throw it. */
export function gatewayError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GatewayError {
  return new GatewayError(code, message, extensions);
}

/** True for an error we created with a given code (a {@link GatewayError} or a copy of one). */
export function hasErrorCode(err: unknown, code: ErrorCode): boolean {
  return (
    isGatewayError(err, code) || (err instanceof GraphQLError && err.extensions['code'] === code)
  );
}

/** One issue per error: what a FHIR client reads from `extensions.resource` or a REST body. */
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

/**
 * The FHIR issue type of an error code. Codes from elsewhere (Yoga, plugins) fall back on their
 * HTTP status: a 4xx is the client's (`invalid`), anything else ours (`exception`).
 */
export function issueTypeOf(code: string, httpStatus?: number): FhirIssueType {
  if (isErrorCode(code)) {
    return ERRORS[code].issue;
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

/**
 * The body of an error answered outside GraphQL execution, in the shape GraphQL answers its own:
 * one error with the code and its OperationOutcome in `extensions`. The message must already be
 * client-safe.
 */
export function errorBodyFor(code: string, message: string, httpStatus?: number) {
  return {
    errors: [
      { message, extensions: { code, resource: operationOutcomeFor(code, message, httpStatus) } },
    ],
  };
}
