import type { Logger } from 'pino';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { tenantHash } from '../logger.js';
import type { RateLimiter } from '../security/rate-limiter.js';
import type { TenantPolicies } from '../tenancy/breakers.js';
import type { ConfigResolver } from '../tenancy/config-resolver.js';
import type { Keyring } from '../tenancy/crypto.js';
import type { TenantPoolManager } from '../tenancy/pool-manager.js';
import type { TenantRegistry } from '../tenancy/registry.js';
import { createLocalReloadBus, createReloadBus, type ReloadBus } from '../tenancy/reload-bus.js';
import type { TlsPolicy } from '../tenancy/tenant-connection.js';
import {
  type AdminActionListener,
  type AdminService,
  createAdminService,
} from './admin-service.js';
import { createTenantErrorLog, type TenantErrorLog } from './tenant-error-log.js';

export interface AdministrationOptions {
  readonly registry: TenantRegistry;
  readonly resolver: ConfigResolver;
  readonly pools: TenantPoolManager;
  readonly policies: TenantPolicies;
  readonly keyring: Keyring;
  readonly defs: FhirDefinitions;
  readonly log: Logger;
  readonly connectionsPerTenant: number;
  /** `FHIRGATE_DB_TLS_POLICY` @default 'allow-plain' */
  readonly tlsPolicy?: TlsPolicy;
  /** The gateway's per-tenant rate limiter: an offboarded tenant's bucket is dropped. */
  readonly tenantLimiter?: RateLimiter;
  /** `REDIS_URL`; unset: reloads stay on this replica and the others follow at the TTL. */
  readonly redisUrl: string | undefined;
  /** `FHIRGATE_RELOAD_CHANNEL` */
  readonly reloadChannel: string;
  /** `FHIRGATE_RELOAD_COOLDOWN_MS` @default 10000 */
  readonly reloadCooldownMs?: number;
  /** The audit hook, called for every admin action (refused ones too). */
  readonly onAdminAction?: AdminActionListener;
}

/** Everything administration adds to a gateway process. */
export interface Administration {
  /** Pass to `buildGatewaySchema({ admin })`. */
  readonly service: AdminService;
  readonly bus: ReloadBus;
  /** Pass `errors.onStatement` as the gateway's `onStatement` (feeds `lastErrorCode`). */
  readonly errors: TenantErrorLog;
  close(): Promise<void>;
}

/**
 * Wires the admin service, the reload bus (Redis pub/sub when `redisUrl` is set) and the
 * per-tenant error log. A reload published by any replica drops the tenant from this replica's
 * config cache; after a Redis outage every tenant is dropped, since messages may have been lost.
 */
export function createAdministration(options: AdministrationOptions): Administration {
  const { resolver, log } = options;
  const errors = createTenantErrorLog();
  const onReload = (clientId: string) => {
    resolver.invalidate(clientId);
    // `fhirgate tenant remove` publishes the client id like any change: a tenant the registry
    // no longer knows is offboarded on this replica too (pool closed, breaker and errors gone).
    resolver.resolve(clientId).then(
      (resolution) => {
        if (resolution.status === 'unknown') {
          offboard(options, errors, clientId);
        }
      },
      () => undefined,
    );
  };
  const bus =
    options.redisUrl === undefined
      ? createLocalReloadBus()
      : createReloadBus({
          url: options.redisUrl,
          channel: options.reloadChannel,
          log,
          onReload,
          onResync: () => resolver.invalidateAll(),
        });
  const service = createAdminService({
    registry: options.registry,
    resolver,
    pools: options.pools,
    policies: options.policies,
    keyring: options.keyring,
    defs: options.defs,
    bus,
    errors,
    log,
    connectionsPerTenant: options.connectionsPerTenant,
    ...(options.tlsPolicy === undefined ? {} : { tlsPolicy: options.tlsPolicy }),
    ...(options.reloadCooldownMs === undefined
      ? {}
      : { reloadCooldownMs: options.reloadCooldownMs }),
    ...(options.onAdminAction === undefined ? {} : { onAdminAction: options.onAdminAction }),
  });
  return { service, bus, errors, close: () => bus.close() };
}

/** Drops everything this replica holds for a removed tenant: pool, breaker, rate bucket, errors. */
export function offboard(
  options: Pick<AdministrationOptions, 'pools' | 'policies' | 'log' | 'tenantLimiter'>,
  errors: TenantErrorLog,
  clientId: string,
): void {
  const hash = tenantHash(clientId);
  options.policies.discard(clientId);
  options.tenantLimiter?.forget(clientId);
  errors.forget(hash);
  options.pools.evict(clientId).then(
    () => options.log.info({ tenant: hash }, 'tenant offboarded on this replica'),
    (err: unknown) => options.log.warn({ tenant: hash, err }, 'tenant offboarding failed'),
  );
}
