import type { AuditScope, RequestAudit } from './audit/use-audit.js';
import type { AuthenticatedRequest } from './auth/request-facts.js';
import type { GatewayContext } from './context.js';
import { createTenantRepository } from './repository/tenant-repository.js';
import { createWorkBudget, type WorkLimits } from './repository/work-budget.js';
import type { TenantPolicies } from './tenancy/breakers.js';
import type { TenantPoolManager } from './tenancy/pool-manager.js';
import { createTenantScope, type StatementListener } from './tenancy/tenant-scope.js';

/** What a request's context is made from, besides the authenticated request. */
export interface RequestContextDeps {
  readonly pools: TenantPoolManager;
  readonly policies: TenantPolicies;
  readonly onStatement?: StatementListener | undefined;
  /** DataLoader batching and caching; false only for the benchmark's naive variant. */
  readonly batchLoads: boolean;
  /** What one request may build and write, and the heavy-request bulkheads (`work-budget.ts`). */
  readonly work: WorkLimits;
  /** The audit record of the request (`useAudit().begin`). */
  readonly beginAudit: (scope: AuditScope) => RequestAudit;
}

/**
 * The context of one authenticated request, the same for GraphQL (Yoga's context factory) and
 * REST: the tenant scope its token selected, its audit record and its repository.
 */
export function createRequestContext(
  deps: RequestContextDeps,
  state: AuthenticatedRequest,
): GatewayContext {
  const work = createWorkBudget(state.runtime.clientId, deps.work, state.lightTicket);
  const tenant = createTenantScope({
    runtime: state.runtime,
    pools: deps.pools,
    policies: deps.policies,
    log: state.log,
    onStatement: deps.onStatement,
    rowPace: () => work.rowPace,
  });
  const audit = deps.beginAudit({
    tenant,
    principal: state.principal,
    requestId: state.requestId,
    ...(state.correlationId === undefined ? {} : { correlationId: state.correlationId }),
    ...(state.source === undefined ? {} : { source: state.source }),
    log: state.log,
  });
  return {
    requestId: state.requestId,
    principal: state.principal,
    tenant,
    repository: createTenantRepository(
      {
        tenant,
        principal: state.principal,
        reads: audit.reads,
        work,
      },
      { batch: deps.batchLoads },
    ),
    log: state.log,
    audit,
  };
}
