import { describe, expect, it } from 'vitest';
import { type QueryExecutor, type Row, SQLITE_DIALECT } from '../../../src/db/dialect.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import type { FhirJson } from '../../../src/fhir/fhir-json.js';
import type {} from '../../../src/graphql/builder.js';
import { compileMapping } from '../../../src/mapping/compile-mapping.js';
import { assertValidR4 } from './fhir-validation.js';

/** Answers every statement with the rows of the table it reads; grouping is the engine's job. */
function stubExecutor(rowsByTable: Record<string, Row[]>): QueryExecutor {
  return {
    dialect: SQLITE_DIALECT,
    async query(statement) {
      const table = /FROM "(\w+)"/.exec(statement.sql)?.[1] ?? '';
      return rowsByTable[table] ?? [];
    },
  };
}

/** Compiles a one-resource Patient mapping over table `p` with id column `id`. */
function patientMapping(elements: Record<string, unknown>) {
  const result = compileMapping(
    { formatVersion: 1, resources: { Patient: { table: 'p', id: 'id', elements } } },
    { defs: loadDefinitions(), dialect: SQLITE_DIALECT },
  );
  if (!result.ok) {
    throw new Error(JSON.stringify(result.problems));
  }
  const resource = result.mapping.resource('Patient');
  if (resource === undefined) {
    throw new Error('no Patient');
  }
  return resource;
}

async function build(
  elements: Record<string, unknown>,
  row: Row,
  children: Record<string, Row[]> = {},
): Promise<FhirJson> {
  const resource = patientMapping(elements);
  const [out] = await resource.loadByIds(stubExecutor({ p: [{ id: 'p1', ...row }], ...children }), [
    'p1',
  ]);
  if (out === null || out === undefined) {
    throw new Error('not found');
  }
  assertValidR4(out);
  return out;
}

describe('row to FHIR JSON', () => {
  it('writes resourceType and id first, then elements in mapping order', async () => {
    const out = await build({ gender: 'g', active: { constant: true } }, { g: 'male' });
    expect(Object.keys(out)).toEqual(['resourceType', 'id', 'gender', 'active']);
    expect(out).toEqual({ resourceType: 'Patient', id: 'p1', gender: 'male', active: true });
  });

  it('leaves out null, empty and whitespace-only values', async () => {
    const out = await build(
      { gender: 'g', 'name[0].family': 'f', 'name[0].given': 'n', birthDate: 'b' },
      { g: '', f: '   ', n: null, b: undefined },
    );
    expect(out).toEqual({ resourceType: 'Patient', id: 'p1' });
  });

  it('closes holes: a fixed name[1] whose name[0] is empty becomes name[0]', async () => {
    const out = await build(
      {
        'name[0].family': 'a',
        'name[1].family': 'b',
        'name[1].given[0]': 'c',
        'name[1].given[2]': 'd',
      },
      { a: null, b: 'SOTO', c: null, d: 'ANA' },
    );
    expect(out['name']).toEqual([{ family: 'SOTO', given: ['ANA'] }]);
  });

  it('drops an object whose data is absent even when it has constants', async () => {
    const elements = {
      'identifier[0].system': { constant: 'urn:oid:2.16.152.1.1.1' },
      'identifier[0].value': 'rut',
      'name[0].use': { constant: 'official' },
      'name[0].family': 'ap',
    };
    expect(await build(elements, { rut: null, ap: null })).toEqual({
      resourceType: 'Patient',
      id: 'p1',
    });
    expect(await build(elements, { rut: '1-9', ap: null })).toEqual({
      resourceType: 'Patient',
      id: 'p1',
      identifier: [{ system: 'urn:oid:2.16.152.1.1.1', value: '1-9' }],
    });
  });

  it('keeps objects that only constants feed', async () => {
    const out = await build(
      {
        'maritalStatus.coding[0].system': {
          constant: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus',
        },
        'maritalStatus.coding[0].code': { constant: 'U' },
        'communication[0].language.text': { constant: 'Spanish' },
      },
      {},
    );
    expect(out['maritalStatus']).toEqual({
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'U' }],
    });
    expect(out['communication']).toEqual([{ language: { text: 'Spanish' } }]);
  });

  it('coerces leaves by primitive type when there is no transform', async () => {
    const out = await build(
      {
        active: 'a',
        multipleBirthInteger: 'm',
        birthDate: 'b',
        deceasedDateTime: 'd',
        'name[0].family': 'f',
        'identifier[0].value': 'i',
      },
      {
        a: 'S',
        m: '2',
        b: '1980-05-17 00:00:00',
        d: '2020-01-02 10:11:12',
        f: Buffer.from('  MUÑOZ '),
        i: 12345,
      },
    );
    expect(out).toEqual({
      resourceType: 'Patient',
      id: 'p1',
      active: true,
      multipleBirthInteger: 2,
      birthDate: '1980-05-17',
      deceasedDateTime: '2020-01-02T10:11:12Z',
      name: [{ family: 'MUÑOZ' }],
      identifier: [{ value: '12345' }],
    });
  });

  it('drops values that do not fit their primitive type', async () => {
    const out = await build(
      { active: 'a', multipleBirthInteger: 'm', birthDate: 'b', gender: 'g' },
      { a: 'quizas', m: '2.5', b: '0000-00-00', g: 'two  spaces' },
    );
    expect(out).toEqual({ resourceType: 'Patient', id: 'p1' });
  });

  it('reads JS Dates for date and dateTime elements', async () => {
    const out = await build(
      { birthDate: 'b', deceasedDateTime: 'd' },
      { b: new Date(1980, 4, 17), d: new Date(Date.UTC(2020, 0, 2, 10, 11, 12)) },
    );
    expect(out['birthDate']).toBe('1980-05-17');
    expect(out['deceasedDateTime']).toBe('2020-01-02T10:11:12Z');
  });

  it('turns foreign keys into references with a template', async () => {
    const elements = { 'managingOrganization.reference': { template: 'Organization/{org_id}' } };
    expect((await build(elements, { org_id: 7 }))['managingOrganization']).toEqual({
      reference: 'Organization/7',
    });
    expect(await build(elements, { org_id: null })).toEqual({ resourceType: 'Patient', id: 'p1' });
  });

  it('merges splitName with other parts of the same name', async () => {
    const out = await build(
      {
        'name[0].use': { constant: 'official' },
        'name[0]': { column: 'n', transform: [{ fn: 'splitName', familyCount: 2 }] },
        'name[0].prefix': 'titulo',
      },
      { n: 'JUAN CARLOS PEREZ GONZALEZ', titulo: 'DR.' },
    );
    expect(out['name']).toEqual([
      {
        use: 'official',
        family: 'PEREZ GONZALEZ',
        given: ['JUAN', 'CARLOS'],
        text: 'JUAN CARLOS PEREZ GONZALEZ',
        prefix: ['DR.'],
      },
    ]);
  });

  it('appends child rows after fixed items and drops items without data', async () => {
    const out = await build(
      {
        'telecom[0].system': { constant: 'email' },
        'telecom[0].value': 'email',
        telecom: {
          rows: { table: 'tel', key: 'pid' },
          elements: { system: { constant: 'phone' }, value: 'numero' },
        },
      },
      { email: 'ana@example.org' },
      {
        tel: [
          { pid: 'p1', numero: '+56911111111' },
          { pid: 'p1', numero: '  ' },
          { pid: 'other', numero: '+56900000000' },
          { pid: 'p1', numero: '221234567' },
        ],
      },
    );
    expect(out['telecom']).toEqual([
      { system: 'email', value: 'ana@example.org' },
      { system: 'phone', value: '+56911111111' },
      { system: 'phone', value: '221234567' },
    ]);
  });

  it('maps rows into an array inside a fixed item', async () => {
    const out = await build(
      {
        'contact[0].name.family': 'contacto',
        'contact[0].telecom': {
          rows: { table: 'tel', key: 'pid' },
          elements: { value: 'numero' },
        },
      },
      { contacto: 'ROJAS' },
      { tel: [{ pid: 'p1', numero: '123' }] },
    );
    expect(out['contact']).toEqual([{ name: { family: 'ROJAS' }, telecom: [{ value: '123' }] }]);
  });

  it('splits a delimited column into a primitive array', async () => {
    const out = await build(
      {
        'name[0].family': 'ap',
        'name[0].given': { column: 'nombres', transform: [{ fn: 'split', separator: ' ' }] },
        'address[0].line': { column: 'dir', transform: ['split'] },
        'address[0].city': 'comuna',
      },
      {
        ap: 'SOTO',
        nombres: ' MARIA  JOSE ',
        dir: 'Av. Siempre Viva 742, Depto 5, ',
        comuna: null,
      },
    );
    expect(out['name']).toEqual([{ family: 'SOTO', given: ['MARIA', 'JOSE'] }]);
    expect(out['address']).toEqual([{ line: ['Av. Siempre Viva 742', 'Depto 5'] }]);
    const empty = await build(
      { 'address[0].line': { column: 'dir', transform: ['split'] } },
      {
        dir: ' , ',
      },
    );
    expect(empty).toEqual({ resourceType: 'Patient', id: 'p1' });
  });

  it('writes prefixed codes into a CodeableConcept, next to its text', async () => {
    const out = await build(
      {
        maritalStatus: {
          column: 'ec',
          transform: [
            'uppercase',
            {
              fn: 'codes',
              systems: { V3: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus' },
            },
          ],
        },
        'maritalStatus.text': 'ec_texto',
      },
      { ec: 'v3:m', ec_texto: 'Casada' },
    );
    expect(out['maritalStatus']).toEqual({
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }],
      text: 'Casada',
    });
  });

  it('converts units into numeric elements', async () => {
    const result = compileMapping(
      {
        formatVersion: 1,
        resources: {
          Observation: {
            table: 'o',
            id: 'id',
            elements: {
              status: { constant: 'final' },
              'code.text': { constant: 'Peso' },
              'valueQuantity.value': {
                column: 'peso_lb',
                transform: [{ fn: 'unit', from: '[lb_av]', to: 'kg', decimals: 1 }],
              },
              'valueQuantity.code': { constant: 'kg' },
            },
          },
        },
      },
      { defs: loadDefinitions(), dialect: SQLITE_DIALECT },
    );
    if (!result.ok) {
      throw new Error(JSON.stringify(result.problems));
    }
    const [out] = await result.mapping
      .resource('Observation')!
      .loadByIds(stubExecutor({ o: [{ id: 'o1', peso_lb: '154.3' }] }), ['o1']);
    expect(out?.['valueQuantity']).toEqual({ value: 70, code: 'kg' });
    assertValidR4(out!);
  });
});

describe('whole-value transforms: compile problems', () => {
  const problems = (elements: Record<string, unknown>) => {
    const result = compileMapping(
      { formatVersion: 1, resources: { Patient: { table: 'p', id: 'id', elements } } },
      { defs: loadDefinitions(), dialect: SQLITE_DIALECT },
    );
    return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
  };

  it('needs split on a primitive array without an index, as the last transform', () => {
    expect(problems({ 'name[0].given[0]': { column: 'n', transform: ['split'] } })).toEqual([
      'name[0].given[0]: split fills a whole array of a primitive type, written without an index (given, line)',
    ]);
    expect(problems({ gender: { column: 'g', transform: ['split'] } })).toHaveLength(1);
    expect(problems({ 'name[0].given': { column: 'n', transform: ['split', 'trim'] } })).toEqual([
      'name[0].given: split must be the last transform',
    ]);
    expect(
      problems({
        'name[0].given': { column: 'n', transform: ['split'] },
        'name[0].given[1]': 'm',
      }),
    ).toEqual(['name[0].given: name[0].given is filled by split, which writes every item']);
  });

  it('needs codes on a CodeableConcept, without its coding mapped elsewhere', () => {
    const codes = { fn: 'codes', default: 'http://snomed.info/sct' };
    expect(problems({ gender: { column: 'g', transform: [codes] } })).toEqual([
      'gender: transform codes produces CodeableConcept, which does not fit a code element',
    ]);
    expect(problems({ 'name[0]': { column: 'g', transform: [codes] } })).toEqual([
      'name[0]: a HumanName element is filled by splitName, or map its parts (family, given[0], text) instead',
    ]);
    expect(problems({ 'address[0]': { column: 'g', transform: [codes] } })).toEqual([
      'address[0]: transform codes produces a CodeableConcept, which does not fit a Address element',
    ]);
    expect(
      problems({
        maritalStatus: { column: 'm', transform: [codes] },
        'maritalStatus.coding[0].code': 'c',
      }),
    ).toEqual(['maritalStatus.coding: maritalStatus is filled by codes, which also writes coding']);
    expect(problems({ maritalStatus: { column: 'm', transform: [codes, 'trim'] } })).toEqual([
      'maritalStatus: codes must be the last transform',
    ]);
  });

  it('keeps numbers out of dates', () => {
    expect(
      problems({ birthDate: { column: 'b', transform: [{ fn: 'scale', factor: 2 }] } }),
    ).toEqual(['birthDate: transform scale produces number, which does not fit a date element']);
  });
});
