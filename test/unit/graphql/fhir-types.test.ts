// Pothos runs outside Vite and gets graphql's CommonJS build through Node; a bare 'graphql'
// import here would get the `module` (.mjs) build, a second copy that rejects Pothos's schema.
import { type GraphQLObjectType, type GraphQLSchema, graphql, printSchema } from 'graphql/index.js';
import { describe, expect, it } from 'vitest';
import { R4_EXTRACT_RESOURCE_TYPES } from '../../../src/fhir/build-extract.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { createBuilder } from '../../../src/graphql/builder.js';
import { registerFhirTypes } from '../../../src/graphql/fhir-types.js';

const defs = loadDefinitions();

/** A schema with the FHIR types of `resourceTypes` and one `Patient` query field. */
function buildSchema(resourceTypes: readonly string[]) {
  const builder = createBuilder();
  const refs = registerFhirTypes(builder, defs, resourceTypes);
  builder.queryField('Patient', (t) =>
    t.field({
      type: refs.resource('Patient'),
      resolve: () => ({
        resourceType: 'Patient',
        id: 'p1',
        name: [{ family: 'Chalmers', given: ['Peter', 'James'] }],
        birthDate: '1974-12-25',
        _birthDate: { extension: [{ url: 'http://example.org/x', valueString: 'shadow' }] },
        deceasedBoolean: false,
        multipleBirthInteger: 2,
      }),
    }),
  );
  return { schema: builder.toSchema(), refs };
}

/** `Type.field` as `field(arg, ...): Type`, for fields whose printed form spans lines. */
function signature(schema: GraphQLSchema, typeName: string, fieldName: string): string {
  const type = schema.getType(typeName) as GraphQLObjectType | undefined;
  const field = type?.getFields()[fieldName];
  expect(field, `${typeName}.${fieldName}`).toBeDefined();
  const args = field!.args.map((a) => a.name);
  return `${fieldName}${args.length === 0 ? '' : `(${args.join(', ')})`}: ${String(field!.type)}`;
}

/** One type's block of the printed SDL. */
function typeBlock(sdl: string, name: string): string {
  const match = new RegExp(`\\ntype ${name} \\{\\n[\\s\\S]*?\\n\\}`).exec(sdl);
  expect(match, `type ${name}`).not.toBeNull();
  return match![0];
}

describe('registerFhirTypes', () => {
  it('builds Patient and only what it reaches', () => {
    const { schema, refs } = buildSchema(['Patient']);
    const sdl = printSchema(schema);
    const patient = typeBlock(sdl, 'Patient');

    expect(patient).toContain('  resourceType: String!\n');
    // Repeating complex elements take _count, _offset, fhirpath and one filter per primitive child.
    expect(signature(schema, 'Patient', 'name')).toBe(
      'name(_count, _offset, family, fhirpath, given, id, prefix, suffix, text, use): [HumanName!]',
    );
    expect(signature(schema, 'Patient', 'telecom')).toBe(
      'telecom(_count, _offset, fhirpath, id, rank, system, use, value): [ContactPoint!]',
    );
    expect(patient).toContain('  birthDate: String\n');
    expect(patient).toContain('  deceasedBoolean: Boolean\n');
    expect(patient).toContain('  deceasedDateTime: String\n');
    expect(patient).toContain('  multipleBirthInteger: Int\n');
    expect(signature(schema, 'Patient', 'contact')).toBe(
      'contact(_count, _offset, fhirpath, gender, id): [PatientContact!]',
    );
    // Choice variants (valueString, ...) are not filters: `url` is the one that matters.
    expect(signature(schema, 'Patient', 'extension')).toBe(
      'extension(_count, _offset, fhirpath, id, url): [Extension!]',
    );
    expect(signature(schema, 'Patient', 'modifierExtension')).toBe(
      'modifierExtension(_count, _offset, fhirpath, id, url): [Extension!]',
    );
    expect(patient).toContain('  contained: [Resource!]\n');
    expect(patient).toContain('"""The date of birth for the individual"""\n  birthDate: String');
    expect(patient).not.toContain('_birthDate');

    expect(typeBlock(sdl, 'HumanName')).toContain('  given: [String!]\n');
    expect(typeBlock(sdl, 'PatientContact')).toContain('  name: HumanName\n');
    expect(typeBlock(sdl, 'Extension')).toContain('  valueString: String\n');
    expect(typeBlock(sdl, 'Extension')).toContain('  valueDecimal: Float\n');
    expect(typeBlock(sdl, 'Extension')).toContain('  valuePositiveInt: Int\n');
    expect(signature(schema, 'Extension', 'extension')).toBe(
      'extension(_count, _offset, fhirpath, id, url): [Extension!]',
    );
    expect(schema.getType('Observation')).toBeUndefined();
    expect(schema.getType('ObservationComponent')).toBeUndefined();
    expect(sdl).toContain('\nunion Resource = Patient\n');
    expect(refs.typeNames()).toContain('Reference');
    expect(refs.typeNames().length).toBeLessThan(50);
    expect(() => refs.resource('Observation')).toThrow(/not requested/);
  });

  it('reads FHIR JSON with default resolvers', async () => {
    const { schema } = buildSchema(['Patient']);
    const result = await graphql({
      schema,
      source:
        '{ Patient { resourceType id birthDate deceasedBoolean multipleBirthInteger name { family given } gender } }',
      contextValue: {},
    });
    expect(result).toEqual({
      data: {
        Patient: {
          resourceType: 'Patient',
          id: 'p1',
          birthDate: '1974-12-25',
          deceasedBoolean: false,
          multipleBirthInteger: 2,
          name: [{ family: 'Chalmers', given: ['Peter', 'James'] }],
          gender: null,
        },
      },
    });
  });

  it('leaves fields that only read their element without a resolver, and the rest with theirs', async () => {
    const { schema } = buildSchema(['Patient']);
    const fields = (name: string) => (schema.getType(name) as GraphQLObjectType).getFields();
    // Read inline by graphql-jit: no resolve info and path built per value.
    for (const [type, field] of [
      ['Patient', 'id'],
      ['Patient', 'birthDate'],
      ['Patient', 'maritalStatus'],
      ['HumanName', 'given'],
      ['HumanName', 'period'],
      ['Period', 'start'],
    ] as const) {
      expect(fields(type)[field]?.resolve, `${type}.${field}`).toBeUndefined();
    }
    // Lists of complex values take filter arguments; resourceType is the type's own name.
    expect(fields('Patient')['name']?.args.length).toBeGreaterThan(0);
    expect(fields('Patient')['name']?.resolve).toBeTypeOf('function');
    expect(fields('Patient')['resourceType']?.resolve).toBeTypeOf('function');
    // Under the compiled executor too: the same answer, a missing element as null.
    const { compileQuery, isCompiledQuery } = await import('graphql-jit');
    const { parse } = await import('graphql/index.js');
    const compiled = compileQuery(
      schema,
      parse(
        '{ Patient { id birthDate gender name(_count: 1) { family given period { start } } } }',
      ),
    );
    if (!isCompiledQuery(compiled)) {
      throw new Error('graphql-jit did not compile the query');
    }
    expect(await compiled.query(undefined, {}, {})).toEqual({
      data: {
        Patient: {
          id: 'p1',
          birthDate: '1974-12-25',
          gender: null,
          name: [{ family: 'Chalmers', given: ['Peter', 'James'], period: null }],
        },
      },
    });
  });

  it('builds all resource types of the extract', () => {
    const started = performance.now();
    const { schema } = buildSchema(R4_EXTRACT_RESOURCE_TYPES);
    const sdl = printSchema(schema);
    const elapsed = performance.now() - started;

    const objectTypes = Object.values(schema.getTypeMap()).filter(
      (type) => !type.name.startsWith('__'),
    );
    const fieldCount = objectTypes
      .filter((type): type is GraphQLObjectType => 'getFields' in type && type.name !== 'Query')
      .reduce((sum, type) => sum + Object.keys(type.getFields()).length, 0);
    // Informational: the build time the gateway pays at startup.
    process.stdout.write(
      `fhir-types: ${objectTypes.length} types, ${fieldCount} fields, ${sdl.length} SDL chars, ` +
        `built in ${elapsed.toFixed(0)} ms\n`,
    );

    for (const resourceType of R4_EXTRACT_RESOURCE_TYPES) {
      expect(typeBlock(sdl, resourceType)).toContain('  resourceType: String!\n');
    }
    const observation = typeBlock(sdl, 'Observation');
    expect(observation).toContain('  valueQuantity: Quantity\n');
    expect(signature(schema, 'Observation', 'component')).toBe(
      'component(_count, _offset, fhirpath, id): [ObservationComponent!]',
    );
    expect(signature(schema, 'Observation', 'referenceRange')).toBe(
      'referenceRange(_count, _offset, fhirpath, id, text): [ObservationReferenceRange!]',
    );
    expect(signature(schema, 'ObservationComponent', 'referenceRange')).toBe(
      'referenceRange(_count, _offset, fhirpath, id, text): [ObservationReferenceRange!]',
    );
    expect(typeBlock(sdl, 'Narrative')).toContain('  div: String\n');
    // 12 resources, 33 datatypes, 33 backbone elements, Query and the built-in scalars.
    expect(objectTypes.length).toBeGreaterThan(60);
    expect(objectTypes.length).toBeLessThan(120);
  });
});
