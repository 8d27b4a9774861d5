import type { Logger } from 'pino';
import type { RequestAudit } from './audit/use-audit.js';
import type { Principal } from './auth/principal.js';
import type { TenantRepository } from './repository/tenant-repository.js';
import type { TenantScope } from './tenancy/tenant-scope.js';

/**
 * The context of one request, GraphQL or REST. Everything in it belongs to exactly one request
 * and one tenant: the verified principal, the tenant the token selected, and the repository
 * (with its DataLoaders) that dies with the request. There is no field through which a request
 * could name another tenant.
 */
export interface GatewayContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly tenant: TenantScope;
  /** Every read of tenant data goes through it: resolvers and REST handlers never see SQL. */
  readonly repository: TenantRepository;
  readonly log: Logger;
  /** What this request read, for its AuditEvent; `audit.trail.adminAction` for admin mutations. */
  readonly audit: RequestAudit;
}
