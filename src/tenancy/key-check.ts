import { type Keyring, openSecret, SealedSecretError, sealedKeyId } from './crypto.js';
import type { TenantRegistry } from './registry.js';

/**
 * Registry rows sealed under a key id the keyring no longer holds, counted per key id (counts
 * only: no client id, no sealed value). Such a row can never be opened again, so a key must stay
 * in `FHIRGATE_ENCRYPTION_OLD_KEYS` until `fhirgate keys rotate` has re-sealed every row under the
 * primary (SECURITY-TESTS 71f). Rows that are not well-formed sealed values count as `malformed`.
 */
export async function retiredKeyUse(
  registry: Pick<TenantRegistry, 'listTenants'>,
  keyring: Keyring,
): Promise<Map<string, number>> {
  const known = new Set([keyring.primary.kid, ...keyring.decryptOnly.map((k) => k.kid)]);
  const counts = new Map<string, number>();
  for (const tenant of await registry.listTenants()) {
    const kid = sealedKeyId(tenant.sealedUrl) ?? 'malformed';
    if (!known.has(kid)) {
      counts.set(kid, (counts.get(kid) ?? 0) + 1);
    }
  }
  return counts;
}

/** `2 rows reference retired kid k1; 1 row references retired kid k0`. */
export function describeRetiredKeyUse(counts: ReadonlyMap<string, number>): string {
  return [...counts]
    .map(([kid, n]) =>
      kid === 'malformed'
        ? `${n} ${n === 1 ? 'row holds' : 'rows hold'} a malformed sealed URL`
        : `${n} ${n === 1 ? 'row references' : 'rows reference'} retired kid ${kid}`,
    )
    .join('; ');
}

/**
 * Client ids of the tenants whose sealed value this keyring cannot open, in registry order: a
 * wrong `FHIRGATE_ENCRYPTION_KEY`, a retired key id, or a row sealed for another client id. Both
 * `tenant add` and `keys rotate` refuse to go on while this is not empty, so a mistyped key is
 * found before it seals anything (a tenant added under it would fail on every other replica).
 */
export async function unopenableTenants(
  registry: Pick<TenantRegistry, 'listTenants'>,
  keyring: Keyring,
): Promise<string[]> {
  const failed: string[] = [];
  for (const tenant of await registry.listTenants()) {
    try {
      openSecret(keyring, tenant.clientId, tenant.sealedUrl);
    } catch (err) {
      if (!(err instanceof SealedSecretError)) {
        throw err;
      }
      failed.push(tenant.clientId);
    }
  }
  return failed;
}
