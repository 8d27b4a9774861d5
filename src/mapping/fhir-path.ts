import type { ElementDef } from '../fhir/definition-types.js';
import type { FhirDefinitions } from '../fhir/definitions.js';

/**
 * Element paths of the mapping document: JSON names joined by dots, with an optional index on
 * array elements (`name[0].given[1]`, `telecom`, `deceasedBoolean`). They are resolved against the
 * R4 definitions once, at compile time.
 */

/** The syntax of an element path; the definitions decide whether it means anything. */
export const ELEMENT_PATH_PATTERN =
  /^[a-z][A-Za-z0-9]{0,63}(\[(0|[1-9][0-9]?)\])?(\.[a-z][A-Za-z0-9]{0,63}(\[(0|[1-9][0-9]?)\])?){0,15}$/;

/** One step of a resolved path. */
export interface PathStep {
  readonly name: string;
  /** The element's definition. */
  readonly element: ElementDef;
  /** The array index; set for every array step except a `rows` target. */
  readonly index?: number;
}

/** A path checked against the definitions. */
export interface ResolvedPath {
  readonly steps: readonly PathStep[];
  /** The element type of the last step (`string`, `HumanName`). */
  readonly leafType: string;
  /** Whether the last step's type is a FHIR primitive. */
  readonly leafIsPrimitive: boolean;
  /** The path with every implicit `[0]` written out, used to spot two mappings of one element. */
  readonly normalized: string;
}

/** How the last step of a path may be written. */
export type PathTarget =
  /** A primitive or HumanName leaf; an array leaf without index means `[0]`. */
  | 'leaf'
  /** The array that child rows append to: no index on the last step. */
  | 'rows';

/** The parts of `meta` a mapping may fill. */
const META_PATHS: ReadonlySet<string> = new Set(['meta.versionId', 'meta.lastUpdated']);

/** Resolves a path from `rootType`, or returns a problem message (which never holds data). */
export function resolvePath(
  defs: FhirDefinitions,
  rootType: string,
  path: string,
  target: PathTarget,
): ResolvedPath | { problem: string } {
  if (!ELEMENT_PATH_PATTERN.test(path)) {
    return { problem: 'an element path is JSON names joined by dots, e.g. name[0].family' };
  }
  const rawSteps = path.split('.');
  const steps: PathStep[] = [];
  const normalized: string[] = [];
  let typeName = rootType;
  for (const [i, raw] of rawSteps.entries()) {
    const isLast = i === rawSteps.length - 1;
    const bracket = raw.indexOf('[');
    const name = bracket < 0 ? raw : raw.slice(0, bracket);
    const index = bracket < 0 ? undefined : Number(raw.slice(bracket + 1, -1));
    const element = defs.element(typeName, name);
    if (element === undefined) {
      return { problem: `${typeName} has no element "${name}"` };
    }
    if (index !== undefined && !element.array) {
      return { problem: `"${name}" is not an array element, so it takes no [index]` };
    }
    if (i === 0 && (name === 'id' || name === 'contained')) {
      return { problem: `"${name}" cannot be mapped: the gateway writes it` };
    }
    // A version or updated-at column gives REST reads their ETag and Last-Modified; the rest of
    // `meta` (profiles, tags, security labels) is the gateway's to write.
    if (i === 0 && name === 'meta' && !META_PATHS.has(path)) {
      return { problem: 'of "meta" only meta.versionId and meta.lastUpdated can be mapped' };
    }
    let effectiveIndex = index;
    if (element.array && index === undefined) {
      if (isLast && target === 'rows') {
        effectiveIndex = undefined;
      } else if (isLast && defs.isPrimitive(element.type)) {
        effectiveIndex = 0;
      } else {
        return { problem: `"${name}" is an array element and needs an index, e.g. ${name}[0]` };
      }
    }
    if (isLast && target === 'rows') {
      if (!element.array) {
        return { problem: 'rows must target an array element, e.g. telecom' };
      }
      if (index !== undefined) {
        return {
          problem: 'rows must target the array itself, without an index (telecom, not telecom[0])',
        };
      }
      if (defs.isPrimitive(element.type)) {
        return { problem: 'rows must target an array of a complex type, e.g. telecom or name' };
      }
    }
    const typeDef = defs.type(element.type);
    if (typeDef === undefined || (!isLast && typeDef.kind === 'primitive')) {
      return { problem: `elements of type ${element.type} cannot be mapped` };
    }
    if (typeDef.kind === 'resource') {
      return { problem: 'elements that hold whole resources cannot be mapped' };
    }
    steps.push(
      effectiveIndex === undefined ? { name, element } : { name, element, index: effectiveIndex },
    );
    normalized.push(effectiveIndex === undefined ? name : `${name}[${effectiveIndex}]`);
    typeName = element.type;
  }
  return {
    steps,
    leafType: typeName,
    leafIsPrimitive: defs.isPrimitive(typeName),
    normalized: normalized.join('.'),
  };
}
