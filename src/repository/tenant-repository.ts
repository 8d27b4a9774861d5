import type { Principal } from '../auth/principal.js';
import { gatewayError } from '../errors.js';
import type { FhirJson } from '../fhir/fhir-json.js';
import {
  type CompiledResource,
  type ElementSelection,
  MAX_SEARCH_COUNT,
} from '../mapping/compiled-resource.js';
import type { SearchQuery } from '../mapping/search.js';
import type { TenantScope } from '../tenancy/tenant-scope.js';
import {
  assertCanRead,
  resourceNotSupported,
  searchParamNotSupported,
  translateSearchError,
} from './access-policy.js';
import { encodeCursor } from './cursor.js';
import { createRequestLoaders } from './request-loaders.js';
import type { ListLimits, PageRequest, SearchRequest } from './search-request.js';
import type { WorkBudget } from './work-budget.js';

/** Resource type -> the top-level elements the request will read of it; absent type = all. */
export type SelectedElements = ReadonlyMap<string, ElementSelection>;

/**
 * One page of a search and the cursors around it: what a GraphQL `XConnection` and a FHIR
 * searchset Bundle are both made from. The total is lazy, so its `COUNT(*)` runs only for a
 * caller that reads it.
 */
export interface ResultPage {
  /** The first resource's position in the whole result. */
  readonly offset: number;
  /** The page size asked for; the last page may hold fewer. */
  readonly pagesize: number;
  readonly resources: readonly FhirJson[];
  readonly first: string | null;
  readonly previous: string | null;
  readonly next: string | null;
  /** How many resources match; one `COUNT(*)` at most, however often it is read. */
  total(): Promise<number>;
  /** The cursor of the last page; needs the total. */
  last(): Promise<string | null>;
}

/** A reverse search: resources of `search.resourceType` whose `code` points at a target. */
export interface ReferenceSearch {
  /** The search (type, parameters, sort) every result must also match. */
  readonly search: SearchRequest;
  /** The reference search parameter of `search.resourceType` (`subject`). */
  readonly code: string;
  /** The targets' resource type (`Patient`). */
  readonly targetType: string;
  /** Resources returned per target at most. */
  readonly countPerTarget: number;
}

/**
 * The data access of one request, over one tenant: what GraphQL resolvers and REST handlers call
 * instead of touching executors, loaders or rows (the shape of Medplum's `Repository`). It owns
 * the request's DataLoaders (reads by id of one type in one tick become one statement; what a
 * search returns is primed, so a later read of it costs nothing), the elements the request will
 * read (the mapping builds only those), the access checks every read makes, and the audit notes
 * (the reference of every resource handed out). It dies with the request.
 */
export interface TenantRepository {
  readonly principal: Principal;
  readonly tenant: TenantScope;
  /** The request's work budget: every resource built and every reverse list is charged to it. */
  readonly work: WorkBudget;
  /** `Patient/1`...: every resource this request has read, for its AuditEvent (duplicates kept). */
  readonly reads: readonly string[];
  /** The resource types the tenant's active mapping serves, in mapping order. */
  readonly resourceTypes: readonly string[];
  /**
   * Sets the elements the request will read per type; before any read. GraphQL sets them from
   * the operation's document, REST from `_elements`.
   */
  selectElements(elements: SelectedElements | undefined): void;
  /**
   * Whether the resources this request reads are kept for later reads by id in it (`known`,
   * `read`); before any read. GraphQL turns it off for an operation that follows no reference,
   * so a large answer's resources can be collected as soon as they are completed. @default true
   */
  keepReads(keep: boolean): void;
  /** Whether the tenant maps `resourceType`. */
  supports(resourceType: string): boolean;
  /** The tenant's compiled type; `RESOURCE_NOT_SUPPORTED` when it maps none. */
  resource(resourceType: string): CompiledResource;
  /**
   * A resource by id, `null` when there is none. Every read of one type started in the same tick
   * becomes one statement, so call it without awaiting in between.
   */
  read(resourceType: string, id: string): Promise<FhirJson | null>;
  /**
   * A resource this request already holds (read, or returned by a search): the resource, `null`
   * for an id known not to exist, `undefined` when not known. Lets a resolver answer without a
   * promise.
   */
  known(resourceType: string, id: string): FhirJson | null | undefined;
  /** One page of a search, without cursors. */
  search(search: SearchRequest, page: PageRequest): Promise<FhirJson[]>;
  /**
   * One page of a search with the cursors around it. `withTotal` starts the `COUNT(*)` beside
   * the search instead of when `total()` is first read.
   */
  searchPage(
    search: SearchRequest,
    page: PageRequest,
    options: { readonly limits: ListLimits; readonly withTotal: boolean },
  ): Promise<ResultPage>;
  /** How many resources match. */
  count(resourceType: string, query: SearchQuery): Promise<number>;
  /**
   * The resources that point at one target. Calls for the targets of one nesting level started
   * in the same tick become one statement.
   */
  searchByReference(lookup: ReferenceSearch, targetId: string): Promise<FhirJson[]>;
  /**
   * One page of the resources that point at one target, with cursors (bound to the target) and
   * a lazy total: a reverse reference as a Connection. Pages of the targets of one nesting
   * level started in the same tick share one statement; `offset + count` is at most
   * `limits.maxCount`, since that statement reads each target's list from its start.
   */
  searchPageByReference(
    lookup: Omit<ReferenceSearch, 'countPerTarget'>,
    targetId: string,
    page: PageRequest,
    limits: ListLimits,
  ): Promise<ResultPage>;
  /** The search key cursors of {@link searchPageByReference} are bound to. */
  referenceSearchKey(lookup: Omit<ReferenceSearch, 'countPerTarget'>, targetId: string): string;
}

export interface RepositoryOptions {
  /**
   * DataLoader batching and caching; false only for the benchmark's naive variant.
   * @default true
   */
  readonly batch?: boolean;
}

/** A lazily started promise: `get()` starts it on first use, later calls share it. */
function lazy<T>(start: () => Promise<T>): { get(): Promise<T> } {
  let promise: Promise<T> | undefined;
  return {
    get() {
      promise ??= start();
      return promise;
    },
  };
}

/**
 * The repository of one request. `reads` is the request's audit record (see `use-audit.ts`): the
 * repository notes every resource it hands out there.
 */
export function createTenantRepository(
  deps: {
    readonly tenant: TenantScope;
    readonly principal: Principal;
    readonly reads: string[];
    readonly work: WorkBudget;
  },
  options: RepositoryOptions = {},
): TenantRepository {
  const { tenant, principal, reads, work } = deps;
  const mapping = tenant.runtime.mapping;
  let selected: SelectedElements | undefined;
  let keep = true;
  const pace = (rows: number) => work.built(rows);
  const loaders = createRequestLoaders(tenant, reads, {
    batch: options.batch !== false,
    elements: () => selected,
    pace,
    keep: () => keep,
  });

  function resource(resourceType: string): CompiledResource {
    const found = mapping.resource(resourceType);
    if (found === undefined) {
      throw resourceNotSupported(resourceType);
    }
    return found;
  }

  async function search(request: SearchRequest, page: PageRequest): Promise<FhirJson[]> {
    assertCanRead(principal);
    const compiled = resource(request.resourceType);
    if (page.count === 0) {
      return [];
    }
    let found: FhirJson[];
    try {
      found = await compiled.search(
        tenant.executor,
        request.query,
        { ...page, sort: request.sort },
        loaders.elements(request.resourceType),
        pace,
      );
    } catch (err) {
      return translateSearchError(err);
    }
    loaders.prime(request.resourceType, found);
    return found;
  }

  async function count(resourceType: string, query: SearchQuery): Promise<number> {
    assertCanRead(principal);
    const compiled = resource(resourceType);
    try {
      return await compiled.count(tenant.executor, query);
    } catch (err) {
      return translateSearchError(err);
    }
  }

  function searchByReference(
    { search: request, code, targetType, countPerTarget }: ReferenceSearch,
    targetId: string,
  ): Promise<FhirJson[]> {
    assertCanRead(principal);
    const compiled = resource(request.resourceType);
    const targets = compiled.referenceParams.get(code);
    if (targets === undefined) {
      throw searchParamNotSupported(code, request.resourceType);
    }
    // The tenant's column holds ids of other types only: none of its rows points at this one.
    if (!targets.includes(targetType) || countPerTarget === 0) {
      return Promise.resolve([]);
    }
    // The lists of every parent of a nesting level arrive in one tick; handed out in slices,
    // GraphQL completes them over several turns of the event loop instead of one.
    return loaders
      .reverse({ search: request, code, countPerTarget })
      .load(targetId)
      .then((list) => {
        const wait = work.handOut(list.length);
        return wait === undefined ? list : wait.then(() => list);
      });
  }

  return {
    principal,
    tenant,
    work,
    reads,
    resourceTypes: mapping.resourceTypes,
    selectElements(elements) {
      selected = elements;
    },
    keepReads(value) {
      keep = value;
    },
    supports: (resourceType) => mapping.resource(resourceType) !== undefined,
    resource,
    read(resourceType, id) {
      assertCanRead(principal);
      resource(resourceType);
      // Through the DataLoader: every read of this type in this tick is one statement.
      return loaders.load(resourceType, id);
    },
    known: (resourceType, id) => loaders.peek(resourceType, id),
    search,
    async searchPage(request, page, { limits, withTotal }) {
      assertCanRead(principal);
      resource(request.resourceType);
      return pageOf(
        request.key,
        page,
        limits,
        () => count(request.resourceType, request.query),
        withTotal,
        (probe) => search(request, { count: probe, offset: page.offset }),
      );
    },
    count,
    searchByReference,
    referenceSearchKey,
    searchPageByReference(lookup, targetId, page, limits) {
      if (page.offset + page.count > limits.maxCount) {
        throw gatewayError(
          'BAD_USER_INPUT',
          `In a reverse reference connection, _offset + _count must be at most ${limits.maxCount}.`,
          { argument: '_offset', max: limits.maxCount },
        );
      }
      const { search: request, code } = lookup;
      return pageOf(
        referenceSearchKey(lookup, targetId),
        page,
        limits,
        () => count(request.resourceType, [...request.query, { code, values: [targetId] }]),
        false,
        async (probe) => {
          // The batch reads each target's list from its start; this page is a slice of it.
          const list = await searchByReference(
            { ...lookup, countPerTarget: page.offset + probe },
            targetId,
          );
          return list.slice(page.offset);
        },
      );
    },
  };
}

function referenceSearchKey(
  lookup: Omit<ReferenceSearch, 'countPerTarget'>,
  targetId: string,
): string {
  return JSON.stringify([lookup.search.key, lookup.code, lookup.targetType, targetId]);
}

/**
 * A page with its cursors: `fetch(probe)` reads one resource more than the page, which says
 * whether there is a next page without counting; the total is counted only when read (or at
 * once with `withTotal`, beside the search).
 */
async function pageOf(
  key: string,
  page: PageRequest,
  limits: ListLimits,
  countAll: () => Promise<number>,
  withTotal: boolean,
  fetch: (probe: number) => Promise<FhirJson[]>,
): Promise<ResultPage> {
  const total = lazy(countAll);
  if (withTotal) {
    total.get().catch(() => undefined);
  }
  const probe = Math.min(page.count + 1, MAX_SEARCH_COUNT);
  const rows = page.count > 0 ? await fetch(probe) : [];
  const resources = rows.slice(0, page.count);
  const cursorAt = (offset: number): string | null =>
    offset <= limits.maxOffset ? encodeCursor(key, { offset, count: page.count }) : null;
  const nextOffset = page.offset + page.count;
  let next: string | null = null;
  if (page.count > 0) {
    const more = probe > page.count ? rows.length > page.count : nextOffset < (await total.get());
    next = more ? cursorAt(nextOffset) : null;
  }
  return {
    offset: page.offset,
    pagesize: page.count,
    resources,
    first: cursorAt(0),
    previous:
      page.offset > 0 && page.count > 0 ? cursorAt(Math.max(0, page.offset - page.count)) : null,
    next,
    total: () => total.get(),
    async last() {
      const n = await total.get();
      if (page.count === 0) {
        // Pages of no resources have no last one.
        return null;
      }
      return cursorAt(n === 0 ? 0 : Math.floor((n - 1) / page.count) * page.count);
    },
  };
}
