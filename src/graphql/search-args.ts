import type { ArgBuilder, InputFieldMap } from '@pothos/core';
import { gatewayError } from '../errors.js';
import type { SearchParamDef } from '../fhir/definition-types.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import { MAX_SORT_KEYS, type SortSpec } from '../mapping/compiled-resource.js';
import type { SearchModifier, SearchParamQuery } from '../mapping/search.js';
import {
  type ListLimits,
  type PageRequest,
  type SearchRequest,
  splitValues,
  toPageRequest as toRepositoryPage,
  toSearchRequest,
} from '../repository/search-request.js';
import type { BuilderTypes } from './builder.js';

/**
 * The search arguments of `XList`, `XConnection` and reverse `XList` fields, named as the HL7
 * FHIR GraphQL page names them: the search parameter's code with `-` written `_`
 * (`address_city`), plus `_count`, `_offset` and `_sort`.
 *
 * Modifiers: the page lists search parameters as arguments and is silent on modifiers. A FHIR
 * modifier is written `code:modifier`, and `:` is no more a GraphQL name character than `-`,
 * so it gets the same treatment: `family:exact` is the argument `family_exact`. That reads as the
 * REST parameter it stands for, keeps every argument a plain search parameter (so the values of
 * one argument OR and arguments AND, as in REST), and cannot collide with a code: R4 codes never
 * end in `-exact`, `-contains` or `-missing` (checked when the schema is built).
 */

/** Search parameter types exposed as arguments; the engine says which ones a tenant maps. */
const EXPOSED_PARAM_TYPES: ReadonlySet<SearchParamDef['type']> = new Set([
  'string',
  'token',
  'date',
  'reference',
  'number',
  'uri',
]);

/** One GraphQL argument of a search field and the query entry it becomes. */
export interface SearchArgument {
  /** The GraphQL argument name (`address_city`, `family_exact`). */
  readonly name: string;
  /** The FHIR search parameter code (`address-city`). */
  readonly code: string;
  readonly type: SearchParamDef['type'];
  /** `missing` takes a Boolean; the others take a list of strings. */
  readonly modifier?: SearchModifier;
  readonly description: string;
}

/** FHIR search codes use `-`; GraphQL names cannot, so the FHIR GraphQL page writes `_`. */
export function toArgumentName(code: string): string {
  return code.replace(/-/g, '_');
}

/** Argument names the search fields reserve for paging, sorting and cursors. */
const RESERVED = new Set(['_count', '_offset', '_sort', '_reference', 'cursor', '_cursor']);

/**
 * The search arguments of one resource type, in a stable order: each parameter, then its
 * modifier arguments. Throws when two arguments would share a name.
 */
export function searchArgumentsOf(
  defs: FhirDefinitions,
  resourceType: string,
): readonly SearchArgument[] {
  const params = [
    { code: '_id', type: 'token' as const, description: 'Logical id.' },
    ...defs.searchParams(resourceType).filter((p) => p.code !== '_id'),
  ].filter((p) => EXPOSED_PARAM_TYPES.has(p.type));
  const out: SearchArgument[] = [];
  for (const p of params) {
    const name = toArgumentName(p.code);
    const text = p.description?.trim() ?? '';
    out.push({
      name,
      code: p.code,
      type: p.type,
      description: `${text} (${p.type}; several values are ORed)`.trim(),
    });
    if (p.type === 'string') {
      out.push({
        name: `${name}_exact`,
        code: p.code,
        type: p.type,
        modifier: 'exact',
        description: `\`${p.code}:exact\`: the whole value, case and accents included.`,
      });
      out.push({
        name: `${name}_contains`,
        code: p.code,
        type: p.type,
        modifier: 'contains',
        description: `\`${p.code}:contains\`: the value anywhere in the text.`,
      });
    }
    if (p.code !== '_id') {
      out.push({
        name: `${name}_missing`,
        code: p.code,
        type: p.type,
        modifier: 'missing',
        description: `\`${p.code}:missing\`: true for resources without a value, false for those with one.`,
      });
    }
  }
  const seen = new Set<string>();
  for (const arg of out) {
    if (seen.has(arg.name) || RESERVED.has(arg.name)) {
      throw new Error(`searchArgumentsOf: ${resourceType} argument "${arg.name}" is not unique`);
    }
    seen.add(arg.name);
  }
  return out;
}

/** `_count`, `_offset` and `_sort` alone, for fields that page without filtering. */
export function pagingArgs(arg: ArgBuilder<BuilderTypes>, limits: ListLimits): InputFieldMap {
  // With no search arguments, searchFieldArgs gives exactly the paging ones.
  return searchFieldArgs(arg, [], limits);
}

/**
 * `_count`, `_offset`, `_sort` and one argument per search argument, for a Pothos field.
 * `describe: false` leaves the search arguments undescribed: reverse-reference fields repeat the
 * arguments of the top-level `XList` hundreds of times, and the descriptions would be most of
 * the printed schema.
 */
export function searchFieldArgs(
  arg: ArgBuilder<BuilderTypes>,
  searchArgs: readonly SearchArgument[],
  limits: ListLimits,
  { describe }: { readonly describe: boolean } = { describe: true },
): InputFieldMap {
  const fields: InputFieldMap = {
    _count: arg.int({
      required: false,
      description: `Page size, at most ${limits.maxCount}. Without it a list returns every match (an error when more than ${limits.maxCount} match) and a connection pages by ${limits.defaultCount}.`,
    }),
    _offset: arg.int({ required: false, description: 'Resources to skip.' }),
    _sort: arg.stringList({
      required: false,
      description:
        'Search parameter codes to order by, in priority order; `-code` sorts descending (`_sort: ["-date"]`). The logical id breaks ties.',
    }),
  };
  for (const a of searchArgs) {
    const description = describe ? a.description : undefined;
    fields[a.name] =
      a.modifier === 'missing'
        ? arg.boolean({ required: false, description })
        : arg.stringList({ required: false, description });
  }
  return fields;
}

function badInput(message: string, argument: string) {
  return gatewayError('BAD_USER_INPUT', message, { argument });
}

/**
 * The sortable codes of a field's search arguments, by code and by argument name. The arguments
 * are built once per field when the schema is, so this map is too (not once per list field
 * resolved, which a nested list does once per parent).
 */
const sortCodesOf = new WeakMap<readonly SearchArgument[], ReadonlyMap<string, string>>();

function sortCodes(searchArgs: readonly SearchArgument[]): ReadonlyMap<string, string> {
  let codes = sortCodesOf.get(searchArgs);
  if (codes === undefined) {
    const built = new Map<string, string>();
    for (const a of searchArgs) {
      if (a.modifier === undefined) {
        built.set(a.code, a.code);
        built.set(a.name, a.code);
      }
    }
    sortCodesOf.set(searchArgs, built);
    codes = built;
  }
  return codes;
}

function parseSort(
  resourceType: string,
  raw: unknown,
  searchArgs: readonly SearchArgument[],
): SortSpec[] {
  if (typeof raw === 'string') {
    return parseSort(resourceType, [raw], searchArgs);
  }
  if (!Array.isArray(raw)) {
    return [];
  }
  const codes = sortCodes(searchArgs);
  const sort: SortSpec[] = [];
  for (const item of raw) {
    for (const part of String(item).split(',')) {
      const text = part.trim();
      if (text === '') {
        continue;
      }
      const descending = text.startsWith('-');
      const code = codes.get(descending ? text.slice(1) : text);
      if (code === undefined) {
        // The value is not echoed: it is whatever the client typed.
        throw badInput(`_sort names a parameter that ${resourceType} does not have.`, '_sort');
      }
      if (sort.some((s) => s.code === code)) {
        throw badInput('_sort names a parameter twice.', '_sort');
      }
      sort.push({ code, descending });
    }
  }
  if (sort.length > MAX_SORT_KEYS) {
    throw badInput(`_sort takes at most ${MAX_SORT_KEYS} parameters.`, '_sort');
  }
  return sort;
}

/** Each search argument by name, with its position in the field's list. */
const argumentsByName = new WeakMap<
  readonly SearchArgument[],
  ReadonlyMap<string, { readonly arg: SearchArgument; readonly index: number }>
>();

/**
 * The search arguments the client gave, in the order of `searchArgs` (the query, and so the SQL
 * text, does not depend on the order the client wrote them in). Walks the few given arguments,
 * not the field's whole list of search arguments (every parameter and modifier: dozens).
 */
function givenSearchArgs(
  searchArgs: readonly SearchArgument[],
  args: Record<string, unknown>,
): SearchArgument[] {
  let byName = argumentsByName.get(searchArgs);
  if (byName === undefined) {
    byName = new Map(searchArgs.map((arg, index) => [arg.name, { arg, index }]));
    argumentsByName.set(searchArgs, byName);
  }
  const given: Array<{ readonly arg: SearchArgument; readonly index: number }> = [];
  for (const name in args) {
    const entry = byName.get(name);
    if (entry !== undefined) {
      given.push(entry);
    }
  }
  if (given.length > 1) {
    given.sort((x, y) => x.index - y.index);
  }
  return given.map((g) => g.arg);
}

/** The search query, sort and canonical key the arguments of one field describe. */
export function toParsedSearch(
  resourceType: string,
  searchArgs: readonly SearchArgument[],
  args: Record<string, unknown>,
): SearchRequest {
  const query: SearchParamQuery[] = [];
  for (const a of givenSearchArgs(searchArgs, args)) {
    const value = args[a.name];
    if (value === null || value === undefined) {
      continue;
    }
    if (a.modifier === 'missing') {
      query.push({ code: a.code, modifier: 'missing', values: [String(value === true)] });
    } else {
      // A single String variable arrives as it is (see use-single-value-lists.ts).
      const values = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
      if (values.length > 0) {
        query.push({
          code: a.code,
          ...(a.modifier === undefined ? {} : { modifier: a.modifier }),
          // As in REST: `"finished,in-progress"` is two values, ORed (`\,` is a literal comma).
          values: values.flatMap((v) => splitValues(String(v), a.type === 'token')),
        });
      }
    }
  }
  return toSearchRequest(resourceType, query, parseSort(resourceType, args['_sort'], searchArgs));
}

/** `_count` and `_offset` of a field's arguments, checked against the limits. */
export function toPageRequest(args: Record<string, unknown>, limits: ListLimits): PageRequest {
  return toRepositoryPage(
    args['_count'] as number | null | undefined,
    args['_offset'] as number | null | undefined,
    limits,
  );
}

/**
 * The page of a list field (`XList`, reverse `XList`). With `_count`, that page. Without it, the
 * HL7 FHIR GraphQL page asks for every match or an error, never a silent first page: the list
 * reads up to `maxCount + 1` resources and {@link assertWhole} refuses the answer when there were
 * more than `maxCount`.
 */
export function toListPage(args: Record<string, unknown>, limits: ListLimits): PageRequest {
  const count = args['_count'];
  if (typeof count === 'number') {
    return toPageRequest(args, limits);
  }
  const { offset } = toRepositoryPage(0, args['_offset'] as number | null | undefined, limits);
  return { offset, count: limits.maxCount + 1 };
}

/** Refuses a list read without `_count` that found more than `maxCount` resources. */
export function assertWhole<T>(
  found: readonly T[],
  args: Record<string, unknown>,
  limits: ListLimits,
): readonly T[] {
  if (typeof args['_count'] !== 'number' && found.length > limits.maxCount) {
    throw gatewayError(
      'BAD_USER_INPUT',
      `More than ${limits.maxCount} resources match; give _count (and _offset) to page, or use the Connection field.`,
      { argument: '_count', max: limits.maxCount },
    );
  }
  return found;
}
