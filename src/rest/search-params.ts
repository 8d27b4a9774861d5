import { gatewayError } from '../errors.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { MAX_SORT_KEYS, type SortSpec } from '../mapping/compiled-resource.js';
import type { SearchModifier, SearchParamQuery } from '../mapping/search.js';
import { type SearchRequest, splitValues, toSearchRequest } from '../repository/search-request.js';

/**
 * FHIR REST search parameters (`GET [type]?...`, `POST [type]/_search`) -> a repository search.
 * As in the FHIR search spec: repeated parameters AND, comma-separated values of one parameter
 * OR (`\,` is a literal comma), `code:modifier` for `:exact`, `:contains` and `:missing`, date
 * prefixes (`ge2020-01-01`) passed to the engine. Unknown parameters are refused (the GraphQL
 * door refuses unknown arguments too), so a search never silently returns more than asked.
 */

/** A `_include` or `_revinclude`: `Source:code[:Target]`. */
export interface IncludeSpec {
  readonly sourceType: string;
  readonly code: string;
  readonly targetType?: string;
}

/** What one REST search asks for. */
export interface RestSearch {
  readonly search: SearchRequest;
  readonly count: number | undefined;
  readonly offset: number | undefined;
  readonly cursor: string | undefined;
  /** `_total=accurate` asks for `Bundle.total` (one COUNT). */
  readonly total: boolean;
  /** `_summary=count`: only the total. */
  readonly summaryCount: boolean;
  /** `_elements`: the top-level elements to return; absent = all. */
  readonly elements: readonly string[] | undefined;
  readonly include: readonly IncludeSpec[];
  readonly revinclude: readonly IncludeSpec[];
}

/** Parameters that shape the answer, not the match; `_format` and `_pretty` are read elsewhere. */
const CONTROL = new Set([
  '_count',
  '_offset',
  '_cursor',
  '_sort',
  '_total',
  '_summary',
  '_elements',
  '_include',
  '_revinclude',
  '_format',
  '_pretty',
]);

const MODIFIERS: ReadonlySet<string> = new Set(['exact', 'contains', 'missing']);
const SEARCH_TYPES: ReadonlySet<string> = new Set(['string', 'token', 'date', 'reference']);
const CODE = /^[_a-z][a-z0-9-]{0,63}$/;
const TYPE = /^[A-Z][A-Za-z]{0,63}$/;
const ELEMENT = /^[a-z][A-Za-z0-9]{0,63}$/;

function bad(message: string, argument: string) {
  return gatewayError('BAD_USER_INPUT', message, { argument });
}

function integer(params: URLSearchParams, name: string): number | undefined {
  const all = params.getAll(name);
  if (all.length === 0) {
    return undefined;
  }
  if (all.length > 1 || !/^\d{1,9}$/.test(all[0] as string)) {
    throw bad(`${name} must be one non-negative integer.`, name);
  }
  return Number(all[0]);
}

function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) {
    throw bad(`${name} may be given once.`, name);
  }
  return all[0];
}

function parseIncludes(
  params: URLSearchParams,
  name: '_include' | '_revinclude',
  defs: FhirDefinitions,
): IncludeSpec[] {
  const specs: IncludeSpec[] = [];
  for (const raw of params.getAll(name)) {
    for (const value of raw.split(',')) {
      const [sourceType, code, targetType, ...rest] = value.split(':');
      if (
        sourceType === undefined ||
        code === undefined ||
        rest.length > 0 ||
        !TYPE.test(sourceType) ||
        !CODE.test(code) ||
        (targetType !== undefined && !TYPE.test(targetType))
      ) {
        throw bad(`${name} takes Type:parameter[:TargetType] values.`, name);
      }
      const def = defs.searchParam(sourceType, code);
      if (def === undefined || def.type !== 'reference') {
        throw bad(`${name} names a parameter that is not a reference of ${sourceType}.`, name);
      }
      if (targetType !== undefined && !(def.targets ?? []).includes(targetType)) {
        throw bad(`${name} names a target type the parameter cannot point at.`, name);
      }
      specs.push({ sourceType, code, ...(targetType === undefined ? {} : { targetType }) });
    }
  }
  return specs;
}

function parseSort(resourceType: string, raw: string | undefined, defs: FhirDefinitions) {
  const sort: SortSpec[] = [];
  for (const part of (raw ?? '').split(',')) {
    const text = part.trim();
    if (text === '') {
      continue;
    }
    const descending = text.startsWith('-');
    const code = descending ? text.slice(1) : text;
    if (code !== '_id' && defs.searchParam(resourceType, code) === undefined) {
      throw bad(`_sort names a parameter that ${resourceType} does not have.`, '_sort');
    }
    if (sort.some((s) => s.code === code)) {
      throw bad('_sort names a parameter twice.', '_sort');
    }
    sort.push({ code, descending });
  }
  if (sort.length > MAX_SORT_KEYS) {
    throw bad(`_sort takes at most ${MAX_SORT_KEYS} parameters.`, '_sort');
  }
  return sort;
}

/** Reads the search parameters of one request for `resourceType`. */
export function parseRestSearch(
  resourceType: string,
  params: URLSearchParams,
  defs: FhirDefinitions,
): RestSearch {
  const query: SearchParamQuery[] = [];
  for (const name of new Set(params.keys())) {
    if (CONTROL.has(name)) {
      continue;
    }
    const [code = '', modifier, ...rest] = name.split(':');
    const def =
      code === '_id'
        ? { type: 'token' as const }
        : CODE.test(code)
          ? defs.searchParam(resourceType, code)
          : undefined;
    if (def === undefined || !SEARCH_TYPES.has(def.type) || rest.length > 0) {
      throw gatewayError(
        'SEARCH_PARAM_NOT_SUPPORTED',
        CODE.test(code)
          ? `Search parameter "${code}" is not supported for ${resourceType}.`
          : `A search parameter is not supported for ${resourceType}.`,
        CODE.test(code) ? { parameter: code } : {},
      );
    }
    if (modifier !== undefined && !MODIFIERS.has(modifier)) {
      throw bad(`Search parameter "${code}" does not support that modifier.`, code);
    }
    for (const value of params.getAll(name)) {
      query.push({
        code,
        ...(modifier === undefined ? {} : { modifier: modifier as SearchModifier }),
        // The engine's token parser reads the escapes itself (`a\,b` in a code).
        values: splitValues(value, def.type === 'token'),
      });
    }
  }
  const summary = single(params, '_summary');
  if (summary !== undefined && summary !== 'count' && summary !== 'false') {
    throw bad('_summary supports count and false.', '_summary');
  }
  const total = single(params, '_total');
  if (total !== undefined && !['none', 'estimate', 'accurate'].includes(total)) {
    throw bad('_total takes none, estimate or accurate.', '_total');
  }
  const elementsRaw = single(params, '_elements');
  const elements =
    elementsRaw === undefined
      ? undefined
      : elementsRaw
          .split(',')
          .map((e) => e.trim())
          .filter((e) => e !== '');
  if (elements?.some((e) => !ELEMENT.test(e))) {
    throw bad('_elements takes element names.', '_elements');
  }
  const cursor = single(params, '_cursor');
  const include = parseIncludes(params, '_include', defs);
  if (include.some((i) => i.sourceType !== resourceType)) {
    throw bad(`_include must start with ${resourceType}, the searched type.`, '_include');
  }
  const revinclude = parseIncludes(params, '_revinclude', defs);
  const search = toSearchRequest(
    resourceType,
    query,
    parseSort(resourceType, single(params, '_sort'), defs),
  );
  return {
    search,
    count: integer(params, '_count'),
    offset: integer(params, '_offset'),
    cursor,
    total: total === 'accurate' || summary === 'count',
    summaryCount: summary === 'count',
    elements,
    include,
    revinclude,
  };
}
