/** The roles fhirgate understands. Any other role in a token is ignored. */
export type FhirRole = 'fhir-read' | 'fhir-write' | 'fhir-admin';

export const FHIR_ROLES: readonly FhirRole[] = ['fhir-read', 'fhir-write', 'fhir-admin'];

/**
 * Who is calling, taken only from a verified access token. `clientId` selects the tenant; it is
 * the configured tenant claim (default `client_id`) and always equals `azp`.
 */
export interface Principal {
  /** `iss`: the exact issuer string that verified. */
  readonly issuer: string;
  /** `sub`: the user (or service account) id. Together with `issuer` it identifies the caller. */
  readonly subject: string;
  /** The tenant the token was issued for. */
  readonly clientId: string;
  /** The fhirgate roles the token grants for `clientId`. */
  readonly roles: ReadonlySet<FhirRole>;
  /** `jti`, when the token has one (audit trail). */
  readonly tokenId?: string;
  /** `exp` in seconds since the epoch. */
  readonly expiresAt: number;
  /**
   * The token carries the platform-admin role (`FHIRGATE_PLATFORM_ADMIN_ROLE`): with
   * `fhir-admin` its holder administers any tenant, not only `clientId`. @default false
   */
  readonly platformAdmin?: boolean;
}

export function hasRole(principal: Principal, role: FhirRole): boolean {
  return principal.roles.has(role);
}
