/**
 * The operator CLI's audit trail: every registry change made at the command line becomes one
 * admin AuditEvent in the same table as the gateway's (the registry database, or
 * FHIRGATE_AUDIT_DATABASE_URL), with the operator's login name as the agent. Events hold client
 * ids, versions and codes, never a URL or a mapping document.
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { AdminActionInput } from '../audit/audit-event.js';
import { createAuditTrail } from '../audit/audit-trail.js';
import { createSqlAuditStore } from '../audit/sql-audit-store.js';
import { createLogger } from '../logger.js';
import { registryTarget } from '../tenancy/registry-target.js';
import { CliFailure, type RegistrySession } from './cli-support.js';

export type CliAuditEvent = Pick<
  AdminActionInput,
  'action' | 'target' | 'outcome' | 'code' | 'detail' | 'crud'
>;

/** The operator's login name, for the event's agent. */
export function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Runs `body` (one CLI action on `target`) and audits it: `success` with the detail `body`
 * returns, `rejected` for a refusal (exit 1), `failed` otherwise. An event that cannot be
 * written makes the command fail with exit 2 after the action: the operator must know.
 */
export async function audited(
  session: RegistrySession,
  event: Pick<CliAuditEvent, 'action' | 'target' | 'crud'>,
  body: () => Promise<CliAuditEvent['detail']>,
): Promise<void> {
  let outcome: CliAuditEvent['outcome'] = 'success';
  let detail: CliAuditEvent['detail'];
  let code: string | undefined;
  let failure: unknown;
  try {
    detail = await body();
  } catch (err) {
    failure = err;
    outcome = err instanceof CliFailure && err.exitCode === 1 ? 'rejected' : 'failed';
    code = err instanceof CliFailure ? `CLI_EXIT_${err.exitCode}` : 'INTERNAL_ERROR';
  }
  const { config } = session;
  const target = registryTarget(
    config.auditDatabaseUrl ?? (config.registryUrl as string),
    config.registryTls,
    config.dbTlsPolicy,
  );
  const store = createSqlAuditStore(target);
  const trail = createAuditTrail({
    store,
    log: createLogger({ level: 'silent' }),
    sourceId: config.auditSourceId,
  });
  let written = true;
  try {
    await trail.adminAction({
      principal: undefined,
      operator: operatorName(),
      ...event,
      outcome,
      ...(code === undefined ? {} : { code }),
      ...(detail === undefined ? {} : { detail }),
      requestId: `cli-${randomUUID()}`,
    });
  } catch {
    written = false;
  } finally {
    await trail.close().catch(() => undefined);
  }
  if (failure !== undefined) {
    throw failure;
  }
  if (!written) {
    throw new CliFailure(
      'the change was made but its audit event could not be written (the audit database failed).',
    );
  }
}
