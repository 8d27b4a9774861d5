import { parse } from 'graphql/index.js';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { buildGatewaySchema } from '../../../src/graphql/schema.js';
import {
  followsReferences,
  resourceTypesOf,
  selectedElements,
} from '../../../src/graphql/selected-elements.js';

const schema = buildGatewaySchema({
  defs: loadDefinitions(),
  resourceTypes: loadConfig({}).graphql.resourceTypes,
  limits: { maxCount: 100, defaultCount: 20, maxOffset: 10_000 },
});
const types = resourceTypesOf(schema);

function sorted(set: ReadonlySet<string> | undefined): string[] | undefined {
  return set === undefined ? undefined : [...set].sort();
}

describe('selectedElements', () => {
  it('knows the resource types from the Resource union', () => {
    expect(types.has('Patient')).toBe(true);
    expect(types.has('Observation')).toBe(true);
    expect(types.has('HumanName')).toBe(false);
  });

  it('collects top-level fields per resource type through fragments, references and lists', () => {
    const document = parse(`
      query Q($skip: Boolean!) {
        PatientList(_count: 2) {
          ...P
          birthDate @skip(if: $skip)
          ObservationList(_reference: subject) {
            valueQuantity { value }
            performer { resource { ... on Practitioner { name { family } } } }
          }
        }
        Observation(id: "1") { code { text } }
        PatientConnection { edges { resource { gender } } }
      }
      fragment P on Patient { id name { family } }
    `);
    const elements = selectedElements(schema, document, types);
    // subject and patient are always built: the audit trail names the patient from them.
    expect(sorted(elements.get('Patient'))).toEqual(
      ['ObservationList', 'birthDate', 'gender', 'id', 'name', 'patient', 'subject'].sort(),
    );
    expect(sorted(elements.get('Observation'))).toEqual(
      ['code', 'patient', 'performer', 'subject', 'valueQuantity'].sort(),
    );
    expect(sorted(elements.get('Practitioner'))).toEqual(['name', 'patient', 'subject']);
    // Never selected on: no entry, so its resources would be built whole.
    expect(elements.get('Encounter')).toBeUndefined();
  });

  it('computes once per parsed document', () => {
    const document = parse('{ Patient(id: "1") { id } }');
    expect(selectedElements(schema, document, types)).toBe(
      selectedElements(schema, document, types),
    );
  });
});

describe('followsReferences', () => {
  it("is true only when a document selects a Reference's resource, however it gets there", () => {
    const follows = (query: string) => followsReferences(schema, parse(query));
    expect(
      follows('{ Observation(id: "1") { subject { resource { ... on Patient { id } } } } }'),
    ).toBe(true);
    expect(
      follows(`{ PatientList { ObservationList(_reference: subject) { ...O } } }
        fragment O on Observation { performer { resource(optional: true) { __typename } } }`),
    ).toBe(true);
    // A reverse list, a reference's text and a connection's edge resource are no reads by id.
    expect(
      follows('{ PatientList { ObservationList(_reference: subject) { subject { reference } } } }'),
    ).toBe(false);
    expect(follows('{ PatientConnection { edges { resource { id } } } }')).toBe(false);
  });
});
