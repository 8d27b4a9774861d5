import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CryptoKey, JWK, JWTHeaderParameters, JWTPayload } from 'jose';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';

/** How a realm's JWKS endpoint answers: normally, with HTTP 503, or never (holds the socket). */
export type KeycloakStubMode = 'up' | 'down' | 'stall';

/** Options for `startKeycloakStub`. */
export interface KeycloakStubOptions {
  /** Realms to serve, each with its own RSA key and issuer. @default ['test'] */
  realms?: string[];
}

/** Which key and realm `sign` uses. */
export interface StubSignOptions {
  /** Realm whose issuer and key are used. @default 'test' */
  realm?: string;
  /** Feeds the default `azp`, `client_id` and `resource_access` entry. @default 'hospital-a' */
  clientId?: string;
  /** The realm key to sign with, published or removed. @default the realm's current signing key */
  kid?: string;
  /** Extra or overriding protected-header fields (`crit`, `jku`, `alg`…). */
  header?: Record<string, unknown>;
  /** Sign with this private key instead of the realm's; the header still names `kid`. */
  key?: CryptoKey;
}

/** What `tokenFor` puts into a Keycloak-shaped access token. */
export interface TokenForOptions {
  /** The hospital client (`azp`, `client_id`). */
  clientId: string;
  /** Client roles, in `resource_access[clientId].roles`. @default [] */
  roles?: string[];
  /** Extra realm roles, in `realm_access.roles` beside Keycloak's defaults. @default [] */
  realmRoles?: string[];
  /** Claims set last; a claim set to `undefined` is removed from the token. */
  overrides?: Record<string, unknown>;
  /** Extra or overriding protected-header fields. */
  header?: Record<string, unknown>;
  /** @default 'test' */
  realm?: string;
  /** @default the realm's current signing key */
  kid?: string;
}

/**
 * A local stand-in for a Keycloak server: real HTTP, per-realm RSA keys, a request counter and
 * failure modes, plus token minting (valid and hostile).
 */
export interface KeycloakStub {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** `${baseUrl}/realms/<realm>`, the `iss` of the realm's tokens. */
  issuer(realm?: string): string;
  /** `${issuer}/protocol/openid-connect/certs`, as a URL (what the verifier takes). */
  jwksUrl(realm?: string): URL;
  /** JWKS requests the realm has received, in any mode. */
  requestCount(realm?: string): number;
  /** Switches how the realm's JWKS endpoint answers. */
  setMode(realm: string, mode: KeycloakStubMode): void;
  /** Adds and publishes a new key, signs with it from now on, and returns its kid. */
  rotate(realm?: string): Promise<string>;
  /** Unpublishes a key. `sign` can still use it (`{ kid }`), as a leaked or retired key. */
  removeKey(realm: string, kid: string): void;
  /** The kid `sign` uses by default. */
  currentKid(realm?: string): string;
  /** Signs `claims` merged over Keycloak access-token defaults; `undefined` removes a claim. */
  sign(claims?: Record<string, unknown>, options?: StubSignOptions): Promise<string>;
  /** A Keycloak access token for a user of `clientId` with the given roles. */
  tokenFor(options: TokenForOptions): Promise<string>;
  /** `alg: none` with an empty signature (Keycloak-shaped claims). */
  unsecuredToken(claims?: Record<string, unknown>, realm?: string): string;
  /**
   * Key confusion: HS256 with the realm's public key as the HMAC secret, as SPKI PEM text or as
   * the JWK's JSON, carrying the realm's real kid.
   */
  hmacConfusionToken(
    secret: 'pem' | 'jwk',
    claims?: Record<string, unknown>,
    realm?: string,
  ): Promise<string>;
  /** Signed by an attacker's RSA key, with the header naming a published kid of the realm. */
  forgedToken(
    claims?: Record<string, unknown>,
    options?: { realm?: string; kid?: string },
  ): Promise<string>;
  /** Stops the server, cutting stalled requests. */
  close(): Promise<void>;
}

interface RealmKey {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
  published: boolean;
}

interface RealmState {
  readonly name: string;
  readonly keys: Map<string, RealmKey>;
  /** Keycloak also publishes an encryption key; verifiers must skip it. */
  readonly encryptionJwk: JWK;
  signingKid: string;
  mode: KeycloakStubMode;
  requests: number;
}

const CERTS_PATH = /^\/realms\/([^/]+)\/protocol\/openid-connect\/certs$/;
const WELL_KNOWN_PATH = /^\/realms\/([^/]+)\/\.well-known\/openid-configuration$/;

/** Default client of minted tokens. */
export const DEFAULT_CLIENT_ID = 'hospital-a';

/** The audience the gateway requires; the stub adds it as Keycloak's Audience mapper would. */
export const GATEWAY_AUDIENCE = 'fhir-gateway';

/**
 * Starts the stub on 127.0.0.1 and a free port. Call `close()` in `afterAll`.
 */
export async function startKeycloakStub(options: KeycloakStubOptions = {}): Promise<KeycloakStub> {
  const realmNames = options.realms ?? ['test'];
  const realms = new Map<string, RealmState>();
  for (const name of realmNames) {
    realms.set(name, await createRealm(name));
  }
  let attackerKey: CryptoKey | undefined;
  let baseUrl = '';

  const server = createServer((req, res) => {
    handleRequest(req, res, realms, baseUrl);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function realmOf(realm: string): RealmState {
    const state = realms.get(realm);
    if (state === undefined) {
      throw new Error(`keycloak stub: unknown realm "${realm}"`);
    }
    return state;
  }

  function keyOf(state: RealmState, kid: string): RealmKey {
    const key = state.keys.get(kid);
    if (key === undefined) {
      throw new Error(`keycloak stub: realm "${state.name}" has no key "${kid}"`);
    }
    return key;
  }

  const issuer = (realm = 'test'): string => {
    realmOf(realm);
    return `${baseUrl}/realms/${realm}`;
  };

  const sign = async (
    claims: Record<string, unknown> = {},
    signOptions: StubSignOptions = {},
  ): Promise<string> => {
    const realm = signOptions.realm ?? 'test';
    const state = realmOf(realm);
    const kid = signOptions.kid ?? state.signingKid;
    const key = signOptions.key ?? keyOf(state, kid).privateKey;
    const payload = withoutUndefined({
      ...defaultClaims(issuer(realm), realm, signOptions.clientId ?? DEFAULT_CLIENT_ID),
      ...claims,
    });
    const header: JWTHeaderParameters = { alg: 'RS256', typ: 'JWT', kid, ...signOptions.header };
    return new SignJWT(payload).setProtectedHeader(header).sign(key, critOption(header));
  };

  return {
    baseUrl,
    issuer,
    jwksUrl: (realm = 'test') => new URL(`${issuer(realm)}/protocol/openid-connect/certs`),
    requestCount: (realm = 'test') => realmOf(realm).requests,
    setMode: (realm, mode) => {
      realmOf(realm).mode = mode;
    },
    rotate: async (realm = 'test') => {
      const state = realmOf(realm);
      const [kid, key] = await createSigningKey();
      state.keys.set(kid, key);
      state.signingKid = kid;
      return kid;
    },
    removeKey: (realm, kid) => {
      keyOf(realmOf(realm), kid).published = false;
    },
    currentKid: (realm = 'test') => realmOf(realm).signingKid,
    sign,
    tokenFor: (o) =>
      sign(
        {
          resource_access: {
            [o.clientId]: { roles: o.roles ?? [] },
            account: { roles: ['manage-account', 'manage-account-links', 'view-profile'] },
          },
          realm_access: {
            roles: [...keycloakDefaultRealmRoles(o.realm ?? 'test'), ...(o.realmRoles ?? [])],
          },
          ...o.overrides,
        },
        {
          clientId: o.clientId,
          ...(o.realm === undefined ? {} : { realm: o.realm }),
          ...(o.kid === undefined ? {} : { kid: o.kid }),
          ...(o.header === undefined ? {} : { header: o.header }),
        },
      ),
    unsecuredToken: (claims = {}, realm = 'test') =>
      encodeJwt(
        { alg: 'none', typ: 'JWT' },
        withoutUndefined({ ...defaultClaims(issuer(realm), realm, DEFAULT_CLIENT_ID), ...claims }),
      ),
    hmacConfusionToken: async (secret, claims = {}, realm = 'test') => {
      const state = realmOf(realm);
      const signing = keyOf(state, state.signingKid);
      const secretText =
        secret === 'pem' ? await exportSPKI(signing.publicKey) : JSON.stringify(signing.jwk);
      const payload = withoutUndefined({
        ...defaultClaims(issuer(realm), realm, DEFAULT_CLIENT_ID),
        ...claims,
      });
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: state.signingKid })
        .sign(new TextEncoder().encode(secretText));
    },
    forgedToken: async (claims = {}, forgeOptions = {}) => {
      attackerKey ??= (await generateKeyPair('RS256')).privateKey;
      return sign(claims, {
        key: attackerKey,
        ...(forgeOptions.realm === undefined ? {} : { realm: forgeOptions.realm }),
        ...(forgeOptions.kid === undefined ? {} : { kid: forgeOptions.kid }),
      });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
      });
    },
  };
}

/**
 * Builds a compact JWS from raw parts without signing: for `alg: none` and malformed tokens.
 */
export function encodeJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signature = '',
): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(payload)}.${signature}`;
}

/** Seconds since the epoch, from `Date.now()` (so fake timers apply). */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  realms: ReadonlyMap<string, RealmState>,
  baseUrl: string,
): void {
  const { pathname } = new URL(req.url ?? '/', baseUrl);
  const certs = CERTS_PATH.exec(pathname);
  const wellKnown = WELL_KNOWN_PATH.exec(pathname);
  const realmName = certs?.[1] ?? wellKnown?.[1];
  const state = realmName === undefined ? undefined : realms.get(decodeURIComponent(realmName));
  if (req.method !== 'GET' || state === undefined) {
    sendJson(res, 404, { error: 'Realm does not exist' });
    return;
  }
  if (wellKnown) {
    const issuer = `${baseUrl}/realms/${state.name}`;
    sendJson(res, 200, {
      issuer,
      jwks_uri: `${issuer}/protocol/openid-connect/certs`,
      id_token_signing_alg_values_supported: ['RS256'],
    });
    return;
  }
  state.requests += 1;
  if (state.mode === 'stall') {
    // Never answer; `close()` cuts the socket.
    return;
  }
  if (state.mode === 'down') {
    sendJson(res, 503, { error: 'Service Unavailable' });
    return;
  }
  const signing = [...state.keys.values()].filter((k) => k.published).map((k) => k.jwk);
  sendJson(res, 200, { keys: [state.encryptionJwk, ...signing] });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-cache',
  });
  res.end(text);
}

async function createRealm(name: string): Promise<RealmState> {
  const [kid, key] = await createSigningKey();
  const enc = await generateKeyPair('RSA-OAEP', { extractable: true });
  const encryptionJwk: JWK = {
    kid: newKid(),
    use: 'enc',
    alg: 'RSA-OAEP',
    ...(await exportJWK(enc.publicKey)),
  };
  return {
    name,
    keys: new Map([[kid, key]]),
    encryptionJwk,
    signingKid: kid,
    mode: 'up',
    requests: 0,
  };
}

async function createSigningKey(): Promise<[string, RealmKey]> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = newKid();
  // Keycloak's shape: kid, kty, alg, use, n, e (it also adds x5c/x5t, which jose ignores).
  const jwk: JWK = { kid, use: 'sig', alg: 'RS256', ...(await exportJWK(publicKey)) };
  return [kid, { privateKey, publicKey, jwk, published: true }];
}

function newKid(): string {
  return randomBytes(32).toString('base64url');
}

function keycloakDefaultRealmRoles(realm: string): string[] {
  return [`default-roles-${realm}`, 'offline_access', 'uma_authorization'];
}

function defaultClaims(iss: string, realm: string, clientId: string): Record<string, unknown> {
  const now = nowSec();
  return {
    exp: now + 300,
    iat: now,
    auth_time: now,
    jti: randomUUID(),
    iss,
    aud: [GATEWAY_AUDIENCE, 'account'],
    sub: randomUUID(),
    typ: 'Bearer',
    azp: clientId,
    sid: randomUUID(),
    acr: '1',
    realm_access: { roles: keycloakDefaultRealmRoles(realm) },
    resource_access: {
      [clientId]: { roles: [] },
      account: { roles: ['manage-account', 'manage-account-links', 'view-profile'] },
    },
    scope: 'openid profile email',
    email_verified: false,
    client_id: clientId,
    preferred_username: `service-account-${clientId}`,
  };
}

function withoutUndefined(claims: Record<string, unknown>): JWTPayload {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value !== undefined) {
      // defineProperty keeps a literal "__proto__" claim an own property.
      Object.defineProperty(out, name, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return out;
}

function critOption(header: JWTHeaderParameters): { crit: Record<string, boolean> } | undefined {
  const { crit } = header;
  if (!Array.isArray(crit)) {
    return undefined;
  }
  // jose refuses to sign unknown critical parameters unless told they are understood.
  return { crit: Object.fromEntries(crit.map((name) => [name, true])) };
}
