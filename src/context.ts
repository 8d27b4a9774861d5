import type { Logger } from 'pino';
import type { RequestAudit } from './audit/use-audit.js';
import type { Principal } from './auth/principal.js';
import type { RequestLoaders } from './graphql/loaders.js';
import type { DocumentElements } from './graphql/selected-elements.js';
import type { TenantScope } from './tenancy/tenant-scope.js';

/**
 * The GraphQL context of one request. Everything in it belongs to exactly one request and one
 * tenant: the verified principal, the tenant the token selected, and DataLoaders that die with the
 * request. There is no field through which a request could name another tenant.
 */
export interface GatewayContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly tenant: TenantScope;
  readonly loaders: RequestLoaders;
  /**
   * Set when execution starts: the elements the operation selects per resource type
   * (`selected-elements.ts`), which the loaders build resources with.
   */
  readonly selection: { elements?: DocumentElements };
  readonly log: Logger;
  /** What this request read, for its AuditEvent; `audit.trail.adminAction` for admin mutations. */
  readonly audit: RequestAudit;
}
