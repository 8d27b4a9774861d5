import type { GraphQLError } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { hasRole, type Principal } from '../auth/principal.js';
import { DatabaseError } from '../db/tenant-database.js';
import { gatewayError } from '../errors.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { tenantHash } from '../logger.js';
import { activateMapping } from '../mapping/activate-mapping.js';
import type { MappingProblem } from '../mapping/mapping-problem.js';
import type { BreakerState, TenantPolicies } from '../tenancy/breakers.js';
import type { ConfigResolver } from '../tenancy/config-resolver.js';
import type { Keyring } from '../tenancy/crypto.js';
import type { DatabaseTarget } from '../tenancy/database-url.js';
import { type TenantPoolManager, targetFingerprint } from '../tenancy/pool-manager.js';
import { type TenantRegistry, UnknownTenantError } from '../tenancy/registry.js';
import type { ReloadBus } from '../tenancy/reload-bus.js';
import { openTenantTarget, type TlsPolicy } from '../tenancy/tenant-connection.js';
import type { TenantErrorLog } from './tenant-error-log.js';

/** The admin operations, as the audit trail names them. */
export type AdminActionName = 'reloadTenantConfig' | 'activateTenantMapping' | 'tenantStatus';

/**
 * How an admin action ended: `success`; `refused` (role or tenant check, nothing was done);
 * `rejected` (bad input or a mapping with problems, nothing was stored); `failed` (an
 * infrastructure failure, nothing was stored).
 */
export type AdminOutcome = 'success' | 'refused' | 'rejected' | 'failed';

/**
 * One admin action, for the audit trail. Holds ids, names, codes and counts only: never the
 * mapping document, a database URL or a token.
 */
export interface AdminActionEvent {
  /** Who asked: the verified token's principal. */
  readonly principal: Principal;
  readonly action: AdminActionName;
  /** The client id acted on (as the caller named it). */
  readonly target: string;
  readonly outcome: AdminOutcome;
  readonly requestId: string;
  /** The error code the caller got, when the outcome is not `success`. */
  readonly code?: string;
  /** Action details: `dryRun`, the stored `version`, the number of `problems`. */
  readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
}

/**
 * Receives every admin action, refused ones included (the audit store subscribes here). It is
 * awaited; a listener that throws is logged and does not change the caller's answer.
 */
export type AdminActionListener = (event: AdminActionEvent) => void | Promise<void>;

/** The caller of one admin operation: the request's verified principal. */
export interface AdminCaller {
  readonly principal: Principal;
  readonly requestId: string;
  readonly log: Logger;
}

export interface TenantReloadResult {
  readonly clientId: string;
  /** The mapping version this replica serves after the reload; null when it cannot serve. */
  readonly mappingVersion: number | null;
  /** Whether the reload went out to the other replicas (false without Redis, or Redis down). */
  readonly published: boolean;
}

export interface MappingActivationResult {
  readonly clientId: string;
  readonly dryRun: boolean;
  /** True when the document passed every check (and, unless a dry run, is now active). */
  readonly ok: boolean;
  /** The new active version; null after a dry run or on problems. */
  readonly version: number | null;
  /** Every problem found; when `ok`, only warnings. */
  readonly problems: readonly MappingProblem[];
  readonly published: boolean;
}

export interface TenantStatusResult {
  readonly clientId: string;
  /** `active`, `disabled`, or `invalid` (a broken sealed URL or mapping). */
  readonly status: 'active' | 'disabled' | 'invalid';
  /** The active version in the registry. */
  readonly activeMappingVersion: number | null;
  /** The version this replica serves now (its cache); null when it cannot serve the tenant. */
  readonly mappingVersion: number | null;
  /** Connections this replica holds open for the tenant. */
  readonly poolSize: number;
  readonly connectionsInUse: number;
  readonly idleConnections: number;
  /** Statements waiting for a connection. */
  readonly queueLength: number;
  /** The most connections the tenant may hold on this replica. */
  readonly poolLimit: number;
  /** `closed`, `open`, `half-open`, `isolated`; `closed` when no statement has run yet. */
  readonly breakerState: BreakerState;
  /** The last error code a request of this tenant got on this replica, if any. */
  readonly lastErrorCode: string | null;
  /** When that error happened, ISO 8601. */
  readonly lastErrorAt: string | null;
}

export interface AdminService {
  reloadTenantConfig(caller: AdminCaller, clientId: string): Promise<TenantReloadResult>;
  activateTenantMapping(
    caller: AdminCaller,
    clientId: string,
    document: unknown,
    dryRun: boolean,
  ): Promise<MappingActivationResult>;
  tenantStatus(caller: AdminCaller, clientId: string): Promise<TenantStatusResult>;
}

export interface AdminServiceDeps {
  readonly registry: TenantRegistry;
  readonly resolver: ConfigResolver;
  readonly pools: TenantPoolManager;
  readonly policies: TenantPolicies;
  readonly keyring: Keyring;
  readonly defs: FhirDefinitions;
  readonly bus: ReloadBus;
  readonly errors: TenantErrorLog;
  readonly log: Logger;
  /** Connections per tenant (`FHIRGATE_POOL_TENANT_CONNECTIONS`), reported as `poolLimit`. */
  readonly connectionsPerTenant: number;
  /** `FHIRGATE_DB_TLS_POLICY` @default 'allow-plain' */
  readonly tlsPolicy?: TlsPolicy;
  /** The audit hook; see {@link AdminActionListener}. @default no listener */
  readonly onAdminAction?: AdminActionListener;
  /**
   * One effective `reloadTenantConfig` or (not dry-run) `activateTenantMapping` per tenant in
   * this window (per replica); the others get `RATE_LIMITED` (HTTP 429, `Retry-After`) and are
   * audited as rejected. A reload storm would
   * otherwise make every replica re-read the registry and recompile for each call. @default 10000
   */
  readonly reloadCooldownMs?: number;
}

const CLIENT_ID = /^[\x21-\x7e]{1,255}$/;

/**
 * The admin operations behind the GraphQL admin fields. Rules, for every operation:
 *
 * - the token must grant `fhir-admin`; it acts on the token's own tenant only, unless it also
 *   carries the platform-admin role (`Principal.platformAdmin`), which reaches every tenant;
 * - refusals are `FORBIDDEN`, bad input `BAD_USER_INPUT`, a tenant the registry does not know
 *   `UNKNOWN_TENANT` (only a platform admin can name another tenant, so this reveals nothing to
 *   a hospital admin);
 * - every call, refused or not, reaches {@link AdminServiceDeps.onAdminAction} once;
 * - no answer and no log line holds a database URL or the mapping document.
 */
export function createAdminService(deps: AdminServiceDeps): AdminService {
  const { registry, resolver, pools, policies, keyring, defs, bus, errors } = deps;

  async function audit(
    caller: AdminCaller,
    event: Omit<AdminActionEvent, 'principal' | 'requestId'>,
  ) {
    const full: AdminActionEvent = {
      ...event,
      principal: caller.principal,
      requestId: caller.requestId,
    };
    caller.log.info(
      {
        admin: event.action,
        target: tenantHash(event.target),
        outcome: event.outcome,
        ...(event.code === undefined ? {} : { code: event.code }),
      },
      'admin action',
    );
    if (deps.onAdminAction === undefined) {
      return;
    }
    try {
      await deps.onAdminAction(full);
    } catch (err) {
      caller.log.error({ err, admin: event.action }, 'admin action listener failed');
    }
  }

  /** Refuses (and audits) a caller that may not act on `clientId`. */
  async function authorize(caller: AdminCaller, action: AdminActionName, clientId: string) {
    let refusal: GraphQLError | undefined;
    if (!hasRole(caller.principal, 'fhir-admin')) {
      refusal = gatewayError('FORBIDDEN', 'Administration needs the fhir-admin role.');
    } else if (!CLIENT_ID.test(clientId)) {
      refusal = gatewayError('BAD_USER_INPUT', 'clientId must be 1 to 255 printable characters.');
    } else if (clientId !== caller.principal.clientId && caller.principal.platformAdmin !== true) {
      refusal = gatewayError(
        'FORBIDDEN',
        'A tenant administrator may act only on the tenant of the access token.',
      );
    }
    if (refusal !== undefined) {
      const code = String(refusal.extensions['code']);
      await audit(caller, {
        action,
        target: CLIENT_ID.test(clientId) ? clientId : '(invalid)',
        outcome: code === 'FORBIDDEN' ? 'refused' : 'rejected',
        code,
      });
      throw refusal;
    }
  }

  /** Turns a failure into the client error and audits it. */
  async function fail(
    caller: AdminCaller,
    action: AdminActionName,
    clientId: string,
    err: unknown,
  ): Promise<never> {
    let error: GraphQLError;
    let outcome: AdminOutcome = 'failed';
    if (err instanceof UnknownTenantError) {
      error = gatewayError('UNKNOWN_TENANT', 'The registry has no tenant with this client id.');
      outcome = 'rejected';
    } else if (err instanceof DatabaseError) {
      caller.log.warn({ err, admin: action }, 'admin action failed');
      error =
        err.code === 'DB_TIMEOUT'
          ? gatewayError('UPSTREAM_TIMEOUT', 'A database did not answer in time.')
          : gatewayError('TENANT_UNAVAILABLE', 'A database needed for this action is unavailable.');
    } else if (
      err instanceof Error &&
      (err as { code?: unknown }).code === 'REGISTRY_UNAVAILABLE'
    ) {
      error = gatewayError('REGISTRY_UNAVAILABLE', 'The tenant registry is unavailable.');
    } else if (err instanceof Error && 'extensions' in err) {
      error = err as GraphQLError;
      outcome = 'rejected';
    } else {
      caller.log.error({ err, admin: action }, 'admin action failed');
      error = gatewayError('INTERNAL_SERVER_ERROR', 'Unexpected error.');
    }
    await audit(caller, {
      action,
      target: clientId,
      outcome,
      code: String(error.extensions['code']),
    });
    throw error;
  }

  async function findTenant(clientId: string) {
    let found: Awaited<ReturnType<TenantRegistry['findTenant']>>;
    try {
      found = await registry.findTenant(clientId);
    } catch (err) {
      throw Object.assign(new Error('registry unavailable'), {
        code: 'REGISTRY_UNAVAILABLE',
        cause: err,
      });
    }
    if (found === undefined) {
      throw new UnknownTenantError();
    }
    return found;
  }

  /** The tenant's database target, opened from its sealed URL; never returned to a caller. */
  function targetOf(clientId: string, sealedUrl: string): DatabaseTarget {
    try {
      return openTenantTarget(keyring, clientId, sealedUrl, deps.tlsPolicy ?? 'allow-plain');
    } catch {
      throw gatewayError(
        'TENANT_CONFIG_INVALID',
        "The tenant's sealed database URL cannot be opened; see the server log.",
      );
    }
  }

  async function servedVersion(clientId: string): Promise<number | null> {
    const resolution = await resolver.resolve(clientId);
    if (resolution.status === 'invalid') {
      errors.record(tenantHash(clientId), 'TENANT_CONFIG_INVALID');
    }
    return resolution.status === 'active' ? resolution.runtime.mappingVersion : null;
  }

  const reloadCooldownMs = deps.reloadCooldownMs ?? 10_000;
  /** When each tenant's last effective reload started (bounded like the config cache). */
  const lastReloads = new LRUCache<string, number>({ max: 10_000 });

  /** `RATE_LIMITED` while the tenant's last reload is younger than the cooldown. */
  function reloadCooldown(clientId: string): GraphQLError | undefined {
    const now = Date.now();
    const last = lastReloads.get(clientId);
    if (last !== undefined && now - last < reloadCooldownMs) {
      const retryAfter = Math.max(1, Math.ceil((reloadCooldownMs - (now - last)) / 1000));
      return gatewayError(
        'RATE_LIMITED',
        `This tenant's configuration was reloaded or activated less than ${Math.ceil(reloadCooldownMs / 1000)} s ago; try again later.`,
        { retryAfterSeconds: retryAfter, http: { headers: { 'Retry-After': String(retryAfter) } } },
      );
    }
    lastReloads.set(clientId, now);
    return undefined;
  }

  /** Drops this replica's cache entry and tells the other replicas to do the same. */
  async function reload(clientId: string): Promise<boolean> {
    resolver.invalidate(clientId);
    return bus.publish(clientId);
  }

  return {
    async reloadTenantConfig(caller, clientId) {
      const action = 'reloadTenantConfig';
      await authorize(caller, action, clientId);
      const cooling = reloadCooldown(clientId);
      if (cooling !== undefined) {
        return fail(caller, action, clientId, cooling);
      }
      try {
        await findTenant(clientId);
        const published = await reload(clientId);
        const mappingVersion = await servedVersion(clientId);
        await audit(caller, {
          action,
          target: clientId,
          outcome: 'success',
          detail: { published, mappingVersion },
        });
        return { clientId, mappingVersion, published };
      } catch (err) {
        return fail(caller, action, clientId, err);
      }
    },

    async activateTenantMapping(caller, clientId, document, dryRun) {
      const action = 'activateTenantMapping';
      await authorize(caller, action, clientId);
      // An activation checks the live database, writes the registry and reloads every replica:
      // it shares the reload cooldown. A dry run changes nothing and does not.
      const cooling = dryRun ? undefined : reloadCooldown(clientId);
      if (cooling !== undefined) {
        return fail(caller, action, clientId, cooling);
      }
      try {
        if (document === null || typeof document !== 'object' || Array.isArray(document)) {
          throw gatewayError(
            'BAD_USER_INPUT',
            'document must be a mapping document (a JSON object).',
          );
        }
        const { tenant } = await findTenant(clientId);
        const target = targetOf(clientId, tenant.sealedUrl);
        const database = pools.acquire(clientId, target, targetFingerprint(target));
        const result = await activateMapping({
          registry,
          clientId,
          document,
          database,
          defs,
          createdBy: `${caller.principal.issuer}#${caller.principal.subject}`,
          dryRun,
        });
        if (!result.ok) {
          await audit(caller, {
            action,
            target: clientId,
            outcome: 'rejected',
            code: 'BAD_USER_INPUT',
            detail: { dryRun, problems: result.problems.length },
          });
          return {
            clientId,
            dryRun,
            ok: false,
            version: null,
            problems: result.problems,
            published: false,
          };
        }
        const published = result.version === null ? false : await reload(clientId);
        await audit(caller, {
          action,
          target: clientId,
          outcome: 'success',
          detail: { dryRun, version: result.version, published },
        });
        // Warnings only: they did not block the activation.
        return {
          clientId,
          dryRun,
          ok: true,
          version: result.version,
          problems: result.problems,
          published,
        };
      } catch (err) {
        return fail(caller, action, clientId, err);
      }
    },

    async tenantStatus(caller, clientId) {
      const action = 'tenantStatus';
      await authorize(caller, action, clientId);
      try {
        const { tenant, mapping } = await findTenant(clientId);
        const mappingVersion = tenant.status === 'active' ? await servedVersion(clientId) : null;
        const stats = pools.tenantStats(clientId);
        const lastError = errors.last(tenantHash(clientId));
        const result: TenantStatusResult = {
          clientId,
          status:
            tenant.status === 'disabled'
              ? 'disabled'
              : mappingVersion === null
                ? 'invalid'
                : 'active',
          activeMappingVersion: mapping?.version ?? null,
          mappingVersion,
          poolSize: stats?.open ?? 0,
          connectionsInUse: stats?.inUse ?? 0,
          idleConnections: stats?.idle ?? 0,
          queueLength: stats?.queued ?? 0,
          poolLimit: deps.connectionsPerTenant,
          breakerState: policies.breakerState(clientId) ?? 'closed',
          lastErrorCode: lastError?.code ?? null,
          lastErrorAt: lastError === undefined ? null : new Date(lastError.at).toISOString(),
        };
        await audit(caller, { action, target: clientId, outcome: 'success' });
        return result;
      } catch (err) {
        return fail(caller, action, clientId, err);
      }
    },
  };
}
