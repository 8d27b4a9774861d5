/**
 * A failure the caller of a compiled mapping caused: a search parameter the tenant did not map,
 * or a value that cannot be parsed. The GraphQL layer turns it into a `gatewayError` with the
 * same code; the engine itself never sees GraphQL.
 */

/** Stable codes; they match `ErrorCode` in `src/errors.ts`. */
export type MappingQueryErrorCode = 'SEARCH_PARAM_NOT_SUPPORTED' | 'BAD_USER_INPUT';

/**
 * The message is fixed text naming the parameter at most; it never echoes the value, so it is
 * safe to show to the client and to log.
 */
export class MappingQueryError extends Error {
  override readonly name = 'MappingQueryError';
  readonly code: MappingQueryErrorCode;
  /** The search parameter code, when it is a well-formed one. */
  readonly parameter: string | undefined;

  constructor(code: MappingQueryErrorCode, message: string, parameter?: string) {
    super(message);
    this.code = code;
    this.parameter = parameter;
  }
}

/** Guard for code that catches broadly. */
export function isMappingQueryError(err: unknown): err is MappingQueryError {
  return err instanceof MappingQueryError;
}
