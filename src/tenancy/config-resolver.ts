import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { type DialectName, dialectFor } from '../db/dialect.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { createLogThrottle, tenantHash } from '../logger.js';
import { type CompiledMapping, compileMapping } from '../mapping/compile-mapping.js';
import type { Keyring } from './crypto.js';
import type { DatabaseTarget } from './database-url.js';
import { targetFingerprint } from './pool-manager.js';
import type { TenantRegistry } from './registry.js';
import { openTenantTarget, type TlsPolicy } from './tenant-connection.js';

/** While the registry is down, at most one "serving the last known config" line per tenant this often. */
const STALE_LOG_INTERVAL_MS = 60_000;
/**
 * After a failed registry read, this long without another: requests are answered from the last
 * good config (or 503 for a tenant without one) at once. Without it every wave of requests waited
 * for the next read to time out before being served the stale answer: 3-5 s each with a
 * stalled registry (measured). The same 5 s as `REGISTRY_UNAVAILABLE`'s `Retry-After`.
 */
const REGISTRY_RETRY_MS = 5_000;

/** Everything the request path needs to serve one tenant, built once per config load. */
export interface TenantRuntime {
  readonly clientId: string;
  /** The tenant's label in logs and metrics. */
  readonly tenantHash: string;
  readonly target: DatabaseTarget;
  readonly targetFingerprint: string;
  readonly mapping: CompiledMapping;
  readonly mappingVersion: number;
}

/**
 * What the registry says about a client id. Anything but `active` is refused before any tenant
 * database is touched; `invalid` names the broken part (never its content).
 */
export type TenantResolution =
  | { readonly status: 'active'; readonly runtime: TenantRuntime }
  | { readonly status: 'unknown' }
  | { readonly status: 'disabled' }
  | {
      readonly status: 'invalid';
      readonly reason: 'sealed-url' | 'database-url' | 'tls' | 'no-mapping' | 'mapping';
      /**
       * With `no-mapping` or `mapping` (the database is fine, the mapping is missing or broken):
       * the tenant with an empty mapping, so its own `fhir-admin` can reach the admin fields and
       * activate one. It serves no resource. Never used for other callers.
       */
      readonly adminRuntime?: TenantRuntime;
    };

/** A mapping that maps nothing: what a tenant without a usable mapping runs on for its admin. */
const EMPTY_MAPPING = JSON.stringify({ formatVersion: 1, resources: {} });

function withAdminRuntime(
  reason: 'no-mapping' | 'mapping',
  adminRuntime: TenantRuntime | undefined,
): TenantResolution {
  return adminRuntime === undefined
    ? { status: 'invalid', reason }
    : { status: 'invalid', reason, adminRuntime };
}

export interface ConfigResolverOptions {
  /** How long a resolved tenant is served from memory. @default 300000 (5 min) */
  readonly ttlMs: number;
  /** Tenants kept in memory. @default 10000 */
  readonly maxTenants?: number;
  /**
   * While the registry cannot be read, a tenant's last good answer keeps being served for this
   * long after it was read; past it the tenant fails closed with `REGISTRY_UNAVAILABLE` (503).
   * @default 900000 (15 min)
   */
  readonly maxStaleMs?: number;
  /** `FHIRGATE_DB_TLS_POLICY`: a tenant whose TLS mode breaks it is `invalid`. @default 'allow-plain' */
  readonly tlsPolicy?: TlsPolicy;
}

export interface ConfigResolver {
  /** Single-flight per client id: concurrent callers share one registry read. */
  resolve(clientId: string): Promise<TenantResolution>;
  /**
   * Forgets the tenant, so the next request reads the registry again. A load already running
   * for it is not reused: the next caller starts a fresh read, which sees the change.
   */
  invalidate(clientId: string): void;
  /** Forgets every tenant (the reload bus reconnected and may have missed messages). */
  invalidateAll(): void;
  /** `cacheHits`: answered from memory; `cacheMisses`: waited for a registry read (metrics). */
  stats(): {
    readonly registryReads: number;
    readonly compiles: number;
    readonly cacheHits: number;
    readonly cacheMisses: number;
  };
}

/** The registry could not be read and no earlier answer is cached. */
export class RegistryUnavailableError extends Error {
  override readonly name = 'RegistryUnavailableError';
  readonly code = 'REGISTRY_UNAVAILABLE';
  readonly safeMessage = true;
  constructor() {
    super('tenant registry unavailable');
  }
}

/** A cached answer and when the registry gave it. */
interface CachedResolution {
  readonly resolution: TenantResolution;
  readonly loadedAt: number;
}

export function createConfigResolver(
  deps: {
    readonly registry: TenantRegistry;
    readonly keyring: Keyring;
    readonly defs: FhirDefinitions;
    readonly log: Logger;
  },
  options: ConfigResolverOptions,
): ConfigResolver {
  const { registry, keyring, defs, log } = deps;
  const tlsPolicy = options.tlsPolicy ?? 'allow-plain';
  let registryReads = 0;
  let cacheHits = 0;
  let cacheMisses = 0;
  let compiles = 0;

  // Mapping versions are immutable, so a compiled mapping is cached by version, not by TTL: a
  // config reload that finds the same version reuses it.
  const compiled = new LRUCache<string, CompiledMapping | 'invalid'>({ max: 2_000 });
  /** Until then, no registry read is tried (see {@link REGISTRY_RETRY_MS}); 0 when it answers. */
  let registryRetryAt = 0;

  function compileOnce(
    clientId: string,
    version: number,
    document: string,
    dbType: DialectName,
  ): CompiledMapping | 'invalid' {
    const key = `${clientId}\u0000${version}\u0000${dbType}`;
    const hit = compiled.get(key);
    if (hit !== undefined) {
      return hit;
    }
    compiles++;
    let result: CompiledMapping | 'invalid';
    try {
      const outcome = compileMapping(JSON.parse(document), { defs, dialect: dialectFor(dbType) });
      if (outcome.ok) {
        result = outcome.mapping;
      } else {
        // Problems name resources, paths and columns: schema facts, not data.
        log.error(
          { tenant: tenantHash(clientId), version, problems: outcome.problems.slice(0, 20) },
          'tenant mapping invalid',
        );
        result = 'invalid';
      }
    } catch (err) {
      log.error({ tenant: tenantHash(clientId), version, err }, 'tenant mapping unreadable');
      result = 'invalid';
    }
    compiled.set(key, result);
    return result;
  }

  async function load(clientId: string): Promise<TenantResolution> {
    registryReads++;
    let found: Awaited<ReturnType<TenantRegistry['findTenant']>>;
    try {
      found = await registry.findTenant(clientId);
    } catch (err) {
      registryRetryAt = Date.now() + REGISTRY_RETRY_MS;
      log.error({ err }, 'tenant registry read failed');
      throw new RegistryUnavailableError();
    }
    registryRetryAt = 0;
    if (found === undefined) {
      return { status: 'unknown' };
    }
    const { tenant, mapping } = found;
    const hash = tenantHash(clientId);
    if (tenant.status !== 'active') {
      return { status: 'disabled' };
    }
    let target: DatabaseTarget;
    try {
      target = openTenantTarget(keyring, clientId, tenant.sealedUrl, tlsPolicy);
    } catch (err) {
      // The error classes carry a reason and never the sealed or opened URL.
      const code = (err as { code?: unknown }).code;
      const reason =
        code === 'DB_URL_INVALID'
          ? 'database-url'
          : code === 'DB_TLS_INVALID' || code === 'DB_TLS_POLICY'
            ? 'tls'
            : 'sealed-url';
      log.error({ tenant: hash, err }, 'tenant database URL rejected');
      return { status: 'invalid', reason };
    }
    if (target.kind !== tenant.dbType) {
      log.error({ tenant: hash }, 'tenant database URL does not match its database type');
      return { status: 'invalid', reason: 'database-url' };
    }
    const adminRuntime = (): TenantRuntime | undefined => {
      const empty = compileOnce(clientId, 0, EMPTY_MAPPING, target.kind);
      return empty === 'invalid'
        ? undefined
        : {
            clientId,
            tenantHash: hash,
            target,
            targetFingerprint: targetFingerprint(target),
            mapping: empty,
            mappingVersion: 0,
          };
    };
    if (mapping === undefined) {
      log.error({ tenant: hash }, 'tenant has no active mapping');
      return withAdminRuntime('no-mapping', adminRuntime());
    }
    const compiledMapping = compileOnce(clientId, mapping.version, mapping.document, target.kind);
    if (compiledMapping === 'invalid') {
      return withAdminRuntime('mapping', adminRuntime());
    }
    return {
      status: 'active',
      runtime: {
        clientId,
        tenantHash: hash,
        target,
        targetFingerprint: targetFingerprint(target),
        mapping: compiledMapping,
        mappingVersion: mapping.version,
      },
    };
  }

  const maxStaleMs = options.maxStaleMs ?? 900_000;
  const cache = new LRUCache<string, CachedResolution>({
    max: options.maxTenants ?? 10_000,
    ttl: options.ttlMs,
    // A registry outage keeps serving the last good answer (up to maxStaleMs, checked in
    // resolve) instead of failing every tenant at once.
    allowStaleOnFetchRejection: true,
    noDeleteOnFetchRejection: true,
    // Read stale entries during the retry pause without dropping them.
    noDeleteOnStaleGet: true,
    fetchMethod: async (clientId) => ({ resolution: await load(clientId), loadedAt: Date.now() }),
  });

  // During an outage every request of a tenant is served from its last good answer: one warning
  // per tenant per STALE_LOG_INTERVAL_MS, carrying how many requests it stands for.
  const staleLogs = createLogThrottle(STALE_LOG_INTERVAL_MS);

  /** The last good answer during an outage, or a fail-closed error once it is too old. */
  function lastKnownGood(clientId: string, cached: CachedResolution): TenantResolution {
    const ageMs = Date.now() - cached.loadedAt;
    if (ageMs > maxStaleMs) {
      log.warn(
        { tenant: tenantHash(clientId), ageMs, maxStaleMs },
        'tenant registry unavailable and the last known config is too old: failing closed',
      );
      throw new RegistryUnavailableError();
    }
    const alsoServedStale = staleLogs.due(clientId);
    if (alsoServedStale !== undefined) {
      log.warn(
        { tenant: tenantHash(clientId), ageMs, alsoServedStale },
        'tenant registry unavailable: serving the last known config',
      );
    }
    return cached.resolution;
  }

  return {
    async resolve(clientId) {
      if (registryRetryAt !== 0 && Date.now() < registryRetryAt) {
        // The registry failed moments ago: answer from the cache without waiting for it again.
        const status: LRUCache.Status<string, CachedResolution> = {};
        const cached = cache.get(clientId, { allowStale: true, status });
        if (cached === undefined) {
          throw new RegistryUnavailableError();
        }
        cacheHits++;
        // A fresh entry is a plain hit; a stale one (or one being refetched) is last known good.
        return status.get === 'hit' ? cached.resolution : lastKnownGood(clientId, cached);
      }
      // An invalidate during a load aborts it (its answer may predate the change): load again.
      for (let attempt = 0; attempt < 3; attempt++) {
        const status: LRUCache.Status<string, CachedResolution> = {};
        const cached = await cache.fetch(clientId, { status });
        if (attempt === 0 && status.fetch === 'hit') {
          cacheHits++;
        } else if (attempt === 0) {
          cacheMisses++;
        }
        if (cached !== undefined) {
          return status.returnedStale === true
            ? lastKnownGood(clientId, cached)
            : cached.resolution;
        }
        if (status.fetchAborted !== true) {
          break;
        }
      }
      throw new RegistryUnavailableError();
    },
    invalidate(clientId) {
      cache.delete(clientId);
    },
    invalidateAll() {
      cache.clear();
    },
    stats() {
      return { registryReads, compiles, cacheHits, cacheMisses };
    },
  };
}
