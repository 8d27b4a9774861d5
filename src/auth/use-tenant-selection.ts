import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.js';
import { lazyChild } from '../logger.js';
import type { ConfigResolver, TenantRuntime } from '../tenancy/config-resolver.js';
import { operationsRuntime } from './operations-runtime.js';
import { FHIR_ROLES, type Principal } from './principal.js';
import { refusalResponse } from './refusal-response.js';
import { extendContext, factsOf } from './request-facts.js';

export interface TenantSelectionOptions {
  readonly resolver: ConfigResolver;
  readonly log: Logger;
  /**
   * Whether the tenant's resilience policy would refuse a statement right now (`busy`: bulkhead
   * slots and queue full; `open`: breaker open), asked once the tenant is resolved. A refused
   * tenant's request ends here with 503 `TENANT_BUSY` / `TENANT_UNAVAILABLE` and `Retry-After`,
   * before Yoga parses it: a flood against a stalled tenant costs a token check, not a GraphQL
   * execution whose statement the bulkhead would refuse anyway. Not asked for `fhir-admin` tokens.
   */
  readonly tenantRefusal?: (
    clientId: string,
  ) => { readonly kind: 'busy' | 'open'; readonly retryAfterSec: number } | undefined;
}

const MESSAGES = {
  UNKNOWN_TENANT: 'The tenant named by the access token is not served here.',
  TENANT_CONFIG_INVALID: "The tenant's configuration is invalid; an administrator has been told.",
  REGISTRY_UNAVAILABLE: 'The tenant registry is unavailable.',
  FORBIDDEN: 'The access token grants no fhirgate role for this tenant.',
  // The same texts as the statement-level refusals in `tenant-scope.ts`.
  TENANT_BUSY: 'The tenant database is busy; retry shortly.',
  TENANT_UNAVAILABLE: 'The tenant database is unavailable.',
} as const;

/** The runtime a verified caller gets, or the code it is refused with. */
async function runtimeFor(
  resolver: ConfigResolver,
  principal: Principal,
): Promise<
  | TenantRuntime
  | { readonly refused: 'UNKNOWN_TENANT' | 'TENANT_CONFIG_INVALID'; readonly status: string }
> {
  const resolution = await resolver.resolve(principal.clientId);
  if (
    resolution.status === 'unknown' &&
    principal.platformAdmin === true &&
    principal.roles.has('fhir-admin')
  ) {
    // An operations client need not be a tenant: it gets the admin fields and no data.
    return operationsRuntime(principal.clientId);
  }
  if (
    resolution.status === 'invalid' &&
    resolution.adminRuntime !== undefined &&
    principal.roles.has('fhir-admin')
  ) {
    // No usable mapping yet: the tenant's own admin may still reach the admin fields (to
    // activate one); the empty mapping serves no resource.
    return resolution.adminRuntime;
  }
  if (resolution.status !== 'active') {
    // Unknown and disabled look the same from outside: no probing for tenant names.
    return {
      refused: resolution.status === 'invalid' ? 'TENANT_CONFIG_INVALID' : 'UNKNOWN_TENANT',
      status: resolution.status,
    };
  }
  return resolution.runtime;
}

/**
 * Selects the tenant of a verified caller (`principal` on the context): its client id, resolved
 * through the registry, gives the tenant runtime (mapping and database target), added to the
 * context as `tenantSelection` with the request's logger. A token with no fhirgate role is 403,
 * an unknown or disabled tenant 403, an invalid one or an unreachable registry 503, a busy or
 * broken tenant 503 with `Retry-After`: all before Yoga parses anything.
 */
export function useTenantSelection(options: TenantSelectionOptions): Plugin {
  const { resolver, log } = options;
  return {
    async onRequest({ serverContext, endResponse }) {
      const { origin, principal } = factsOf(serverContext);
      if (origin === undefined || principal === undefined) {
        return;
      }
      const { requestId, correlationId } = origin;
      if (!FHIR_ROLES.some((role) => principal.roles.has(role))) {
        endResponse(
          refusalResponse(serverContext, {
            code: 'FORBIDDEN',
            message: MESSAGES.FORBIDDEN,
            principal,
          }),
        );
        return;
      }
      let runtime: TenantRuntime;
      try {
        const selected = await runtimeFor(resolver, principal);
        if ('refused' in selected) {
          const code: ErrorCode = selected.refused;
          log.info({ requestId, code, status: selected.status }, 'request refused');
          endResponse(refusalResponse(serverContext, { code, message: MESSAGES[code], principal }));
          return;
        }
        runtime = selected;
      } catch (err) {
        log.error({ requestId, err }, 'tenant resolution failed');
        endResponse(
          refusalResponse(serverContext, {
            code: 'REGISTRY_UNAVAILABLE',
            message: MESSAGES.REGISTRY_UNAVAILABLE,
            headers: { 'retry-after': '5' },
          }),
        );
        return;
      }
      // A tenant whose bulkhead is full or whose breaker is open would refuse this request's first
      // statement anyway: refuse it before parsing, validation and execution cost the shared event
      // loop anything. Not a denial: the caller may read this tenant, just not now. A `fhir-admin`
      // token is let through (its reads still meet the bulkhead): an administrator must be able
      // to see and reload a tenant while its database is down.
      const busy = principal.roles.has('fhir-admin')
        ? undefined
        : options.tenantRefusal?.(runtime.clientId);
      if (busy !== undefined) {
        const code = busy.kind === 'busy' ? 'TENANT_BUSY' : 'TENANT_UNAVAILABLE';
        endResponse(
          refusalResponse(serverContext, {
            code,
            message: MESSAGES[code],
            headers: { 'retry-after': String(busy.retryAfterSec) },
            tenantHash: runtime.tenantHash,
            holdSec: busy.retryAfterSec,
          }),
        );
        return;
      }
      extendContext(serverContext, {
        tenantSelection: {
          runtime,
          log: lazyChild(
            log,
            correlationId === undefined
              ? { requestId, tenant: runtime.tenantHash }
              : { requestId, correlationId, tenant: runtime.tenantHash },
          ),
        },
      });
    },
  };
}
