/**
 * SMART App Launch discovery (`/.well-known/smart-configuration`), pointing at the configured
 * token issuer. The endpoints follow Keycloak's layout under the realm URL
 * (`<issuer>/protocol/openid-connect/...`), the identity provider fhirgate is deployed with.
 */

/** The OAuth endpoints of an issuer (a Keycloak realm URL). */
export function smartEndpoints(issuer: string): {
  readonly authorize: string;
  readonly token: string;
  readonly jwks: string;
} {
  const base = `${issuer.replace(/\/+$/, '')}/protocol/openid-connect`;
  return { authorize: `${base}/auth`, token: `${base}/token`, jwks: `${base}/certs` };
}

/** The SMART configuration document; public, and the same for every tenant. */
export function smartConfiguration(issuer: string): Record<string, unknown> {
  const endpoints = smartEndpoints(issuer);
  return {
    issuer,
    jwks_uri: endpoints.jwks,
    authorization_endpoint: endpoints.authorize,
    token_endpoint: endpoints.token,
    grant_types_supported: ['authorization_code', 'client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
    scopes_supported: ['openid', 'system/*.read', 'user/*.read'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    capabilities: ['client-confidential-symmetric', 'client-confidential-asymmetric'],
  };
}
