/** Why the embedded demo could not set itself up. */
export type DemoSetupErrorCode =
  /** The data dir's path cannot be written as a `sqlite:` URL (spaces, non-ASCII, `:` or `%`). */
  | 'DEMO_DATA_DIR_UNUSABLE'
  /** `demo-encryption-key` exists but is not 32 bytes of base64. */
  | 'DEMO_ENCRYPTION_KEY_INVALID'
  /** `demo-issuer-key.json` exists but is not an RSA private JWK with a kid. */
  | 'DEMO_ISSUER_KEY_INVALID';

/**
 * The demo's data dir holds something it cannot use. The message names the file or setting and
 * the fix, never key material; `code` is stable, so `main.ts` can print it even where it prints
 * no message.
 */
export class DemoSetupError extends Error {
  override readonly name = 'DemoSetupError';
  readonly code: DemoSetupErrorCode;

  constructor(code: DemoSetupErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
