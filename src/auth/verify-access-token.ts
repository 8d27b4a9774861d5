import { hash } from 'node:crypto';
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { AuthError } from './auth-error.js';
import type { FhirRole, Principal } from './principal.js';
import { FHIR_ROLES } from './principal.js';

/** Where a token's fhirgate roles are read from. */
export type RoleSource = 'client' | 'realm';

/**
 * How access tokens are checked. Every field is required here; the defaults live in
 * `src/config.ts`, which is the one place that reads the environment.
 */
export interface AccessTokenVerifierOptions {
  /**
   * The exact `iss` string of the Keycloak realm (`https://sso.example.org/realms/hospitals`).
   * jose compares it as a string: `http` vs `https`, a host alias or a trailing slash all fail.
   */
  issuer: string;
  /**
   * The realm's JWKS (`<issuer>/protocol/openid-connect/certs`). It comes from config only, never
   * from the token's `iss`, `jku` or `x5u`.
   */
  jwksUrl: URL;
  /** The `aud` value every hospital client must add through an Audience mapper. @default 'fhir-gateway' */
  audience: string;
  /**
   * Allowed JWS algorithms, checked before any key is fetched, so `none` and HMAC tokens never
   * reach the JWKS. Only asymmetric algorithms are accepted here. @default ['RS256']
   */
  algorithms: string[];
  /** Leeway for `exp`, `nbf` and `iat` against our clock, in seconds. @default 30 */
  clockToleranceSec: number;
  /**
   * The oldest `iat` accepted, as a jose duration string. Keycloak's access-token lifespan is 5 min;
   * this bounds the damage of a token issued with a long lifespan. @default '15m'
   */
  maxTokenAge: string;
  /**
   * The claim that names the tenant. It must be a non-empty string and equal `azp`, the client the
   * token was issued to. @default 'client_id'
   */
  tenantClaim: string;
  /**
   * `client`: roles from `resource_access[<tenant>].roles`, so a role granted for one hospital's
   * client never counts for another. `realm`: roles from `realm_access.roles`, which are
   * realm-wide: in a realm shared by several hospitals, a user granted `fhir-read` for hospital A
   * gets it for hospital B too when signing in through B's client. @default 'client'
   */
  roleSource: RoleSource;
  /**
   * A role, read from the same place as the others, that marks a platform administrator
   * (`Principal.platformAdmin`): with `fhir-admin` it administers every tenant. @default undefined
   */
  platformAdminRole?: string;
  /**
   * The operations clients (`azp`, which always equals the tenant claim) whose tokens may carry
   * the platform-admin role. From any other client, a hospital's above all, the role is ignored:
   * a hospital's identity administrator can name a role, not become a cross-tenant admin.
   * @default [] (nobody is a platform admin)
   */
  platformAdminClients?: readonly string[];
  /**
   * The verified-token cache: how many verified tokens are remembered, and for how long at most.
   * `max: 0` turns it off. @default { max: 10_000, ttlMs: 30_000 }
   */
  tokenCache?: { readonly max: number; readonly ttlMs: number };
}

/** Checks a bearer token and turns it into the caller's `Principal`. */
export interface AccessTokenVerifier {
  /**
   * Resolves with the principal of a valid access token. Rejects with an `AuthError`:
   * `UNAUTHENTICATED` for a bad token, `AUTH_UNAVAILABLE` when the realm's keys cannot be fetched,
   * `TENANT_UNRESOLVED` / `TENANT_MISMATCH` for a token that names no tenant or the wrong one.
   */
  verify(token: string): Promise<Principal>;
}

// Keycloak's realm keys are RSA, EC or EdDSA. HMAC in this list would only ever match a key
// confusion attempt, since a realm JWKS publishes no secret keys.
const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

// The duration grammar of jose's `secs()`, checked up front so a typo fails at startup rather
// than as a TypeError on every request.
const DURATION =
  /^\+? ?(\d+|\d+\.\d+) ?(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)$/i;

// jose codes that mean the realm's keys could not be obtained: a timeout, a non-200 answer
// (ERR_JOSE_GENERIC is only thrown by the fetch here) or a key set that is not a JWKS.
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  'ERR_JWKS_TIMEOUT',
  'ERR_JOSE_GENERIC',
  'ERR_JWKS_INVALID',
]);

const FHIR_ROLE_SET: ReadonlySet<string> = new Set(FHIR_ROLES);

const DEFAULT_TOKEN_CACHE = { max: 10_000, ttlMs: 30_000 } as const;

// Seconds per unit of jose's duration grammar (its year is 365.25 days).
const UNIT_SECONDS: Readonly<Record<string, number>> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
  y: 31_557_600,
};

/** One verified token: its principal, and the instant (epoch ms) the entry stops being used. */
interface CachedPrincipal {
  readonly principal: Principal;
  readonly verifiedAt: number;
  readonly until: number;
}

// RFC 6750 b64token after exactly one space; `i` makes the scheme case-insensitive.
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Builds a verifier with one remote JWKS, so jose's key cache, refetch cooldown and single-flight
 * fetch work across requests. Create it once per issuer at startup, never per request.
 */
export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): AccessTokenVerifier {
  assertOptions(options);
  const { issuer, tenantClaim, roleSource } = options;
  const operationsClients: ReadonlySet<string> = new Set(options.platformAdminClients ?? []);
  const jwks = createRemoteJWKSet(options.jwksUrl, {
    timeoutDuration: 5000,
    cooldownDuration: 30_000,
    cacheMaxAge: 600_000,
  });

  // Runs only after the header checks (alg allowlist, crit), so hostile headers never fetch.
  const getKey: JWTVerifyGetKey = async (protectedHeader, token) => {
    try {
      return await jwks(protectedHeader, token);
    } catch (err) {
      throw toKeyResolutionError(err);
    }
  };

  // Verified tokens by SHA-256 of the whole compact token (the signature included), so a token
  // that differs in any byte is a different entry. Only successes are stored.
  const cacheOptions = options.tokenCache ?? DEFAULT_TOKEN_CACHE;
  const cache =
    cacheOptions.max > 0
      ? new LRUCache<string, CachedPrincipal>({ max: cacheOptions.max })
      : undefined;
  const maxAgeMs = durationSeconds(options.maxTokenAge) * 1000;

  const verifyOptions: JWTVerifyOptions = {
    issuer,
    audience: options.audience,
    algorithms: [...options.algorithms],
    clockTolerance: options.clockToleranceSec,
    maxTokenAge: options.maxTokenAge,
    requiredClaims: ['sub', 'azp', 'iat', 'exp'],
  };

  return {
    async verify(token: string): Promise<Principal> {
      const key = cache === undefined ? undefined : sha256(token);
      if (key !== undefined) {
        const hit = cache?.get(key);
        if (hit !== undefined) {
          const now = Date.now();
          // Re-checked on every hit with the same clock jose reads: past `exp`, past the
          // maximum token age or past the entry's TTL, the token is verified again in full.
          if (now < hit.until && now >= hit.verifiedAt) {
            return hit.principal;
          }
          cache?.delete(key);
        }
      }
      const verifiedAt = Date.now();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, verifyOptions));
      } catch (err) {
        throw toAuthError(err);
      }
      const base = toPrincipal(payload, issuer, tenantClaim, roleSource);
      const adminRole = options.platformAdminRole;
      const principal =
        adminRole !== undefined &&
        operationsClients.has(base.clientId) &&
        grantsRole(payload, base.clientId, roleSource, adminRole)
          ? { ...base, platformAdmin: true }
          : base;
      if (key !== undefined) {
        // jose accepted `exp` and `iat` with the clock tolerance; the cache does not use the
        // tolerance, so a hit is never accepted where a full verification would fail.
        const until = Math.min(
          verifiedAt + cacheOptions.ttlMs,
          principal.expiresAt * 1000,
          typeof payload.iat === 'number' ? payload.iat * 1000 + maxAgeMs : verifiedAt,
        );
        if (until > verifiedAt) {
          cache?.set(key, { principal, verifiedAt, until });
        }
      }
      return principal;
    },
  };
}

function sha256(token: string): string {
  return hash('sha256', token, 'base64url');
}

/** A duration in jose's grammar (already checked by `assertOptions`) in seconds. */
function durationSeconds(duration: string): number {
  const match = DURATION.exec(duration);
  const value = Number(match?.[1] ?? 0);
  // Every unit of the grammar is told apart by its first letter (no months).
  const unit = (match?.[2] ?? 's').charAt(0).toLowerCase();
  return value * (UNIT_SECONDS[unit] ?? 0);
}

/**
 * Extracts the token from an `Authorization` header: the scheme `Bearer` in any case, one space,
 * one RFC 6750 token, nothing else. Throws `AuthError` `UNAUTHENTICATED` with reason
 * `missing-token` (no header, or a blank one) or `malformed-header`.
 */
export function parseBearer(header: string | null): string {
  if (header === null || header.trim() === '') {
    throw new AuthError('UNAUTHENTICATED', { reason: 'missing-token' });
  }
  const match = BEARER.exec(header);
  if (match?.[1] === undefined) {
    throw new AuthError('UNAUTHENTICATED', { reason: 'malformed-header' });
  }
  return match[1];
}

/**
 * The fhirgate roles a verified claims set grants for `clientId`. Only an own, array-valued
 * `roles` counts, only exact `FhirRole` strings are kept, and prototype keys (`__proto__`,
 * `constructor`) never reach `Object.prototype`. Anything else yields no role, never an error.
 */
export function resolveRoles(
  claims: Readonly<Record<string, unknown>>,
  clientId: string,
  source: RoleSource,
): ReadonlySet<FhirRole> {
  const holder =
    source === 'realm'
      ? ownValue(claims, 'realm_access')
      : ownValue(ownValue(claims, 'resource_access'), clientId);
  const list = ownValue(holder, 'roles');
  const roles = new Set<FhirRole>();
  if (!Array.isArray(list)) {
    return roles;
  }
  for (const role of list) {
    if (isFhirRole(role)) {
      roles.add(role);
    }
  }
  return roles;
}

/** True when the claims grant `role` (any string) for `clientId`, read like {@link resolveRoles}. */
export function grantsRole(
  claims: Readonly<Record<string, unknown>>,
  clientId: string,
  source: RoleSource,
  role: string,
): boolean {
  const holder =
    source === 'realm'
      ? ownValue(claims, 'realm_access')
      : ownValue(ownValue(claims, 'resource_access'), clientId);
  const list = ownValue(holder, 'roles');
  return Array.isArray(list) && list.includes(role);
}

function isFhirRole(value: unknown): value is FhirRole {
  return typeof value === 'string' && FHIR_ROLE_SET.has(value);
}

// Reads an own data property only: no prototype chain, no getters.
function ownValue(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) {
    return undefined;
  }
  const found: unknown = Object.getOwnPropertyDescriptor(value, key)?.value;
  return found;
}

function toPrincipal(
  payload: JWTPayload,
  issuer: string,
  tenantClaim: string,
  roleSource: RoleSource,
): Principal {
  const { sub, exp, jti } = payload;
  if (typeof sub !== 'string' || sub === '') {
    throw new AuthError('UNAUTHENTICATED', { reason: 'sub', claim: 'sub' });
  }
  // Keycloak writes `typ` into the payload (jose's `typ` option checks the header): this keeps
  // ID and refresh tokens out.
  const typ = ownValue(payload, 'typ');
  if (typ !== undefined && typ !== 'Bearer') {
    throw new AuthError('UNAUTHENTICATED', { reason: 'typ', claim: 'typ' });
  }
  const clientId = ownValue(payload, tenantClaim);
  if (typeof clientId !== 'string' || clientId === '') {
    throw new AuthError('TENANT_UNRESOLVED', { reason: 'tenant-claim', claim: tenantClaim });
  }
  if (clientId !== ownValue(payload, 'azp')) {
    throw new AuthError('TENANT_MISMATCH', { reason: 'azp', claim: tenantClaim });
  }
  if (typeof exp !== 'number') {
    // jwtVerify has already required a numeric `exp`; this only narrows the type.
    throw new AuthError('UNAUTHENTICATED', { reason: 'exp', claim: 'exp' });
  }
  return {
    issuer,
    subject: sub,
    clientId,
    roles: resolveRoles(payload, clientId, roleSource),
    ...(typeof jti === 'string' ? { tokenId: jti } : {}),
    expiresAt: exp,
  };
}

// Failures while resolving the key: "no such key" is the token's fault, anything that stopped us
// from getting the realm's keys is the identity provider's.
function toKeyResolutionError(err: unknown): unknown {
  if (err instanceof errors.JOSEError) {
    return UNAVAILABLE_CODES.has(err.code)
      ? new AuthError('AUTH_UNAVAILABLE', { reason: err.code, cause: err })
      : err;
  }
  // fetch rejects with a TypeError on refused or reset connections and DNS failures.
  return new AuthError('AUTH_UNAVAILABLE', { reason: 'jwks-fetch-failed', cause: err });
}

function toAuthError(err: unknown): unknown {
  if (err instanceof AuthError) {
    return err;
  }
  if (err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired) {
    return new AuthError('UNAUTHENTICATED', { reason: err.code, claim: err.claim });
  }
  if (err instanceof errors.JOSEError) {
    return new AuthError('UNAUTHENTICATED', { reason: err.code });
  }
  // A TypeError from jose here means our options are wrong: let it surface as an internal error.
  return err;
}

function assertOptions(options: AccessTokenVerifierOptions): void {
  const problems: string[] = [];
  if (options.issuer === '') {
    problems.push('issuer is empty');
  }
  if (options.audience === '') {
    problems.push('audience is empty');
  }
  if (
    options.algorithms.length === 0 ||
    !options.algorithms.every((alg) => ASYMMETRIC_ALGORITHMS.has(alg))
  ) {
    problems.push('algorithms must list asymmetric JWS algorithms only');
  }
  if (!Number.isFinite(options.clockToleranceSec) || options.clockToleranceSec < 0) {
    problems.push('clockToleranceSec must be a non-negative number');
  }
  if (!DURATION.test(options.maxTokenAge)) {
    problems.push('maxTokenAge must be a duration such as "15m"');
  }
  if (options.tenantClaim === '') {
    problems.push('tenantClaim is empty');
  }
  const cache = options.tokenCache;
  if (
    cache !== undefined &&
    !(
      Number.isInteger(cache.max) &&
      cache.max >= 0 &&
      Number.isFinite(cache.ttlMs) &&
      cache.ttlMs >= 0
    )
  ) {
    problems.push('tokenCache needs a non-negative integer max and a non-negative ttlMs');
  }
  if (options.roleSource !== 'client' && options.roleSource !== 'realm') {
    problems.push('roleSource must be "client" or "realm"');
  }
  if (problems.length > 0) {
    throw new Error(`createAccessTokenVerifier: ${problems.join('; ')}`);
  }
}
