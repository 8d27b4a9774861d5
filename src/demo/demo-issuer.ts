/**
 * The embedded demo's token issuer: a local stand-in for a Keycloak realm, so `npm start` and
 * `npm run token` work without Keycloak. Its one RS256 key lives in the data dir, and its tokens
 * have the shape Keycloak gives fhirgate's clients, so they go through the same verifier as
 * production tokens.
 */
import { generateKeyPair, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, importJWK, type JWK, SignJWT } from 'jose';
import type { FhirRole } from '../auth/principal.js';
import { writeFileIfAbsent } from './atomic-file.js';
import { DemoSetupError } from './demo-setup-error.js';

/** The demo realm's `iss`. `.invalid` (RFC 2606) never resolves, so it cannot pass for a real realm. */
export const DEMO_ISSUER = 'https://demo.fhirgate.invalid/realms/fhirgate-demo';

/** Where the demo server publishes the issuer's JWKS, on its own port (Keycloak's path layout). */
export const DEMO_JWKS_PATH = '/demo/realms/fhirgate-demo/protocol/openid-connect/certs';

/** The issuer's key file inside the data dir: a private JWK, mode 0600. */
export const DEMO_ISSUER_KEY_FILE = 'demo-issuer-key.json';

/**
 * The longest lifetime a demo token may have. The demo server accepts tokens up to 65 minutes
 * after `iat`, so a longer-lived token would be refused before it expires.
 */
export const MAX_DEMO_TOKEN_LIFETIME_SEC = 3600;

/** The audience every token carries for fhirgate, as the hospitals' Keycloak clients add it. */
const AUDIENCE = ['fhir-gateway', 'account'];

const generateRsaKeyPair = promisify(generateKeyPair);

/** The demo issuer's key, loaded from (or first written to) the data dir. */
export interface DemoIssuer {
  /** The key id in every token header and in the JWKS. */
  readonly kid: string;
  /** The public half, as the demo server's JWKS endpoint serves it. */
  readonly jwks: { readonly keys: JWK[] };
  /** The private JWK (with `d`); never log it. */
  readonly privateJwk: JWK;
}

/**
 * Reads `<dataDir>/demo-issuer-key.json`, or creates it (and `dataDir`) with a new RS256 key when
 * it is missing. Creation is atomic and first-writer-wins, so a concurrent `npm start` and
 * `npm run token` on a fresh data dir end up with the same key.
 *
 * @throws DemoSetupError `DEMO_ISSUER_KEY_INVALID`, naming the file, when it exists but holds
 *   no usable RSA private JWK. Deleting the file makes the next call generate a new key (tokens
 *   signed with the old one then fail).
 */
export async function loadOrCreateDemoIssuer(dataDir: string): Promise<DemoIssuer> {
  const path = join(dataDir, DEMO_ISSUER_KEY_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT') {
      throw err;
    }
    writeFileIfAbsent(path, `${JSON.stringify(await createPrivateJwk(), null, 2)}\n`);
    // Read back rather than use our key: another process may have won the race.
    text = readFileSync(path, 'utf8');
  }
  return toIssuer(path, text);
}

async function createPrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  // RFC 7638 thumbprint: a stable id derived from the public key.
  const kid = await calculateJwkThumbprint({ kty: 'RSA', n: jwk.n, e: jwk.e });
  return { kid, alg: 'RS256', use: 'sig', ...jwk };
}

function toIssuer(path: string, text: string): DemoIssuer {
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw new DemoSetupError(
      'DEMO_ISSUER_KEY_INVALID',
      `${path} is not valid JSON; delete it to create a new demo issuer key.`,
    );
  }
  if (
    typeof jwk !== 'object' ||
    jwk === null ||
    jwk.kty !== 'RSA' ||
    typeof jwk.kid !== 'string' ||
    jwk.kid === '' ||
    typeof jwk.n !== 'string' ||
    typeof jwk.e !== 'string' ||
    typeof jwk.d !== 'string'
  ) {
    throw new DemoSetupError(
      'DEMO_ISSUER_KEY_INVALID',
      `${path} is not an RSA private JWK with a kid; delete it to create a new demo issuer key.`,
    );
  }
  const publicJwk: JWK = { kty: 'RSA', kid: jwk.kid, alg: 'RS256', use: 'sig', n: jwk.n, e: jwk.e };
  return { kid: jwk.kid, jwks: { keys: [publicJwk] }, privateJwk: jwk };
}

/** What a demo token is for. */
export interface MintDemoTokenOptions {
  /** The data dir holding (or about to hold) the issuer key; the server must use the same one. */
  readonly dataDir: string;
  /** The tenant: `azp`, `client_id` and the `resource_access` key, as Keycloak sets them. */
  readonly tenant: string;
  /**
   * Roles for the tenant's client, mirrored in `realm_access`: fhirgate roles, plus the
   * platform-admin role (`FHIRGATE_PLATFORM_ADMIN_ROLE`) when the token is for the platform team.
   */
  readonly roles: readonly (FhirRole | string)[];
  /** `sub` and `preferred_username`. @default 'demo-user' */
  readonly subject?: string;
  /** Seconds until `exp`, 1 to {@link MAX_DEMO_TOKEN_LIFETIME_SEC}. @default 3600 */
  readonly lifetimeSec?: number;
}

/**
 * Signs a Keycloak-shaped access token for the demo realm (RS256, header `kid`): `iss`, `sub`,
 * `aud` `['fhir-gateway', 'account']`, `azp` = `client_id` = tenant, `typ` `Bearer`, `iat`,
 * `exp`, `jti`, `resource_access[tenant].roles`, `realm_access.roles`, `preferred_username`.
 *
 * @throws RangeError when `lifetimeSec` is not an integer from 1 to 3600, or `tenant` or
 *   `subject` is empty.
 */
export async function mintDemoToken(options: MintDemoTokenOptions): Promise<string> {
  const {
    tenant,
    roles,
    subject = 'demo-user',
    lifetimeSec = MAX_DEMO_TOKEN_LIFETIME_SEC,
  } = options;
  if (
    !Number.isInteger(lifetimeSec) ||
    lifetimeSec < 1 ||
    lifetimeSec > MAX_DEMO_TOKEN_LIFETIME_SEC
  ) {
    throw new RangeError(
      `mintDemoToken: lifetimeSec must be an integer from 1 to ${MAX_DEMO_TOKEN_LIFETIME_SEC}`,
    );
  }
  if (tenant === '' || subject === '') {
    throw new RangeError('mintDemoToken: tenant and subject must not be empty');
  }
  const issuer = await loadOrCreateDemoIssuer(options.dataDir);
  const key = await importJWK(issuer.privateJwk, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  const roleList = [...new Set(roles)];
  return new SignJWT({
    typ: 'Bearer',
    azp: tenant,
    client_id: tenant,
    // Computed keys create own properties, even for a tenant named `__proto__`.
    resource_access: { [tenant]: { roles: roleList } },
    realm_access: { roles: roleList },
    scope: 'profile email',
    preferred_username: subject,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: issuer.kid })
    .setIssuer(DEMO_ISSUER)
    .setSubject(subject)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeSec)
    .setJti(randomUUID())
    .sign(key);
}
