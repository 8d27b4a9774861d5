/**
 * AES-256-GCM sealing of tenant database URLs at rest.
 *
 * Stored form: `v1.<kid>.<base64url(iv ‖ ciphertext ‖ tag)>`, with a random 96-bit IV and a
 * 128-bit tag. The AAD binds the version, the key id and the tenant's `client_id`, so a sealed
 * value copied into another tenant's row fails authentication instead of connecting tenant A to
 * tenant B's database. One primary key seals; older keys only open (Tink-style keyring), and the
 * key id in the header picks the key: there is no "try every key" fallback.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const AAD_PREFIX = 'fhirgate/tenant-db-url/v1';

/** Key ids are short, printable and cannot contain the `.` and `|` separators. */
const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** How to make a key, for every message about a missing or malformed one. */
export const GENERATE_KEY_HINT =
  'A key is 32 random bytes in base64; make one with `openssl rand -base64 32` and keep it ' +
  'in your secret store (a lost key makes every sealed database URL unreadable).';

/** The key id used when `FHIRGATE_ENCRYPTION_KEY_ID` is not set. */
export const DEFAULT_KEY_ID = 'k1';

/** One AES-256 key and the id written into every value it seals. */
export interface KeyringKey {
  kid: string;
  /** Exactly 32 bytes. */
  key: Buffer;
}

/** The primary key seals and opens; `decryptOnly` keys open values sealed before a rotation. */
export interface Keyring {
  primary: KeyringKey;
  decryptOnly: readonly KeyringKey[];
}

/** The environment settings a keyring is built from, named in {@link KeyConfigError}. */
export type KeySetting =
  | 'FHIRGATE_ENCRYPTION_KEY'
  | 'FHIRGATE_ENCRYPTION_KEY_ID'
  | 'FHIRGATE_ENCRYPTION_OLD_KEYS';

/**
 * The keyring settings are unusable. The message names the setting and the reason, and never
 * holds key material, so it is safe to print at boot before exiting non-zero.
 */
export class KeyConfigError extends Error {
  readonly code = 'KEY_CONFIG_INVALID';
  /** Which setting is wrong. */
  readonly setting: KeySetting;

  constructor(setting: KeySetting, message: string) {
    super(message);
    this.name = 'KeyConfigError';
    this.setting = setting;
  }
}

/** Why a sealed value could not be opened. */
export type SealedSecretFailure = 'format' | 'version' | 'unknown-kid' | 'auth-failed';

/**
 * A sealed value could not be opened. The message is fixed text per {@link SealedSecretFailure}:
 * it never holds the sealed value or the plaintext. `kid` is set only for `unknown-kid`, so
 * rotation tooling can say which retired key is still referenced.
 */
export class SealedSecretError extends Error {
  readonly code = 'SEALED_SECRET_INVALID';
  readonly reason: SealedSecretFailure;
  /** The key id named by the value, when it was well-formed but is not in the keyring. */
  readonly kid: string | undefined;

  constructor(reason: SealedSecretFailure, message: string, kid?: string) {
    super(message);
    this.name = 'SealedSecretError';
    this.reason = reason;
    this.kid = kid;
  }
}

const STANDARD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE_BASE64 = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Decodes standard or url-safe base64 (padding optional, alphabets not mixed), or returns
 * undefined. Buffer.from skips characters outside the alphabet and ignores stray trailing bits,
 * so the text is checked first and the result is re-encoded and compared.
 */
function decodeStrictBase64(text: string): Buffer | undefined {
  const urlSafe = URL_SAFE_BASE64.test(text);
  if (!urlSafe && !STANDARD_BASE64.test(text)) {
    return undefined;
  }
  const body = text.replace(/=+$/, '');
  const padded = text.length !== body.length;
  if (body.length % 4 === 1 || (padded && text.length % 4 !== 0)) {
    return undefined;
  }
  const decoded = Buffer.from(body, urlSafe ? 'base64url' : 'base64');
  const canonical = decoded.toString(urlSafe ? 'base64url' : 'base64').replace(/=+$/, '');
  return canonical === body ? decoded : undefined;
}

function parseKey(setting: KeySetting, label: string, text: string): Buffer {
  if (text === '') {
    throw new KeyConfigError(setting, `${label} is empty.`);
  }
  const key = decodeStrictBase64(text);
  if (key === undefined) {
    throw new KeyConfigError(setting, `${label} is not valid base64. ${GENERATE_KEY_HINT}`);
  }
  if (key.length !== KEY_BYTES) {
    throw new KeyConfigError(
      setting,
      `${label} decodes to ${key.length} bytes, expected ${KEY_BYTES}. ${GENERATE_KEY_HINT}`,
    );
  }
  return key;
}

/**
 * Builds the keyring from the three environment settings, validating everything at boot.
 *
 * @param input.primaryKey - `FHIRGATE_ENCRYPTION_KEY`: base64 (standard or url-safe) of exactly
 *   32 random bytes. Required.
 * @param input.primaryKeyId - `FHIRGATE_ENCRYPTION_KEY_ID`: the id written into new values.
 *   Default `'k1'`; an empty string is an error, not the default.
 * @param input.oldKeys - `FHIRGATE_ENCRYPTION_OLD_KEYS`: comma-separated `kid:base64` entries of
 *   decrypt-only keys kept during a rotation. Default none. Key ids must be unique across the
 *   whole keyring.
 * @throws KeyConfigError naming the setting and the reason, never the key material.
 */
export function parseKeyring(input: {
  primaryKey?: string;
  primaryKeyId?: string;
  oldKeys?: string;
}): Keyring {
  if (input.primaryKey === undefined || input.primaryKey === '') {
    throw new KeyConfigError(
      'FHIRGATE_ENCRYPTION_KEY',
      `FHIRGATE_ENCRYPTION_KEY is missing. ${GENERATE_KEY_HINT}`,
    );
  }
  const primaryKid = input.primaryKeyId ?? DEFAULT_KEY_ID;
  if (!KID_PATTERN.test(primaryKid)) {
    throw new KeyConfigError(
      'FHIRGATE_ENCRYPTION_KEY_ID',
      'FHIRGATE_ENCRYPTION_KEY_ID must be 1 to 32 characters of A-Z, a-z, 0-9, "_" or "-".',
    );
  }
  const primary: KeyringKey = {
    kid: primaryKid,
    key: parseKey('FHIRGATE_ENCRYPTION_KEY', 'FHIRGATE_ENCRYPTION_KEY', input.primaryKey),
  };

  const decryptOnly: KeyringKey[] = [];
  const seen = new Set([primaryKid]);
  const oldKeys = input.oldKeys ?? '';
  if (oldKeys.trim() !== '') {
    const entries = oldKeys.split(',');
    for (const [index, raw] of entries.entries()) {
      // Entries are named by position: an unparsed entry may be key material
      const label = `FHIRGATE_ENCRYPTION_OLD_KEYS entry ${index + 1}`;
      const entry = raw.trim();
      const colon = entry.indexOf(':');
      if (colon < 0) {
        throw new KeyConfigError(
          'FHIRGATE_ENCRYPTION_OLD_KEYS',
          `${label} is not of the form kid:base64.`,
        );
      }
      const kid = entry.slice(0, colon);
      if (!KID_PATTERN.test(kid)) {
        throw new KeyConfigError(
          'FHIRGATE_ENCRYPTION_OLD_KEYS',
          `${label} has a key id that is not 1 to 32 characters of A-Z, a-z, 0-9, "_" or "-".`,
        );
      }
      // A valid kid is at most 32 characters, shorter than any 32-byte key in base64 (43+)
      if (seen.has(kid)) {
        throw new KeyConfigError(
          'FHIRGATE_ENCRYPTION_OLD_KEYS',
          `${label} repeats key id "${kid}".`,
        );
      }
      seen.add(kid);
      decryptOnly.push({
        kid,
        key: parseKey('FHIRGATE_ENCRYPTION_OLD_KEYS', label, entry.slice(colon + 1)),
      });
    }
  }
  return { primary, decryptOnly };
}

function aadFor(kid: string, clientId: string): Buffer {
  return Buffer.from(`${AAD_PREFIX}|${kid}|${clientId}`, 'utf8');
}

const sealCounts = new Map<string, number>();

/**
 * How many values this process has sealed under a key id since start. NIST SP 800-38D caps a
 * key with random IVs at 2^32 encryptions; this process-local count is an early-warning metric,
 * not the enforcement of that cap. Default 0.
 */
export function sealCount(kid: string): number {
  return sealCounts.get(kid) ?? 0;
}

/**
 * Seals a tenant database URL under the keyring's primary key, bound to `clientId`.
 * Every call draws a fresh random IV, so sealing the same plaintext twice gives different text.
 *
 * @param clientId - the tenant's `client_id`; the value opens only under the same id.
 */
export function sealSecret(keyring: Keyring, clientId: string, plaintext: string): string {
  if (clientId === '') {
    throw new TypeError('sealSecret: clientId must not be empty');
  }
  const { kid, key } = keyring.primary;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aadFor(kid, clientId));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  sealCounts.set(kid, (sealCounts.get(kid) ?? 0) + 1);
  return `${VERSION}.${kid}.${Buffer.concat([iv, ciphertext, tag]).toString('base64url')}`;
}

interface SealedParts {
  version: string;
  kid: string;
  payload: string;
}

function splitSealed(sealed: string): SealedParts | undefined {
  if (typeof sealed !== 'string') {
    return undefined;
  }
  const parts = sealed.split('.');
  if (parts.length !== 3) {
    return undefined;
  }
  const [version, kid, payload] = parts as [string, string, string];
  return { version, kid, payload };
}

/**
 * The key id a sealed value names, or undefined when it is not a well-formed `v1` value.
 * Rotation jobs and boot checks use it to count rows per key id without opening them.
 */
export function sealedKeyId(sealed: string): string | undefined {
  const parts = splitSealed(sealed);
  if (parts === undefined || parts.version !== VERSION || !KID_PATTERN.test(parts.kid)) {
    return undefined;
  }
  return parts.kid;
}

const MALFORMED = 'sealed secret is malformed.';

/**
 * Opens a value made by {@link sealSecret} for the same `clientId`, with the key its header names.
 *
 * @throws SealedSecretError with `reason` `'format'`, `'version'` (unsupported sealed format
 *   version), `'unknown-kid'` (unknown key id) or `'auth-failed'` (wrong tenant, tampering, or
 *   the wrong key under a reused id). The message never holds the sealed value or the plaintext.
 */
export function openSecret(keyring: Keyring, clientId: string, sealed: string): string {
  const parts = splitSealed(sealed);
  if (parts === undefined) {
    throw new SealedSecretError('format', MALFORMED);
  }
  if (parts.version !== VERSION) {
    throw new SealedSecretError('version', 'unsupported sealed format version.');
  }
  if (!KID_PATTERN.test(parts.kid)) {
    throw new SealedSecretError('format', MALFORMED);
  }
  const entry = [keyring.primary, ...keyring.decryptOnly].find((k) => k.kid === parts.kid);
  if (entry === undefined) {
    throw new SealedSecretError('unknown-kid', 'unknown key id.', parts.kid);
  }
  // Unpadded base64url only: the form sealSecret writes
  const bytes = /^[A-Za-z0-9_-]+$/.test(parts.payload)
    ? decodeStrictBase64(parts.payload)
    : undefined;
  if (bytes === undefined || bytes.length < IV_BYTES + TAG_BYTES) {
    throw new SealedSecretError('format', MALFORMED);
  }
  const iv = bytes.subarray(0, IV_BYTES);
  const ciphertext = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  try {
    // authTagLength pins the tag size: older Node accepts truncated GCM tags otherwise (DEP0182)
    const decipher = createDecipheriv(ALGORITHM, entry.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aadFor(entry.kid, clientId));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedSecretError('auth-failed', 'sealed secret failed authentication.');
  }
}
