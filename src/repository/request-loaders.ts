import DataLoader from 'dataloader';
import { noteRead } from '../audit/reads.js';
import type { FhirJson } from '../fhir/fhir-json.js';
import type { BuildPace, ElementSelection } from '../mapping/compiled-resource.js';
import type { TenantScope } from '../tenancy/tenant-scope.js';
import { translateSearchError } from './access-policy.js';
import type { SearchRequest } from './search-request.js';

/** Most keys one batch carries; more are split into further statements. */
const MAX_BATCH_SIZE = 500;

/** A reverse-reference list: resources of `search.resourceType` whose `code` points at a parent. */
export interface ReverseLookup {
  /** The search (type, parameters, sort) the field's arguments describe. */
  readonly search: SearchRequest;
  /** The reference search parameter of `search.resourceType` (`subject`). */
  readonly code: string;
  /** Resources loaded per parent at most. */
  readonly countPerTarget: number;
}

/**
 * The DataLoaders of one request. They are created with the request's context and die with it,
 * so their caches never outlive a request or cross a tenant.
 */
export interface RequestLoaders {
  /**
   * A resource by id: every load of one type in one tick becomes one SQL statement; one this
   * request has already read is answered from memory.
   */
  load(resourceType: string, id: string): Promise<FhirJson | null>;
  /**
   * Resources a search returned: noted for the audit, and a later read of one of them by id in
   * this request is served without SQL.
   */
  prime(resourceType: string, resources: readonly FhirJson[]): void;
  /**
   * A resource this request has already read (by id or primed by a search or a reverse list):
   * the resource, `null` for an id known not to exist, `undefined` when not known yet. Lets a
   * resolver answer without a promise (a list's references often point at resources it already
   * has). Always `undefined` with batching off (the naive variant).
   */
  peek(resourceType: string, id: string): FhirJson | null | undefined;
  /**
   * Reverse-reference lists keyed by parent id. One loader per distinct lookup (type, parameter,
   * search, count), so the lists of every parent at one nesting level become one statement.
   */
  reverse(lookup: ReverseLookup): DataLoader<string, FhirJson[]>;
  /**
   * The elements the request's operation selects on `resourceType` (see `selected-elements.ts`),
   * which every resource of that type this request builds holds; `undefined` = all.
   */
  elements(resourceType: string): ElementSelection | undefined;
}

export interface LoaderOptions {
  /**
   * `false` turns DataLoader off in effect: one statement per load, no per-request cache (the
   * benchmark's naive variant, which batching is measured against). @default true
   */
  readonly batch?: boolean;
  /**
   * The operation's selected elements per resource type, asked when a batch runs (the operation
   * is known by then; the loaders are made before it is). Absent: every element is built.
   */
  readonly elements?: () => ReadonlyMap<string, ElementSelection> | undefined;
  /** Told of the rows of every batch before they are built (the request's work budget). */
  readonly pace?: BuildPace;
  /**
   * Whether what searches and reverse lists return is kept for later reads by id (`peek`), asked
   * when they return. `false` lets a large answer's resources be collected once GraphQL has
   * completed them, instead of living (and being copied by every young-generation collection)
   * until the request ends. @default always true
   */
  readonly keep?: () => boolean;
}

/**
 * `reads` receives the reference of every resource the request reads, for its AuditEvent: what
 * a by-id batch returns and what a search or a reverse list primes into the by-id cache.
 */
export function createRequestLoaders(
  tenant: TenantScope,
  reads: string[] = [],
  options: LoaderOptions = {},
): RequestLoaders {
  // The naive variant: every load is its own statement and nothing is cached or primed.
  const loaderOptions =
    options.batch === false
      ? { batch: false, cache: false, maxBatchSize: MAX_BATCH_SIZE }
      : { maxBatchSize: MAX_BATCH_SIZE };
  const byType = new Map<string, DataLoader<string, FhirJson | null>>();
  const known = new Map<string, Map<string, FhirJson | null>>();
  const remember =
    options.batch === false
      ? () => {}
      : (resourceType: string, id: string, value: FhirJson | null) => {
          let ofType = known.get(resourceType);
          if (ofType === undefined) {
            ofType = new Map();
            known.set(resourceType, ofType);
          }
          ofType.set(id, value);
        };
  const elements = (resourceType: string) => options.elements?.()?.get(resourceType);
  const reverse = new Map<string, DataLoader<string, FhirJson[]>>();

  const byId = (resourceType: string): DataLoader<string, FhirJson | null> => {
    let loader = byType.get(resourceType);
    if (loader === undefined) {
      const resource = tenant.runtime.mapping.resource(resourceType);
      loader = new DataLoader(async (ids) => {
        if (resource === undefined) {
          return ids.map(() => null);
        }
        const found = await resource.loadByIds(
          tenant.executor,
          ids,
          elements(resourceType),
          options.pace,
        );
        found.forEach((r, i) => {
          noteRead(reads, resourceType, r);
          remember(resourceType, ids[i] as string, r);
        });
        return found;
      }, loaderOptions);
      byType.set(resourceType, loader);
    }
    return loader;
  };
  const peek = (resourceType: string, id: string) => known.get(resourceType)?.get(id);
  // Searches prime `known`, not DataLoader's cache: DataLoader holds a promise per primed key,
  // and a list of 50 resources is rarely read by id again; a read that is gets it from `known`.
  const keep = options.keep ?? (() => true);
  const prime = (resourceType: string, resources: readonly FhirJson[]) => {
    const kept = keep();
    for (const r of resources) {
      noteRead(reads, resourceType, r);
      if (!kept) {
        continue;
      }
      const id = String(r['id']);
      if (peek(resourceType, id) === undefined) {
        remember(resourceType, id, r);
      }
    }
  };

  return {
    load(resourceType, id) {
      const value = peek(resourceType, id);
      return value === undefined ? byId(resourceType).load(id) : Promise.resolve(value);
    },
    prime,
    peek,
    elements,
    reverse({ search, code, countPerTarget }) {
      const key = JSON.stringify([search.key, code, countPerTarget]);
      let loader = reverse.get(key);
      if (loader === undefined) {
        const { resourceType } = search;
        // Not kept: DataLoader's cache would hold every list until the request ends (a parent
        // listed twice, by two aliases, then has its list read twice, with the same answer).
        const listOptions = keep() ? loaderOptions : { ...loaderOptions, cache: false };
        loader = new DataLoader<string, FhirJson[]>(async (targetIds) => {
          const resource = tenant.runtime.mapping.resource(resourceType);
          if (resource === undefined) {
            return targetIds.map(() => []);
          }
          let found: Map<string, FhirJson[]>;
          try {
            found = await resource.searchByReference(tenant.executor, {
              code,
              targetIds,
              query: search.query,
              countPerTarget,
              sort: search.sort,
              elements: elements(resourceType),
              ...(options.pace === undefined ? {} : { pace: options.pace }),
            });
          } catch (err) {
            return translateSearchError(err);
          }
          // A later read of one of these by id in this request is served without SQL.
          for (const list of found.values()) {
            prime(resourceType, list);
          }
          return targetIds.map((id) => found.get(id) ?? []);
        }, listOptions);
        reverse.set(key, loader);
      }
      return loader;
    },
  };
}
