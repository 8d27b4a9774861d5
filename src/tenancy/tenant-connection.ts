/**
 * What a tenant's sealed value holds: the database URL and, since TLS settings, how to use TLS.
 * The PEM texts (CA bundle, client certificate and key) are sealed with the URL, so a client key
 * is never stored in clear and a copied row still opens only for its own tenant.
 *
 * Plaintext forms: a bare URL (rows sealed before TLS settings existed, and tenants without any
 * TLS option), or JSON `{"url": ..., "tls": {...}}`. Either way the TLS mode defaults by host:
 * `verify-full` for anything but the local machine.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { type DatabaseTls, TLS_MODES, TLS_VERSIONS, type TlsMode } from '../db/database-tls.js';
import { type Keyring, openSecret } from './crypto.js';
import { type DatabaseTarget, parseDatabaseUrl } from './database-url.js';

/**
 * The deployment's rule for tenant and registry connections (`FHIRGATE_DB_TLS_POLICY`):
 * `allow-plain` accepts every mode, `require-tls` refuses `disable`, `require-verified` also
 * refuses `require` (encryption without checking whom it talks to).
 */
export const TLS_POLICIES = ['allow-plain', 'require-tls', 'require-verified'] as const;
export type TlsPolicy = (typeof TLS_POLICIES)[number];

/** TLS settings as the operator gave them; `mode` absent means the default for the host. */
export interface TlsSettings {
  readonly mode?: TlsMode | undefined;
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly minVersion?: DatabaseTls['minVersion'];
}

export interface TenantConnection {
  readonly url: string;
  readonly tls?: TlsSettings | undefined;
}

/** Why a connection's settings were refused: fixed text, never a URL or any PEM content. */
export class TenantConnectionError extends Error {
  override readonly name = 'TenantConnectionError';
  readonly code: 'DB_TLS_INVALID' | 'DB_TLS_POLICY';
  readonly safeMessage = true;
  constructor(code: 'DB_TLS_INVALID' | 'DB_TLS_POLICY', message: string) {
    super(message);
    this.code = code;
  }
}

/** A PEM bundle is text; 256 KiB holds any sane CA bundle. */
const MAX_PEM = 256 * 1024;
const pem = z.string().min(1).max(MAX_PEM);
const StoredTls = z.strictObject({
  mode: z.enum(TLS_MODES).optional(),
  ca: pem.optional(),
  cert: pem.optional(),
  key: pem.optional(),
  minVersion: z.enum(TLS_VERSIONS).optional(),
});
const StoredConnection = z.strictObject({ url: z.string().min(1), tls: StoredTls.optional() });

function hasSettings(tls: TlsSettings | undefined): tls is TlsSettings {
  return tls !== undefined && Object.values(tls).some((v) => v !== undefined);
}

/** The plaintext to seal. Without TLS settings it is the bare URL, as before TLS settings. */
export function encodeTenantConnection(connection: TenantConnection): string {
  if (!hasSettings(connection.tls)) {
    return connection.url;
  }
  const tls = Object.fromEntries(
    Object.entries(connection.tls).filter(([, v]) => v !== undefined),
  ) as TlsSettings;
  return JSON.stringify({ url: connection.url, tls });
}

/** Reads an opened plaintext back. @throws TenantConnectionError when it is not one of ours. */
export function decodeTenantConnection(plaintext: string): TenantConnection {
  if (!plaintext.startsWith('{')) {
    return { url: plaintext };
  }
  let parsed: z.infer<typeof StoredConnection>;
  try {
    parsed = StoredConnection.parse(JSON.parse(plaintext));
  } catch {
    // zod's and JSON's messages can quote the content (a key): fixed text only.
    throw new TenantConnectionError('DB_TLS_INVALID', 'the sealed TLS settings are malformed');
  }
  return parsed.tls === undefined ? { url: parsed.url } : { url: parsed.url, tls: parsed.tls };
}

/** The local machine: loopback addresses and `localhost`. */
export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `verify-full` unless the server is on this machine, where nothing crosses a network. */
export function defaultTlsMode(host: string): TlsMode {
  return isLocalHost(host) ? 'disable' : 'verify-full';
}

/** Why `mode` breaks `policy`, or undefined when it does not. */
export function tlsPolicyViolation(mode: TlsMode, policy: TlsPolicy): string | undefined {
  if (policy !== 'allow-plain' && mode === 'disable') {
    return `plain connections are forbidden (FHIRGATE_DB_TLS_POLICY=${policy})`;
  }
  if (policy === 'require-verified' && mode === 'require') {
    return 'unverified TLS is forbidden (FHIRGATE_DB_TLS_POLICY=require-verified)';
  }
  return undefined;
}

/**
 * The effective TLS of a MySQL target: settings checked for consistency, the default mode applied
 * and the policy enforced. @throws TenantConnectionError
 */
export function effectiveTls(
  host: string,
  settings: TlsSettings | undefined,
  policy: TlsPolicy,
): DatabaseTls {
  const mode = settings?.mode ?? defaultTlsMode(host);
  if (mode === 'disable' && hasSettings({ ...settings, mode: undefined })) {
    throw new TenantConnectionError(
      'DB_TLS_INVALID',
      'TLS mode disable takes no CA, certificate, key or minimum version',
    );
  }
  if ((settings?.cert === undefined) !== (settings?.key === undefined)) {
    throw new TenantConnectionError(
      'DB_TLS_INVALID',
      'a client certificate needs its key, and a key its certificate',
    );
  }
  const violation = tlsPolicyViolation(mode, policy);
  if (violation !== undefined) {
    throw new TenantConnectionError('DB_TLS_POLICY', violation);
  }
  return {
    mode,
    ca: settings?.ca,
    cert: settings?.cert,
    key: settings?.key,
    minVersion: settings?.minVersion ?? 'TLSv1.2',
  };
}

/**
 * A connection's target with its effective TLS (SQLite files take none).
 * @throws DatabaseUrlError for the URL, TenantConnectionError for the TLS settings or the policy
 */
export function connectionTarget(connection: TenantConnection, policy: TlsPolicy): DatabaseTarget {
  const target = parseDatabaseUrl(connection.url);
  if (target.kind === 'sqlite') {
    if (hasSettings(connection.tls)) {
      throw new TenantConnectionError('DB_TLS_INVALID', 'SQLite databases take no TLS settings');
    }
    return target;
  }
  return { ...target, tls: effectiveTls(target.host, connection.tls, policy) };
}

/**
 * Opens a tenant's sealed value into its connection target.
 * @throws SealedSecretError, DatabaseUrlError or TenantConnectionError (all with fixed messages)
 */
export function openTenantTarget(
  keyring: Keyring,
  clientId: string,
  sealed: string,
  policy: TlsPolicy,
): DatabaseTarget {
  return connectionTarget(decodeTenantConnection(openSecret(keyring, clientId, sealed)), policy);
}

/**
 * Checks that the PEM texts parse and that the key belongs to the certificate, so a wrong file
 * fails when the operator gives it, not at the first request. @throws TenantConnectionError
 */
export function checkTlsMaterial(tls: TlsSettings): void {
  const fail = (what: string): never => {
    throw new TenantConnectionError('DB_TLS_INVALID', what);
  };
  if (tls.ca !== undefined) {
    const blocks = tls.ca.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (blocks === null) {
      fail('the CA bundle holds no PEM certificate');
    }
    for (const block of blocks ?? []) {
      try {
        new X509Certificate(block);
      } catch {
        fail('the CA bundle holds a certificate that does not parse');
      }
    }
  }
  let cert: X509Certificate | undefined;
  if (tls.cert !== undefined) {
    try {
      cert = new X509Certificate(tls.cert);
    } catch {
      fail('the client certificate is not a PEM certificate');
    }
  }
  if (tls.key !== undefined) {
    let key: ReturnType<typeof createPrivateKey> | undefined;
    try {
      key = createPrivateKey(tls.key);
    } catch {
      fail('the client key is not an unencrypted PEM private key');
    }
    if (cert !== undefined && key !== undefined && !cert.checkPrivateKey(key)) {
      fail('the client key does not belong to the client certificate');
    }
  }
}
