import type { TenantDatabase } from '../db/tenant-database.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { TenantRegistry } from '../tenancy/registry.js';
import { checkMapping } from './check-mapping.js';
import type { MappingProblem } from './mapping-problem.js';

/** What {@link activateMapping} needs. */
export interface ActivateMappingOptions {
  /** Where the new version is stored; only `addMapping` is used. */
  readonly registry: Pick<TenantRegistry, 'addMapping'>;
  /** The tenant whose mapping changes. */
  readonly clientId: string;
  /** The mapping document, parsed JSON. */
  readonly document: unknown;
  /** The tenant's live database, which the document is checked against. */
  readonly database: TenantDatabase;
  readonly defs: FhirDefinitions;
  /** Who asked, stored with the version for the audit trail. @default undefined */
  readonly createdBy?: string;
  /** Check only; store nothing. @default false */
  readonly dryRun?: boolean;
}

/**
 * The outcome of {@link activateMapping}. `version` is the new active version, or `null` after a
 * successful dry run, which stores nothing. `problems` holds every problem found: on success only
 * warnings (`severity: 'warning'`), which do not block activation.
 */
export type ActivateMappingResult =
  | { readonly ok: true; readonly version: number | null; readonly problems: MappingProblem[] }
  | { readonly ok: false; readonly problems: MappingProblem[] };

/**
 * Checks `document` against the tenant's live database and, only when it passes (warnings allowed), stores it as
 * the tenant's next mapping version and makes that version the active one (atomically, in the
 * registry). On any problem nothing is written, so the previous version stays in service.
 *
 * @throws DatabaseError when the tenant database or the registry cannot be reached; nothing is
 *   activated then either.
 */
export async function activateMapping(
  options: ActivateMappingOptions,
): Promise<ActivateMappingResult> {
  const { registry, clientId, document, database, defs, createdBy, dryRun = false } = options;
  const checked = await checkMapping(document, { defs, database });
  if (!checked.ok) {
    return { ok: false, problems: checked.problems };
  }
  if (dryRun) {
    return { ok: true, version: null, problems: checked.problems };
  }
  const version = await registry.addMapping(clientId, JSON.stringify(document), {
    activate: true,
    ...(createdBy === undefined ? {} : { createdBy }),
  });
  return { ok: true, version, problems: checked.problems };
}
