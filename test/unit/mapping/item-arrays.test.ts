import { describe, expect, it } from 'vitest';
import { type QueryExecutor, type Row, SQLITE_DIALECT } from '../../../src/db/dialect.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import type { FhirJson } from '../../../src/fhir/fhir-json.js';
import type {} from '../../../src/graphql/builder.js';
import { type CompileResult, compileMapping } from '../../../src/mapping/compile-mapping.js';
import { jsonArrayCell, splitCell } from '../../../src/mapping/item-arrays.js';
import { assertValidR4 } from './fhir-validation.js';

const defs = loadDefinitions();

function compile(type: string, elements: Record<string, unknown>): CompileResult {
  return compileMapping(
    { formatVersion: 1, resources: { [type]: { table: 'm', id: 'id', elements } } },
    { defs, dialect: SQLITE_DIALECT },
  );
}

function problemsOf(type: string, elements: Record<string, unknown>): string[] {
  const result = compile(type, elements);
  return result.ok
    ? []
    : result.problems.map(
        (p) => `${p.path}${p.column === undefined ? '' : ` (${p.column})`}: ${p.message}`,
      );
}

async function build(type: string, elements: Record<string, unknown>, row: Row): Promise<FhirJson> {
  const result = compile(type, elements);
  if (!result.ok) {
    throw new Error(JSON.stringify(result.problems));
  }
  const exec: QueryExecutor = {
    dialect: SQLITE_DIALECT,
    query: async () => [{ id: 'r1', ...row }],
  };
  const [out] = await result.mapping.resource(type)!.loadByIds(exec, ['r1']);
  if (out === null || out === undefined) {
    throw new Error('not found');
  }
  assertValidR4(out);
  return out;
}

const phones = {
  json: { column: 'telefonos_json' },
  elements: {
    system: { constant: 'phone' },
    value: '$.numero',
    use: {
      column: '$.tipo',
      transform: [{ fn: 'valueMap', map: { CEL: 'mobile', CASA: 'home' } }],
    },
  },
};

describe('json arrays', () => {
  it('builds one item per entry, with paths into each entry', async () => {
    const out = await build(
      'Patient',
      { 'telecom[0].system': { constant: 'email' }, 'telecom[0].value': 'mail', telecom: phones },
      {
        mail: 'ana@example.org',
        telefonos_json:
          '[{"numero":"+56911111111","tipo":"CEL"},{"numero":" 221234567 ","tipo":"CASA"},{"tipo":"CEL"},"x",null,{"numero":56922222222,"tipo":{"a":1}}]',
      },
    );
    // Fixed items first. An entry keeps whatever it has (a type without a number); entries
    // that are not objects read as blank and are dropped, like blank child rows.
    expect(out['telecom']).toEqual([
      { system: 'email', value: 'ana@example.org' },
      { system: 'phone', value: '+56911111111', use: 'mobile' },
      { system: 'phone', value: '221234567', use: 'home' },
      { system: 'phone', use: 'mobile' },
      { system: 'phone', value: '56922222222' },
    ]);
  });

  it('gives no items, never an error, for NULL, invalid JSON or a non-array', async () => {
    for (const telefonos_json of [null, '', '{not json', '{"numero":"1"}', '42', 'null', '[]']) {
      const out = await build('Patient', { telecom: phones }, { telefonos_json });
      expect(out, String(telefonos_json)).toEqual({ resourceType: 'Patient', id: 'r1' });
    }
  });

  it('reads arrays the driver already parsed, Buffers, $value and nested paths', async () => {
    const elements = {
      contact: {
        json: { column: 'contactos' },
        elements: {
          'name.text': '$.nombre',
          'telecom[0].system': { constant: 'phone' },
          'telecom[0].value': '$.fono.numero',
          'relationship[0].text': { template: '{parentesco_default}' },
        },
      },
      'address[0].line': { column: 'lineas', transform: ['split'] },
      communication: {
        json: { column: 'idiomas' },
        elements: {
          'language.coding[0].system': { constant: 'urn:ietf:bcp:47' },
          'language.coding[0].code': '$value',
        },
      },
    };
    const out = await build('Patient', elements, {
      contactos: [{ nombre: 'PEDRO', fono: { numero: '+5691' } }, { nombre: 'LUISA' }],
      parentesco_default: 'FAMILIAR',
      idiomas: Buffer.from('["es", "en", 3, {"x": 1}]'),
      lineas: null,
    });
    expect(out['contact']).toEqual([
      {
        name: { text: 'PEDRO' },
        telecom: [{ system: 'phone', value: '+5691' }],
        relationship: [{ text: 'FAMILIAR' }],
      },
      { name: { text: 'LUISA' }, relationship: [{ text: 'FAMILIAR' }] },
    ]);
    expect(out['communication']).toEqual([
      { language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'es' }] } },
      { language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en' }] } },
      { language: { coding: [{ system: 'urn:ietf:bcp:47', code: '3' }] } },
    ]);
  });

  it('does not follow inherited properties', () => {
    expect(jsonArrayCell('[{"__proto__": {"a": 1}}]')).toHaveLength(1);
    expect(jsonArrayCell('{"a": [1]}')).toEqual([]);
    expect(jsonArrayCell(Array.from({ length: 150 }, (_, i) => i))).toHaveLength(100);
  });
});

describe('delimited arrays', () => {
  const allergy = {
    'clinicalStatus.coding[0].system': {
      constant: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
    },
    'clinicalStatus.coding[0].code': { constant: 'active' },
    'code.text': 'agente',
    patient: { reference: { type: 'Patient', column: 'pid' } },
    reaction: {
      delimited: { column: 'reacciones', separator: ';' },
      elements: {
        'manifestation[0].text': '$value',
        severity: {
          column: 'severidad',
          transform: [{ fn: 'valueMap', map: { LEVE: 'mild', GRAVE: 'severe' } }],
        },
      },
    },
  };

  it('builds one item per non-empty part, with row columns beside $value', async () => {
    const out = await build('AllergyIntolerance', allergy, {
      agente: 'PENICILINA',
      pid: 4,
      reacciones: ' urticaria ;; disnea; ',
      severidad: 'GRAVE',
    });
    expect(out['reaction']).toEqual([
      { manifestation: [{ text: 'urticaria' }], severity: 'severe' },
      { manifestation: [{ text: 'disnea' }], severity: 'severe' },
    ]);
  });

  it('gives no items for NULL and blank cells', async () => {
    for (const reacciones of [null, '', ' ; ']) {
      const out = await build('AllergyIntolerance', allergy, { pid: 4, reacciones });
      expect(out['reaction']).toBeUndefined();
    }
    expect(splitCell('a,b', ',')).toEqual(['a', 'b']);
    expect(splitCell(12, ',')).toEqual(['12']);
    expect(splitCell({}, ',')).toEqual([]);
  });

  it('writes references from $value', async () => {
    const out = await build(
      'Encounter',
      {
        status: { constant: 'finished' },
        'class.code': { constant: 'AMB' },
        participant: {
          delimited: { column: 'equipo' },
          elements: { individual: { reference: { type: 'Practitioner', column: '$value' } } },
        },
      },
      { equipo: 'M001, M002,not an id' },
    );
    expect(out['participant']).toEqual([
      { individual: { reference: 'Practitioner/M001' } },
      { individual: { reference: 'Practitioner/M002' } },
    ]);
  });

  it('lists the source column and the row columns, not the item values', () => {
    const result = compile('AllergyIntolerance', allergy);
    if (!result.ok) {
      throw new Error('expected ok');
    }
    const uses = result.mapping.resource('AllergyIntolerance')!.columnUses;
    expect(uses.map((u) => `${u.column} ${u.path} ${u.fhirType ?? '-'}`)).toEqual([
      'id id id',
      'agente code.text string',
      'pid patient.reference id',
      'reacciones reaction -',
      'severidad reaction.severity code',
    ]);
  });
});

describe('item arrays: compile problems', () => {
  it('points primitive arrays to split, and needs an array of a complex type', () => {
    expect(
      problemsOf('Patient', {
        'name[0].given': { delimited: { column: 'n' }, elements: { x: '$value' } },
        gender: { json: { column: 'g' }, elements: { x: '$value' } },
        'telecom[0]': { json: { column: 't' }, elements: { value: '$value' } },
      }),
    ).toEqual([
      'name[0].given (n): delimited builds items of a complex array; for a list of string values use the split transform',
      'gender (g): json must target an array element, e.g. telecom',
      'telecom[0] (t): json must target the array itself, without an index (telecom, not telecom[0])',
    ]);
  });

  it('keeps JSON paths out of delimited items and checks item elements', () => {
    expect(
      problemsOf('Patient', {
        telecom: { delimited: { column: 't' }, elements: { value: '$.numero', rank: '$value' } },
        address: { json: { column: 'a' }, elements: { city: '$.comuna', nope: '$value' } },
      }),
    ).toEqual([
      'telecom ($.numero): the parts of a delimited cell are text: use $value, JSON paths need json',
      'address.nope ($value): Address has no element "nope"',
    ]);
  });

  it('rejects item values outside items, and malformed ones inside', () => {
    const problems = problemsOf('Patient', {
      gender: '$value',
      telecom: { json: { column: 't' }, elements: { value: '$.a b', system: '$.' } },
    });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('gender');
    expect(problems[1]).toContain('telecom.value');
    expect(problems[2]).toContain('telecom.system');
  });
});
