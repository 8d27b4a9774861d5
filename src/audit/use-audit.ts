import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  Kind,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import { gatewayError } from '../errors.js';
import { tenantHash } from '../logger.js';
import type { TenantScope } from '../tenancy/tenant-scope.js';
import type { AuditTrail } from './audit-trail.js';
import { maskedOperation } from './masked-operation.js';
import {
  createPatientEnumerationGuard,
  type PatientEnumerationLimit,
} from './patient-enumeration.js';

/** Who and what a request's audit event is about: set when its context is made. */
export interface AuditScope {
  readonly tenant: TenantScope;
  readonly principal: Principal;
  readonly requestId: string;
  readonly correlationId?: string;
  /** The client address (`request-facts.ts`), written as the caller's `agent.network`. */
  readonly source?: string;
  readonly log: Logger;
}

/**
 * The audit record of one request, in its context (GraphQL or REST). The request's DataLoaders
 * push the reference of every resource they hand out into `reads` (see `noteRead`); admin
 * mutations use `trail.adminAction`.
 */
export interface RequestAudit {
  /** `Patient/123`, `Observation/9`...: every resource this request read, duplicates allowed. */
  readonly reads: string[];
  /** The operation has a search field (`XList`, `XConnection`); set before execution. */
  search: boolean;
  /** A search's document with its literals masked (the BALP query entity); set with `search`. */
  query?: string;
  readonly trail: AuditTrail;
  readonly scope: AuditScope;
  /** Set once the request's event was decided (`complete`): a request is audited once. */
  completed: boolean;
}

/** The error a PHI read answers with when its audit event could not be written. */
export function auditUnavailableError(): GraphQLError {
  return gatewayError(
    'AUDIT_UNAVAILABLE',
    'The audit trail is unavailable, so no data can be returned; retry later.',
    { http: { headers: { 'retry-after': '5' } } },
  );
}

const SEARCH_FIELD = /(List|Connection)$/;

/** True when the operation's root selection has a search field, through fragments too. */
export function operationSearches(document: DocumentNode, operationName?: string | null): boolean {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: SelectionSetNode | undefined;
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(def.name.value, def);
    } else if (
      def.kind === Kind.OPERATION_DEFINITION &&
      (operationName == null || def.name?.value === operationName)
    ) {
      operation ??= def.selectionSet;
    }
  }
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode | undefined): boolean =>
    set?.selections.some((s) => {
      if (s.kind === Kind.FIELD) {
        return SEARCH_FIELD.test(s.name.value);
      }
      if (s.kind === Kind.INLINE_FRAGMENT) {
        return visit(s.selectionSet);
      }
      if (seen.has(s.name.value)) {
        return false;
      }
      seen.add(s.name.value);
      return visit(fragments.get(s.name.value)?.selectionSet);
    }) ?? false;
  return visit(operation);
}

function codeOf(error: unknown): string | undefined {
  const extensions = (error as { extensions?: Record<string, unknown> } | null)?.extensions;
  const code = extensions?.['code'];
  return typeof code === 'string' ? code : undefined;
}

/**
 * Audits every request that reached GraphQL execution, before its response leaves:
 *
 * - a request that read tenant data (any resource handed out, or any statement sent, so an
 *   empty search counts too) awaits the durable write of its AuditEvent in `onResultProcess`,
 *   after execution and masking and before the response is serialized. A result with data and
 *   errors (a partial result) is audited the same way, with outcome 4.
 * - if the write fails or the backlog is full, the result is replaced by one
 *   `AUDIT_UNAVAILABLE` error (HTTP 503, no `data`): no audit, no data.
 * - a field refused with `FORBIDDEN` is recorded as a denied access (not awaited).
 *
 * Requests refused before execution (401, 403, 429) are recorded through `onDenied` of
 * `auth/use-refusals.ts`. Batching and incremental delivery are off, so a result is one object; any
 * other shape from a request that read data is refused the same way as a failed write.
 */
export function useAudit(options: {
  trail: AuditTrail;
  /** Per-user distinct-patient limit (C48); absent or 0: off. */
  patientLimit?: PatientEnumerationLimit;
}): {
  plugin: Plugin;
  /**
   * Ends the audit of a request that did not go through GraphQL execution (FHIR REST): the
   * error codes it answers with, if any. Resolves to the error to answer with instead of the
   * data when the audit could not be written or a limit refused it.
   */
  complete(
    audit: RequestAudit,
    errorCodes: readonly (string | undefined)[],
    errorCount: number,
  ): Promise<GraphQLError | undefined>;
  /**
   * Called by the context factory: the request's audit record, in its context and shared with
   * its repository.
   */
  begin(scope: AuditScope): RequestAudit;
} {
  const { trail } = options;
  const guard =
    options.patientLimit === undefined
      ? undefined
      : createPatientEnumerationGuard(options.patientLimit);
  // Yoga caches parsed documents by query text, so a repeated query is the same object: its
  // answer is computed once per operation name, not walked again on every request.
  const searches = new WeakMap<
    DocumentNode,
    Map<string | null, { search: boolean; query?: string }>
  >();

  const plugin: Plugin = {
    onExecute({ args }) {
      const audit = (args.contextValue as { audit?: RequestAudit } | undefined)?.audit;
      if (audit !== undefined) {
        let byName = searches.get(args.document);
        if (byName === undefined) {
          byName = new Map();
          searches.set(args.document, byName);
        }
        const key = args.operationName ?? null;
        let shape = byName.get(key);
        if (shape === undefined) {
          const search = operationSearches(args.document, args.operationName);
          shape = search ? { search, query: maskedOperation(args.document) } : { search };
          byName.set(key, shape);
        }
        audit.search = shape.search;
        if (shape.query !== undefined) {
          audit.query = shape.query;
        }
      }
    },
    async onResultProcess({ serverContext, result, setResult }) {
      // Yoga builds the GraphQL context on the request's server context: a request that got as
      // far as a context has its audit record there.
      const audit = (serverContext as { audit?: RequestAudit }).audit;
      if (audit === undefined || audit.completed) {
        return;
      }
      if (Array.isArray(result) || !('data' in result || 'errors' in result)) {
        audit.completed = true;
        if (audit.reads.length > 0 || audit.scope.tenant.statementCount > 0) {
          audit.scope.log.error('audit: unexpected result shape; data withheld');
          setResult({ errors: [auditUnavailableError()] });
        }
        return;
      }
      const errors = (result.errors ?? []) as readonly unknown[];
      const refusal = await complete(audit, errors.map(codeOf), errors.length);
      if (refusal !== undefined) {
        setResult({ errors: [refusal] });
      }
    },
  };

  /**
   * Ends the audit of a request: records a FORBIDDEN refusal, applies the distinct-patient
   * limit, and awaits the durable write of the AuditEvent when the request read tenant data.
   * Returns the error to answer with instead of the data (no audit, no data), if any.
   */
  async function complete(
    audit: RequestAudit,
    errorCodes: readonly (string | undefined)[],
    errorCount: number,
  ): Promise<GraphQLError | undefined> {
    if (audit.completed) {
      return undefined;
    }
    audit.completed = true;
    const { tenant, principal, requestId, correlationId, source, log } = audit.scope;
    const origin = {
      ...(correlationId === undefined ? {} : { correlationId }),
      ...(source === undefined ? {} : { source }),
    };
    const readData = audit.reads.length > 0 || tenant.statementCount > 0;
    const codes = errorCodes.filter((c): c is string => c !== undefined);
    if (codes.includes('FORBIDDEN')) {
      trail.denied({ code: 'FORBIDDEN', requestId, principal, ...origin });
    }
    if (!readData) {
      return undefined;
    }
    if (guard !== undefined) {
      const user = `${principal.issuer}\u0000${principal.subject}`;
      const verdict = guard.admit(
        user,
        audit.reads.filter((ref) => ref.startsWith('Patient/')),
      );
      if (!verdict.ok) {
        // A security alert for the operators: who (hashed), how many, never which patients.
        log.warn(
          {
            alert: 'patient-enumeration',
            user: tenantHash(user),
            distinctPatients: verdict.distinct,
          },
          'security alert: distinct-patient limit exceeded; data withheld',
        );
        trail.denied({
          code: 'RATE_LIMITED',
          requestId,
          principal,
          references: audit.reads,
          ...origin,
        });
        return gatewayError(
          'RATE_LIMITED',
          'Too many different patients read in a short time; try again later.',
          {
            retryAfterSeconds: verdict.retryAfterSeconds,
            http: { headers: { 'retry-after': String(verdict.retryAfterSeconds) } },
          },
        );
      }
    }
    try {
      await trail.phiRead({
        principal,
        requestId,
        search: audit.search,
        ...(audit.query === undefined ? {} : { query: audit.query }),
        ...origin,
        references: audit.reads,
        outcome: errorCount === 0 ? '0' : '4',
        errorCodes: codes,
      });
    } catch (err) {
      log.warn({ err }, 'audit write failed: data withheld');
      return auditUnavailableError();
    }
    return undefined;
  }

  return {
    plugin,
    complete,
    begin: (scope) => ({ reads: [], search: false, trail, scope, completed: false }),
  };
}
