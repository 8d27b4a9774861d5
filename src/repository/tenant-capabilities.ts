import type { FhirDefinitions } from '../fhir/definitions.js';
import type { TenantRepository } from './tenant-repository.js';

/** One search parameter a tenant answers for a type. */
export interface SearchParamCapability {
  /** The FHIR code (`birthdate`, `_id`). */
  readonly code: string;
  readonly type: 'string' | 'token' | 'date' | 'reference';
  /** The modifiers it takes. */
  readonly modifiers: readonly string[];
  /** Reference parameters: the types it points at, as this tenant maps it. */
  readonly targets?: readonly string[];
}

/** What a tenant answers for one resource type. */
export interface TypeCapability {
  readonly type: string;
  readonly searchParams: readonly SearchParamCapability[];
  /** `_include` values: `Type:code:Target`. */
  readonly searchInclude: readonly string[];
  /** `_revinclude` values: `Source:code:Type`. */
  readonly searchRevInclude: readonly string[];
  /**
   * The mapping fills `meta.versionId`: reads carry an `ETag` and answer `If-None-Match` with
   * 304, which the CapabilityStatement advertises as `versioning` and `conditionalRead`.
   */
  readonly versioned: boolean;
}

/**
 * What the caller's tenant serves, from its active mapping: the types, their search parameters
 * with their FHIR types and modifiers, and the includes they allow. The CapabilityStatement and
 * the `tenantCapabilities` GraphQL query are both made from it, so they never disagree.
 * `served` is the gateway's own list: a type the tenant maps but the gateway does not serve is
 * left out.
 */
export function tenantCapabilities(
  repository: TenantRepository,
  defs: FhirDefinitions,
  served: ReadonlySet<string>,
): TypeCapability[] {
  const types = repository.resourceTypes.filter((t) => served.has(t));
  const referenceParams = new Map(
    types.map((t) => [t, repository.resource(t).referenceParams] as const),
  );
  return types.map((type) => {
    const compiled = repository.resource(type);
    const searchParams: SearchParamCapability[] = [];
    for (const code of [...compiled.searchParams].sort()) {
      const def = code === '_id' ? { type: 'token' as const } : defs.searchParam(type, code);
      if (
        def === undefined ||
        (def.type !== 'string' &&
          def.type !== 'token' &&
          def.type !== 'date' &&
          def.type !== 'reference')
      ) {
        continue;
      }
      const targets = compiled.referenceParams.get(code);
      searchParams.push({
        code,
        type: def.type,
        modifiers:
          code === '_id'
            ? []
            : def.type === 'string'
              ? ['exact', 'contains', 'missing']
              : ['missing'],
        ...(targets === undefined ? {} : { targets: targets.filter((t) => served.has(t)) }),
      });
    }
    const searchInclude = [...compiled.referenceParams]
      .flatMap(([code, targets]) =>
        targets.filter((t) => types.includes(t)).map((t) => `${type}:${code}:${t}`),
      )
      .sort();
    const searchRevInclude = types
      .flatMap((source) =>
        [...(referenceParams.get(source) ?? [])]
          .filter(([, targets]) => targets.includes(type))
          .map(([code]) => `${source}:${code}:${type}`),
      )
      .sort();
    const versioned = compiled.columnUses.some((use) => use.path === 'meta.versionId');
    return { type, searchParams, searchInclude, searchRevInclude, versioned };
  });
}
