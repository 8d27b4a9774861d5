import { tenantHash } from '../logger.js';
import type { TenantRuntime } from '../tenancy/config-resolver.js';

/**
 * The runtime of an operations client (`FHIRGATE_PLATFORM_ADMIN_CLIENTS`) that is not a tenant
 * in the registry: it maps no resource, so every resource field answers
 * `RESOURCE_NOT_SUPPORTED` and no statement can be built; only the admin fields do anything.
 * The in-memory SQLite target is never opened (a statement needs a mapped resource).
 */
export function operationsRuntime(clientId: string): TenantRuntime {
  return {
    clientId,
    tenantHash: tenantHash(clientId),
    target: { kind: 'sqlite', path: ':memory:' },
    targetFingerprint: 'operations-client',
    mapping: { resourceTypes: [], resource: () => undefined },
    mappingVersion: 0,
  };
}
