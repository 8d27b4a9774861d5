import { readFileSync } from 'node:fs';
import type {
  ComplexTypeDef,
  DefinitionExtract,
  ElementDef,
  SearchParamDef,
  TypeDef,
} from './definition-types.js';

/**
 * Read access to the R4 definition extract. Every lookup is a map hit, so callers may use it on
 * hot paths (search parsing, mapping compilation).
 */
export interface FhirDefinitions {
  /** The FHIR version of the extract (`4.0.1`). */
  readonly fhirVersion: string;
  /** The resource types the extract covers, in extract order. */
  readonly resourceTypes: readonly string[];
  /** Any type of the extract: primitive, datatype, resource or backbone element. */
  type(name: string): TypeDef | undefined;
  /** A datatype, resource or backbone element; throws when `name` is unknown or primitive. */
  complexType(name: string): ComplexTypeDef;
  /** One element by its JSON name (`deceasedBoolean`, not `deceased[x]`). */
  element(typeName: string, elementName: string): ElementDef | undefined;
  /** Whether `name` is a primitive of the extract (`string`, `date`, `positiveInt`). */
  isPrimitive(name: string): boolean;
  /** Whether `name` is one of `resourceTypes`. */
  isResourceType(name: string): boolean;
  /** The resource type's search parameters, sorted by code; empty for an unknown type. */
  searchParams(resourceType: string): readonly SearchParamDef[];
  /** One search parameter by its code (`birthdate`, `_id`). */
  searchParam(resourceType: string, code: string): SearchParamDef | undefined;
}

const EXTRACT_URL = new URL('./r4-extract.json', import.meta.url);

let loaded: FhirDefinitions | undefined;

/**
 * The definitions from the checked-in `r4-extract.json`. Reads and indexes the file on the first
 * call (synchronously, a few milliseconds) and returns the same instance afterwards.
 */
export function loadDefinitions(): FhirDefinitions {
  loaded ??= createDefinitions(JSON.parse(readFileSync(EXTRACT_URL, 'utf8')) as DefinitionExtract);
  return loaded;
}

/** Indexes an extract. Tests use it with a fresh `buildExtract` result; runtime uses `loadDefinitions`. */
export function createDefinitions(extract: DefinitionExtract): FhirDefinitions {
  const types = new Map(Object.entries(extract.types));
  const resourceTypes = new Set(extract.resourceTypes);
  const elements = new Map<string, ReadonlyMap<string, ElementDef>>();
  const searchParams = new Map<string, ReadonlyMap<string, SearchParamDef>>();

  const complexType = (name: string): ComplexTypeDef => {
    const def = types.get(name);
    if (def === undefined || def.kind === 'primitive') {
      throw new Error(`FhirDefinitions: "${name}" is not a complex type of the extract`);
    }
    return def;
  };

  const elementsOf = (typeName: string): ReadonlyMap<string, ElementDef> | undefined => {
    let byName = elements.get(typeName);
    const def = types.get(typeName);
    if (byName === undefined && def !== undefined && def.kind !== 'primitive') {
      byName = new Map(def.elements.map((e) => [e.name, e]));
      elements.set(typeName, byName);
    }
    return byName;
  };

  const searchParamsOf = (resourceType: string): ReadonlyMap<string, SearchParamDef> => {
    let byCode = searchParams.get(resourceType);
    if (byCode === undefined) {
      byCode = new Map((extract.searchParams[resourceType] ?? []).map((p) => [p.code, p]));
      searchParams.set(resourceType, byCode);
    }
    return byCode;
  };

  return {
    fhirVersion: extract.fhirVersion,
    resourceTypes: extract.resourceTypes,
    type: (name) => types.get(name),
    complexType,
    element: (typeName, elementName) => elementsOf(typeName)?.get(elementName),
    isPrimitive: (name) => types.get(name)?.kind === 'primitive',
    isResourceType: (name) => resourceTypes.has(name),
    searchParams: (resourceType) => extract.searchParams[resourceType] ?? [],
    searchParam: (resourceType, code) => searchParamsOf(resourceType).get(code),
  };
}
