import { LRUCache } from 'lru-cache';
import type { StatementListener } from '../tenancy/tenant-scope.js';

/** The last error a tenant's requests got on this replica, for `tenantStatus`. */
export interface TenantError {
  /** The client error code (`TENANT_UNAVAILABLE`, `UPSTREAM_TIMEOUT`...). */
  readonly code: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** Remembers the last error code per tenant (by tenant hash), bounded to 20,000 tenants. */
export interface TenantErrorLog {
  record(tenantHash: string, code: string): void;
  last(tenantHash: string): TenantError | undefined;
  /** Drops a tenant's entry (an offboarded tenant). */
  forget(tenantHash: string): void;
  /** A statement listener that records failed statements; pass it as the gateway's `onStatement`. */
  readonly onStatement: StatementListener;
}

export function createTenantErrorLog(): TenantErrorLog {
  const entries = new LRUCache<string, TenantError>({ max: 20_000 });
  const record = (tenantHash: string, code: string) => {
    entries.set(tenantHash, { code, at: Date.now() });
  };
  return {
    record,
    last: (tenantHash) => entries.get(tenantHash),
    forget: (tenantHash) => {
      entries.delete(tenantHash);
    },
    onStatement: (event) => {
      if (!event.ok) {
        record(event.tenantHash, event.errorCode ?? 'INTERNAL_SERVER_ERROR');
      }
    },
  };
}
