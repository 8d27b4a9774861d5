// Pothos runs outside Vite and gets graphql's CommonJS build through Node; see fhir-types.test.ts.

import type { ObjectRef } from '@pothos/core';
import {
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  graphql,
  printSchema,
} from 'graphql/index.js';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { type BuilderTypes, createBuilder } from '../../../src/graphql/builder.js';
import { buildGatewaySchema } from '../../../src/graphql/schema.js';
import { selectsAnyField } from '../../../src/graphql/selection.js';

const defs = loadDefinitions();
const LIMITS = { maxCount: 100, defaultCount: 20, maxOffset: 10_000 };
const ALL = loadConfig({}).graphql.resourceTypes;
const schema = buildGatewaySchema({ defs, resourceTypes: ALL, limits: LIMITS });
const sdl = printSchema(schema);

function block(kind: 'type' | 'union' | 'enum', name: string): string {
  const match =
    kind === 'union'
      ? new RegExp(`\\nunion ${name} =[^\\n]*`).exec(sdl)
      : new RegExp(`\\n${kind} ${name} \\{\\n[\\s\\S]*?\\n\\}`).exec(sdl);
  expect(match, `${kind} ${name}`).not.toBeNull();
  return match![0];
}

function signature(typeName: string, fieldName: string): string {
  const type = schema.getType(typeName) as GraphQLObjectType;
  const field = type.getFields()[fieldName];
  expect(field, `${typeName}.${fieldName}`).toBeDefined();
  return `${field!.args.map((a) => `${a.name}: ${String(a.type)}`).join(', ')} -> ${String(field!.type)}`;
}

describe('the gateway schema', () => {
  it('serves the 12 default resource types with X, XList and XConnection', () => {
    expect(ALL).toHaveLength(12);
    const query = schema.getQueryType()!.getFields();
    for (const type of ALL) {
      expect(query[type], type).toBeDefined();
      expect(query[`${type}List`], type).toBeDefined();
      expect(query[`${type}Connection`], type).toBeDefined();
    }
    expect(signature('Query', 'Patient')).toBe('_id: ID, id: ID -> Patient');
    expect(block('union', 'Resource')).toBe(
      '\nunion Resource = AllergyIntolerance | Condition | DiagnosticReport | Encounter | Immunization | Location | MedicationRequest | Observation | Organization | Patient | Practitioner | Procedure',
    );
    expect(block('enum', 'ResourceType')).toContain('  MedicationRequest\n');
  });

  it('gives XList the search parameters, modifiers, paging and _sort', () => {
    const args = signature('Query', 'PatientList');
    for (const arg of [
      '_count: Int',
      '_offset: Int',
      '_sort: [String!]',
      '_id: [String!]',
      'family: [String!]',
      'family_exact: [String!]',
      'family_contains: [String!]',
      'family_missing: Boolean',
      'address_city: [String!]',
      'general_practitioner: [String!]',
      'birthdate: [String!]',
    ]) {
      expect(args).toContain(arg);
    }
    expect(args.endsWith('-> [Patient!]')).toBe(true);
  });

  it('shapes XConnection and XEdge as on the HL7 page', () => {
    const args = signature('Query', 'PatientConnection');
    expect(args).toContain('cursor: String');
    expect(args).toContain('_cursor: String');
    expect(args.endsWith('-> PatientConnection')).toBe(true);
    const connection = schema.getType('PatientConnection') as GraphQLObjectType;
    expect(
      Object.values(connection.getFields()).map((f) => `${f.name}: ${String(f.type)}`),
    ).toEqual([
      'count: Int',
      'edges: [PatientEdge!]',
      'first: String',
      'last: String',
      'next: String',
      'offset: Int',
      'pagesize: Int',
      'previous: String',
    ]);
    const edge = schema.getType('PatientEdge') as GraphQLObjectType;
    expect(Object.values(edge.getFields()).map((f) => `${f.name}: ${String(f.type)}`)).toEqual([
      'mode: String',
      'resource: Patient',
      'score: Float',
    ]);
  });

  it('adds Reference.resource(optional, type) typed as the Resource union', () => {
    expect(signature('Reference', 'resource')).toBe(
      'optional: Boolean, type: ResourceType -> Resource',
    );
    expect(signature('Patient', 'contained')).toBe(' -> [Resource!]');
  });

  it('adds reverse references to each type that a reference parameter can point at', () => {
    const patient = schema.getType('Patient') as GraphQLObjectType;
    const reverse = Object.keys(patient.getFields()).filter((f) => /^[A-Z]\w+List$/.test(f));
    expect(reverse).toEqual([
      'AllergyIntoleranceList',
      'ConditionList',
      'DiagnosticReportList',
      'EncounterList',
      'ImmunizationList',
      'MedicationRequestList',
      'ObservationList',
      'PatientList',
      'ProcedureList',
    ]);
    const observationList = signature('Patient', 'ObservationList');
    expect(observationList.startsWith('_count: Int, ')).toBe(true);
    expect(observationList).toContain('_reference: Observation_reference_param!');
    expect(observationList).toContain('code: [String!]');
    expect(observationList.endsWith('-> [Observation!]')).toBe(true);
    const values = block('enum', 'Observation_reference_param');
    for (const value of ['subject', 'patient', 'performer', 'based_on', 'has_member', 'part_of']) {
      expect(values).toContain(`  ${value}\n`);
    }
    // Practitioner is pointed at by Patient.general-practitioner, never by a Location.
    const practitioner = schema.getType('Practitioner') as GraphQLObjectType;
    expect(Object.keys(practitioner.getFields())).toContain('PatientList');
    expect(Object.keys(practitioner.getFields())).not.toContain('LocationList');
  });

  it('declares the shaping directives of the HL7 page next to @skip and @include', () => {
    expect(schema.getDirectives().map((d) => d.name)).toEqual(
      expect.arrayContaining(['skip', 'include', 'flatten', 'first', 'singleton', 'slice']),
    );
    expect(sdl).toContain('directive @slice(');
    expect(sdl).toContain('path: String!\n) on FIELD');
  });

  it('keeps list arguments on repeating elements', () => {
    expect(signature('Patient', 'telecom')).toBe(
      '_count: Int, _offset: Int, fhirpath: String, id: String, rank: String, system: String, use: String, value: String -> [ContactPoint!]',
    );
  });

  it('stays a size a browser can introspect', () => {
    expect(sdl.length).toBeLessThan(500_000);
  });
});

describe('selectsAnyField', () => {
  const builder = createBuilder();
  let seen: boolean | undefined;
  const Page: ObjectRef<BuilderTypes, { n: number }> = builder.objectRef<{ n: number }>('Page');
  builder.objectType(Page, {
    fields: (t) => ({
      count: t.exposeInt('n'),
      last: t.exposeInt('n'),
      other: t.exposeInt('n'),
      nested: t.field({ type: Page, resolve: (p) => p }),
    }),
  });
  builder.queryField('page', (t) =>
    t.field({
      type: Page,
      resolve: (_r, _a, _c, info: GraphQLResolveInfo) => {
        seen = selectsAnyField(info, new Set(['count', 'last']));
        return { n: 1 };
      },
    }),
  );
  const small: GraphQLSchema = builder.toSchema();

  async function sees(source: string, variableValues?: Record<string, unknown>) {
    seen = undefined;
    const result = await graphql({
      schema: small,
      source,
      contextValue: {},
      ...(variableValues === undefined ? {} : { variableValues }),
    });
    expect(result.errors).toBeUndefined();
    return seen;
  }

  it('finds fields directly, by alias, in fragments, and honours @skip/@include', async () => {
    expect(await sees('{ page { other } }')).toBe(false);
    expect(await sees('{ page { total: count } }')).toBe(true);
    expect(await sees('{ page { ... on Page { last } } }')).toBe(true);
    expect(await sees('{ page { ...F } } fragment F on Page { count }')).toBe(true);
    expect(await sees('{ page { nested { count } } }')).toBe(false);
    expect(await sees('{ page { count @skip(if: true) other } }')).toBe(false);
    expect(
      await sees('query($c: Boolean!) { page { count @include(if: $c) other } }', { c: false }),
    ).toBe(false);
    expect(
      await sees('query($c: Boolean!) { page { count @include(if: $c) other } }', { c: true }),
    ).toBe(true);
  });
});
