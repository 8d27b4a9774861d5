import { gatewayError } from '../errors.js';
import type { ComplexTypeDef } from '../fhir/definition-types.js';
import type { FhirDefinitions } from '../fhir/definitions.js';
import type { FhirJson } from '../fhir/fhir-json.js';
import type { ItemFilter } from './list-fhirpath.js';

/**
 * Arguments of repeating elements, as the HL7 FHIR GraphQL page has them: a list field takes
 * `_count` and `_offset`, and filters on the values of its items' primitive children
 * (`name(use: "official")`, `telecom(system: "phone", use: "mobile")`,
 * `extension(url: "...")`). The filters run in memory on the resource's JSON: they never cost
 * SQL, and the resource was loaded whole anyway.
 */

/** Argument names a list field reserves for paging. */
export const LIST_PAGING_ARGS = ['_count', '_offset'] as const;

/** The argument filtering a list field's items by a FHIRPath expression (`list-fhirpath.ts`). */
export const LIST_FHIRPATH_ARG = 'fhirpath';

/**
 * The children of `itemType` a list field can filter on: primitive elements, choice variants
 * (`valueString`) left out, since Extension alone has fifty and a filter on one variant is what
 * `url` already does better.
 */
export function listFilterNames(defs: FhirDefinitions, itemType: ComplexTypeDef): string[] {
  return itemType.elements
    .filter((e) => defs.isPrimitive(e.type) && e.choiceOf === undefined)
    .map((e) => e.name);
}

function matches(value: unknown, wanted: string): boolean {
  if (Array.isArray(value)) {
    return value.some((v) => matches(v, wanted));
  }
  return (
    (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') &&
    String(value) === wanted
  );
}

/**
 * The items of a list field after its arguments: items whose every given filter equals the
 * item's child (any of it, for a repeating child such as `given`) and that the `fhirpath`
 * expression holds for (compiled by `compileFhirPath`), then `_offset`, then `_count`. `null`
 * stays `null`: an absent element is not an empty one.
 */
export function filterListItems<T extends FhirJson>(
  items: readonly T[] | null | undefined,
  args: Readonly<Record<string, unknown>>,
  filterNames: readonly string[],
  compileFhirPath: (expression: string) => ItemFilter,
): readonly T[] | null {
  if (items === null || items === undefined) {
    return null;
  }
  // Nearly every list field is selected without arguments (`name { family }`): no filter array,
  // no copy. An argument given as null counts as absent below too.
  let anyGiven = false;
  for (const name in args) {
    if (args[name] !== undefined && args[name] !== null) {
      anyGiven = true;
      break;
    }
  }
  if (!anyGiven) {
    return items;
  }
  const count = args['_count'];
  const offset = args['_offset'];
  if (typeof count === 'number' && count < 0) {
    throw gatewayError('BAD_USER_INPUT', '_count must not be negative.', { argument: '_count' });
  }
  if (typeof offset === 'number' && offset < 0) {
    throw gatewayError('BAD_USER_INPUT', '_offset must not be negative.', { argument: '_offset' });
  }
  const filters = filterNames.flatMap((name) => {
    const wanted = args[name];
    return typeof wanted === 'string' ? [[name, wanted] as const] : [];
  });
  const expression = args[LIST_FHIRPATH_ARG];
  const fhirpath = typeof expression === 'string' ? compileFhirPath(expression) : undefined;
  const kept =
    filters.length === 0 && fhirpath === undefined
      ? items
      : items.filter(
          (item) =>
            filters.every(([name, wanted]) => matches(item[name], wanted)) &&
            (fhirpath === undefined || fhirpath(item)),
        );
  const start = typeof offset === 'number' ? offset : 0;
  const end = typeof count === 'number' ? start + count : undefined;
  return start === 0 && end === undefined ? kept : kept.slice(start, end);
}
