import { type ErrorCode, GatewayError } from '../errors.js';

/**
 * The codes an access-token check can end with. They are a subset of the gateway's `ErrorCode`, so
 * the HTTP layer can hand `err.code` straight to `gatewayError`.
 */
export type AuthErrorCode = Extract<
  ErrorCode,
  'UNAUTHENTICATED' | 'AUTH_UNAVAILABLE' | 'TENANT_UNRESOLVED' | 'TENANT_MISMATCH'
>;

const MESSAGES: Record<AuthErrorCode, string> = {
  UNAUTHENTICATED: 'The access token is missing or invalid.',
  AUTH_UNAVAILABLE: 'The identity provider could not be reached to check the access token.',
  TENANT_UNRESOLVED: 'The access token does not name a tenant.',
  TENANT_MISMATCH: 'The access token names a tenant other than the client it was issued to.',
};

/** Details an `AuthError` may carry besides its code. */
export interface AuthErrorOptions {
  /**
   * A short, stable machine reason: jose's `err.code` (`ERR_JWT_EXPIRED`) or one of ours
   * (`missing-token`, `malformed-header`, `typ`, `sub`, `jwks-fetch-failed`).
   */
  reason: string;
  /** The claim a claim check failed on (`exp`, `aud`, `iss`…), when jose names one. */
  claim?: string;
  /**
   * The low-level failure, for logs. Only set for `AUTH_UNAVAILABLE`: jose's claim errors carry
   * the whole claims set, which must not travel into logs.
   */
  cause?: unknown;
}

/**
 * A failed access-token check. The message is fixed per code and never contains the token, a
 * claim value or a URL; `reason` and `claim` say what failed, for logs and `extensions`.
 */
export class AuthError extends GatewayError {
  override readonly name: string = 'AuthError';
  /** What the gateway answers with (`httpStatusOf(code)` gives 401, 403 or 503). */
  declare readonly code: AuthErrorCode;
  /** See `AuthErrorOptions.reason`. */
  readonly reason: string;
  /** See `AuthErrorOptions.claim`. */
  readonly claim: string | undefined;

  constructor(code: AuthErrorCode, options: AuthErrorOptions) {
    super(code, MESSAGES[code]);
    if (options.cause !== undefined) {
      this.cause = options.cause;
    }
    this.reason = options.reason;
    this.claim = options.claim;
  }
}

/** True for an `AuthError`, optionally with the given code. */
export function isAuthError(err: unknown, code?: AuthErrorCode): err is AuthError {
  return err instanceof AuthError && (code === undefined || err.code === code);
}
