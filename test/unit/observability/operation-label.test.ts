import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { operationLabel } from '../../../src/observability/operation-label.js';

describe('operationLabel', () => {
  it.each([
    ['{ Patient(id: "1") { id } }', undefined, 'query:Patient'],
    ['query { PatientList(_count: 2) { id } }', undefined, 'query:PatientList'],
    // Aliases are chosen by the client and never become a label.
    ['{ soto_juan_1960: Patient(id: "1") { id } }', undefined, 'query:Patient'],
    ['{ a: Patient(id: "1") { id } b: Patient(id: "2") { id } }', undefined, 'query:Patient'],
    ['{ Patient(id: "1") { id } PatientList { id } }', undefined, 'query:multiple'],
    ['{ __typename }', undefined, 'query:__typename'],
    ['{ __typename Patient(id: "1") { id } }', undefined, 'query:Patient'],
    ['{ ... on Query { PatientList { id } } }', undefined, 'query:PatientList'],
    ['query Q { ...F } fragment F on Query { Patient(id: "1") { id } }', 'Q', 'query:Patient'],
    [
      'mutation { reloadTenantConfig(clientId: "x") { ok } }',
      undefined,
      'mutation:reloadTenantConfig',
    ],
  ])('%s -> %s', (source, operationName, expected) => {
    expect(operationLabel(parse(source), operationName)).toBe(expected);
  });

  it('never uses the operation name, which the client chooses and may build from PHI', () => {
    const doc = parse('query Soto_Perez_Juan_19600101 { Patient(id: "1") { id } }');
    expect(operationLabel(doc, 'Soto_Perez_Juan_19600101')).toBe('query:Patient');
  });

  it('picks the named operation of a document with several', () => {
    const doc = parse('query A { Patient(id: "1") { id } } mutation B { activate { ok } }');
    expect(operationLabel(doc, 'B')).toBe('mutation:activate');
    expect(operationLabel(doc, 'A')).toBe('query:Patient');
  });

  it('answers none when the operation cannot be chosen', () => {
    const doc = parse('query A { Patient(id: "1") { id } } query B { PatientList { id } }');
    expect(operationLabel(doc, undefined)).toBe('none');
    expect(operationLabel(doc, 'C')).toBe('none');
  });
});
