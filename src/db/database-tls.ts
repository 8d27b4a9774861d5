/**
 * TLS to a database server: the settings a connection uses, their mysql2 and pg `ssl` options,
 * and a fixed, loggable reason for each way a TLS handshake can fail.
 */
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { SslOptions } from 'mysql2';

/**
 * `disable`: plain TCP. `require`: encrypted, the server's certificate not checked (protects
 * against listening, not against an active attacker). `verify-ca`: the certificate must chain to
 * `ca` (or the system roots). `verify-full`: also names the host connected to (SAN).
 */
export const TLS_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** How one connection uses TLS. PEM texts, never file paths: they are sealed with the URL. */
export interface DatabaseTls {
  readonly mode: TlsMode;
  /** PEM CA bundle; absent: Node's bundled roots. */
  readonly ca?: string | undefined;
  /** PEM client certificate for mutual TLS (with `key`). */
  readonly cert?: string | undefined;
  /** PEM private key of `cert`. */
  readonly key?: string | undefined;
  /** @default 'TLSv1.2' */
  readonly minVersion?: TlsVersion | undefined;
}

/** mysql2's `ssl` option for `tls`, or undefined for a plain connection. */
export function mysqlSslOptions(tls: DatabaseTls | undefined): SslOptions | undefined {
  if (tls === undefined || tls.mode === 'disable') {
    return undefined;
  }
  const verify = tls.mode === 'verify-ca' || tls.mode === 'verify-full';
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    minVersion: tls.minVersion ?? 'TLSv1.2',
    rejectUnauthorized: verify,
    // mysql2 checks the host name against the certificate only when asked.
    verifyIdentity: tls.mode === 'verify-full',
  };
}

/**
 * pg's `ssl` option for `tls` (Node's TLS options), or false for a plain connection. pg checks
 * the host name by default (SNI for names, the address itself for IPs); verify-ca turns that check
 * off and keeps the chain check.
 */
export function postgresSslOptions(tls: DatabaseTls | undefined): TlsConnectionOptions | false {
  if (tls === undefined || tls.mode === 'disable') {
    return false;
  }
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    minVersion: tls.minVersion ?? 'TLSv1.2',
    rejectUnauthorized: tls.mode !== 'require',
    ...(tls.mode === 'verify-full' ? {} : { checkServerIdentity: () => undefined }),
  };
}

/** A failed TLS connection: a stable code and a fixed reason, both safe to log. */
export interface TlsFailure {
  readonly code: string;
  readonly reason: string;
}

const NOT_TRUSTED = 'the server certificate is not signed by a trusted CA';

/**
 * OpenSSL's and Node's codes for TLS failures, with a fixed reason each. mysql2 overwrites the
 * code of every TLS error with `HANDSHAKE_SSL_ERROR`, so the same failures are also recognised by
 * their message ({@link MESSAGES}); the message itself is never logged, since it can quote the
 * host name and the certificate's names.
 */
const CODES: Readonly<Record<string, string>> = {
  HANDSHAKE_NO_SSL_SUPPORT: 'TLS is required but the server does not offer it',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: NOT_TRUSTED,
  UNABLE_TO_GET_ISSUER_CERT: NOT_TRUSTED,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: NOT_TRUSTED,
  SELF_SIGNED_CERT_IN_CHAIN: NOT_TRUSTED,
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted',
  CERT_SIGNATURE_FAILURE: 'the server certificate signature is invalid',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not yet valid',
  CERT_REVOKED: 'the server certificate is revoked',
  CERT_UNTRUSTED: 'the server certificate is not trusted',
  INVALID_CA: 'a certificate in the server chain is not a valid CA',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name the database host',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'the server does not trust the client certificate',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the server refused the client certificate',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the server requires a client certificate',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'no TLS version both sides accept',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'no TLS version both sides accept',
  ERR_SSL_WRONG_VERSION_NUMBER: 'the TLS handshake failed (not a TLS answer)',
  ERR_SSL_KEY_VALUES_MISMATCH: 'the client certificate and key do not match',
  ERR_TLS_HANDSHAKE_FAILED: 'the TLS handshake failed',
};

/** Message patterns of the errors behind `HANDSHAKE_SSL_ERROR`, mapped to a code of {@link CODES}. */
const MESSAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/certificate has expired/i, 'CERT_HAS_EXPIRED'],
  [/certificate is not yet valid/i, 'CERT_NOT_YET_VALID'],
  [/self[- ]signed certificate in certificate chain/i, 'SELF_SIGNED_CERT_IN_CHAIN'],
  [/^self[- ]signed certificate$/i, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  [/unable to verify the first certificate/i, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  [/unable to get local issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
  [/unable to get issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT'],
  [/certificate signature failure/i, 'CERT_SIGNATURE_FAILURE'],
  [/certificate revoked/i, 'CERT_REVOKED'],
  [/invalid CA certificate/i, 'INVALID_CA'],
  [/does not match certificate's altnames/i, 'ERR_TLS_CERT_ALTNAME_INVALID'],
  [/alert unknown ca/i, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'],
  [/alert bad certificate/i, 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'],
  [/alert certificate required/i, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'],
  [/protocol version|unsupported protocol/i, 'ERR_SSL_UNSUPPORTED_PROTOCOL'],
  [/wrong version number/i, 'ERR_SSL_WRONG_VERSION_NUMBER'],
  [/key values mismatch/i, 'ERR_SSL_KEY_VALUES_MISMATCH'],
];

/**
 * The code and reason of a TLS connection failure, or undefined when `err` is not one. Only the
 * returned code and fixed reason may be logged; `err`'s message may name hosts.
 */
export function classifyTlsFailure(err: unknown): TlsFailure | undefined {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    message?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code === undefined) {
    return undefined;
  }
  const direct = CODES[code];
  if (direct !== undefined) {
    return { code, reason: direct };
  }
  if (code !== 'HANDSHAKE_SSL_ERROR' && !code.startsWith('ERR_SSL_') && code !== 'EPROTO') {
    return undefined;
  }
  const message = typeof e.message === 'string' ? e.message : '';
  for (const [pattern, known] of MESSAGES) {
    if (pattern.test(message)) {
      return { code: known, reason: CODES[known] as string };
    }
  }
  return { code: 'ERR_TLS_HANDSHAKE_FAILED', reason: 'the TLS handshake failed' };
}
