import { type ExecutionResult, execute, parse, specifiedDirectives, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { createBuilder } from '../../../src/graphql/builder.js';
import { registerFhirTypes } from '../../../src/graphql/fhir-types.js';
import { shapeData } from '../../../src/graphql/shape-result.js';
import {
  SHAPING_DIRECTIVES,
  ShapingDirectivesRule,
} from '../../../src/graphql/shaping-directives.js';
import { shapingOf } from '../../../src/graphql/shaping-plan.js';

/**
 * The examples of the HL7 FHIR GraphQL page's "Data Flattening Directives", on its patient
 * example, executed by graphql-js on the generated FHIR types and shaped as the gateway does.
 */
const builder = createBuilder();
const refs = registerFhirTypes(builder, loadDefinitions(), ['Patient']);
builder.queryField('Patient', (t) =>
  t.field({
    type: refs.resource('Patient'),
    resolve: () => ({
      resourceType: 'Patient',
      id: 'example',
      identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' }],
      active: true,
      name: [
        { use: 'official', family: 'Chalmers', given: ['Peter', 'James'] },
        { use: 'usual', given: ['Jim'] },
        { use: 'maiden', family: 'Windsor', given: ['Peter', 'James'] },
      ],
    }),
  }),
);
const schema = builder.toSchema({ directives: [...specifiedDirectives, ...SHAPING_DIRECTIVES] });

function run(selection: string): unknown {
  const document = parse(`{ Patient ${selection} }`);
  expect(validate(schema, document, [ShapingDirectivesRule])).toEqual([]);
  const shaping = shapingOf(schema, document, undefined);
  expect(shaping).not.toBeNull();
  const result = execute({ schema, document: shaping!.document }) as ExecutionResult;
  expect(result.errors).toBeUndefined();
  return (shapeData(shaping!, result.data as Record<string, unknown>) as { Patient: unknown })
    .Patient;
}

describe('shaping as on the HL7 FHIR GraphQL page', () => {
  it('@flatten', () => {
    expect(
      run('{ identifier @flatten { system value } active name @flatten { text given family } }'),
    ).toEqual({
      system: ['urn:oid:1.2.36.146.595.217.0.1'],
      value: ['12345'],
      active: true,
      given: ['Peter', 'James', 'Jim', 'Peter', 'James'],
      family: ['Chalmers', 'Windsor'],
    });
  });

  it('@first', () => {
    expect(
      run(
        '{ identifier @flatten { system value } active name @flatten { text given @first family } }',
      ),
    ).toEqual({
      system: ['urn:oid:1.2.36.146.595.217.0.1'],
      value: ['12345'],
      active: true,
      given: ['Peter', 'Jim', 'Peter'],
      family: ['Chalmers', 'Windsor'],
    });
  });

  it('@singleton', () => {
    expect(
      run(`{ identifier @flatten { system @singleton value @singleton } active
        name @flatten @first { text given family @singleton } }`),
    ).toEqual({
      system: 'urn:oid:1.2.36.146.595.217.0.1',
      value: '12345',
      active: true,
      given: ['Peter', 'James'],
      family: 'Chalmers',
    });
  });

  it('@slice by a child', () => {
    expect(
      run(`{ identifier @flatten { system value } active
        name @flatten @slice(path: "use") { given family @singleton } }`),
    ).toEqual({
      system: ['urn:oid:1.2.36.146.595.217.0.1'],
      value: ['12345'],
      active: true,
      'given.official': ['Peter', 'James'],
      'family.official': 'Chalmers',
      'given.usual': ['Jim'],
      'given.maiden': ['Peter', 'James'],
      'family.maiden': 'Windsor',
    });
  });

  it('@slice by position', () => {
    expect(
      run(`{ identifier @flatten { system value } active
        name @flatten @slice(path: "$index") { given family @singleton } }`),
    ).toEqual({
      system: ['urn:oid:1.2.36.146.595.217.0.1'],
      value: ['12345'],
      active: true,
      'given.0': ['Peter', 'James'],
      'family.0': 'Chalmers',
      'given.1': ['Jim'],
      'given.2': ['Peter', 'James'],
      'family.2': 'Windsor',
    });
  });

  it('leaves fields without directives as GraphQL answers them', () => {
    expect(run('{ id name { family } identifier @first { value } }')).toEqual({
      id: 'example',
      name: [{ family: 'Chalmers' }, { family: null }, { family: 'Windsor' }],
      identifier: { value: '12345' },
    });
  });

  it('needs no hidden fields and no shaping for a document without the directives', () => {
    expect(shapingOf(schema, parse('{ Patient { id name { family } } }'), undefined)).toBeNull();
  });
});
