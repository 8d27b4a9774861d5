import { describe, expect, it } from 'vitest';
import { type QueryExecutor, type Row, SQLITE_DIALECT } from '../../../src/db/dialect.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import type { FhirJson } from '../../../src/fhir/fhir-json.js';
import type {} from '../../../src/graphql/builder.js';
import { type CompileResult, compileMapping } from '../../../src/mapping/compile-mapping.js';
import type { MappingProblem } from '../../../src/mapping/mapping-problem.js';
import { parseReferenceValue } from '../../../src/mapping/search.js';
import { assertValidR4 } from './fhir-validation.js';

const defs = loadDefinitions();

function compile(resources: Record<string, unknown>): CompileResult {
  return compileMapping({ formatVersion: 1, resources }, { defs, dialect: SQLITE_DIALECT });
}

function problemsOf(resources: Record<string, unknown>): readonly MappingProblem[] {
  const result = compile(resources);
  if (result.ok) {
    throw new Error('expected the mapping to be rejected');
  }
  return result.problems;
}

/** Answers every statement with the rows of the table it reads. */
function stubExecutor(rowsByTable: Record<string, Row[]>): QueryExecutor {
  return {
    dialect: SQLITE_DIALECT,
    async query(statement) {
      const table = /FROM "(\w+)"/.exec(statement.sql)?.[1] ?? '';
      return rowsByTable[table] ?? [];
    },
  };
}

async function build(
  type: string,
  elements: Record<string, unknown>,
  row: Row,
  children: Record<string, Row[]> = {},
): Promise<FhirJson> {
  const result = compile({ [type]: { table: 'm', id: 'id', elements } });
  if (!result.ok) {
    throw new Error(JSON.stringify(result.problems));
  }
  const [out] = await result.mapping
    .resource(type)!
    .loadByIds(stubExecutor({ m: [{ id: 'r1', ...row }], ...children }), ['r1']);
  if (out === null || out === undefined) {
    throw new Error('not found');
  }
  assertValidR4(out);
  return out;
}

const subjectOf = (column = 'pid', display?: string) => ({
  reference: { type: 'Patient', column, ...(display === undefined ? {} : { display }) },
});

describe('reference elements', () => {
  const base = { status: { constant: 'finished' }, 'class.code': { constant: 'AMB' } };

  it('writes Type/id from numbers, text and Buffers, trimmed', async () => {
    for (const pid of [7, ' 7 ', Buffer.from('7'), 7n]) {
      const out = await build('Encounter', { ...base, subject: subjectOf() }, { pid });
      expect(out['subject']).toEqual({ reference: 'Patient/7' });
    }
  });

  it('leaves the reference out for NULL, empty and non-id values, display included', async () => {
    for (const pid of [null, '', '   ', '1 OR 1=1', 'Patient/7', 'x'.repeat(65), {}]) {
      const out = await build(
        'Encounter',
        { ...base, subject: subjectOf('pid', 'nombre') },
        { pid, nombre: 'ANA' },
      );
      expect(out['subject'], String(pid)).toBeUndefined();
    }
  });

  it('adds a display when its column has text', async () => {
    const elements = { ...base, subject: subjectOf('pid', 'nombre') };
    expect(
      (await build('Encounter', elements, { pid: 'a-1.b', nombre: ' ANA ' }))['subject'],
    ).toEqual({ reference: 'Patient/a-1.b', display: 'ANA' });
    expect((await build('Encounter', elements, { pid: 3, nombre: null }))['subject']).toEqual({
      reference: 'Patient/3',
    });
  });

  it('writes references into array items and child rows', async () => {
    const out = await build(
      'Encounter',
      {
        ...base,
        'participant[0].individual': { reference: { type: 'Practitioner', column: 'medico' } },
        participant: {
          rows: { table: 'equipo', key: 'eid' },
          elements: {
            'type[0].text': 'rol',
            individual: { reference: { type: 'Practitioner', column: 'mid', display: 'nombre' } },
          },
        },
      },
      { medico: 'M1' },
      {
        equipo: [
          { eid: 'r1', mid: 'M2', nombre: 'PEDRO', rol: 'ANESTESISTA' },
          { eid: 'r1', mid: null, nombre: 'NADIE', rol: null },
        ],
      },
    );
    expect(out['participant']).toEqual([
      { individual: { reference: 'Practitioner/M1' } },
      {
        type: [{ text: 'ANESTESISTA' }],
        individual: { reference: 'Practitioner/M2', display: 'PEDRO' },
      },
    ]);
  });

  it('feeds choice elements and single references', async () => {
    const out = await build(
      'MedicationRequest',
      {
        status: { constant: 'active' },
        intent: { constant: 'order' },
        medicationReference: { reference: { type: 'Medication', column: 'med' } },
        subject: subjectOf(),
        performer: { reference: { type: 'Practitioner', column: 'mid' } },
      },
      { med: 'paracetamol-500', pid: 1, mid: 'M1' },
    );
    expect(out).toMatchObject({
      medicationReference: { reference: 'Medication/paracetamol-500' },
      subject: { reference: 'Patient/1' },
    });
    // MedicationRequest.performer is 0..1 in R4: no index.
    expect(out['performer']).toEqual({ reference: 'Practitioner/M1' });
  });

  it('lists its columns as reference and display uses', () => {
    const result = compile({
      Encounter: {
        table: 'atenciones',
        id: 'id',
        elements: { subject: subjectOf('pid', 'nombre') },
      },
    });
    if (!result.ok) {
      throw new Error('expected ok');
    }
    expect(result.mapping.resource('Encounter')?.columnUses.slice(1)).toEqual([
      {
        table: 'atenciones',
        column: 'pid',
        resource: 'Encounter',
        path: 'subject.reference',
        fhirType: 'id',
        transforms: [],
      },
      {
        table: 'atenciones',
        column: 'nombre',
        resource: 'Encounter',
        path: 'subject.display',
        fhirType: 'string',
        transforms: [],
      },
    ]);
  });
});

describe('reference compile problems', () => {
  const encounter = (elements: Record<string, unknown>, search?: Record<string, unknown>) => ({
    Encounter: { table: 'a', id: 'id', elements, ...(search === undefined ? {} : { search }) },
  });

  it('refuses a target the element does not allow', () => {
    expect(
      problemsOf(encounter({ subject: { reference: { type: 'Practitioner', column: 'x' } } })),
    ).toEqual([
      {
        resource: 'Encounter',
        path: 'subject',
        column: 'x',
        message: 'subject cannot refer to Practitioner; allowed targets: Patient, Group',
      },
    ]);
  });

  it('refuses a reference on an element that is not a Reference', () => {
    const problems = problemsOf(
      encounter({
        status: { reference: { type: 'Patient', column: 'x' } },
        period: { reference: { type: 'Patient', column: 'y' } },
        'participant[0].individual.reference': { reference: { type: 'Patient', column: 'z' } },
      }),
    );
    expect(problems.map((p) => p.message)).toEqual([
      'a reference source feeds a Reference element; status is a code',
      'a reference source feeds a Reference element; period is a Period',
      'a reference source feeds a Reference element; participant[0].individual.reference is a string',
    ]);
  });

  it('needs an index on reference arrays', () => {
    const problems = problemsOf(
      encounter({ reasonReference: { reference: { type: 'Condition', column: 'x' } } }),
    );
    expect(problems[0]?.message).toContain('needs an index');
  });

  it('refuses mapping the parts a reference writes', () => {
    const problems = problemsOf(
      encounter({
        subject: subjectOf(),
        'subject.display': 'nombre',
        'subject.reference': { template: 'Patient/{pid}' },
      }),
    );
    expect(problems.map((p) => p.path)).toEqual(['subject.reference', 'subject.display']);
    expect(problems[0]?.message).toBe(
      'subject is filled by a reference, which also writes reference',
    );
  });

  it('rejects bad shapes in the schema: type, column, extra keys', () => {
    const problems = problemsOf(
      encounter({
        subject: { reference: { type: 'patient', column: 'x' } },
        'participant[0].individual': { reference: { type: 'Practitioner', column: 'a-b' } },
        'reasonReference[0]': { reference: { type: 'Condition', column: 'x', sql: '1' } },
        serviceProvider: { reference: { type: 'Organization', column: 'x' }, transform: ['trim'] },
      }),
    );
    expect(problems.map((p) => p.path)).toEqual([
      'subject',
      'participant[0].individual',
      'reasonReference[0]',
      'serviceProvider',
    ]);
    expect(problems[0]?.message).toContain('a resource type looks like Patient');
    expect(problems[1]?.message).toContain('plain SQL identifier');
    expect(problems[2]?.message).toContain('"sql"');
    expect(problems[3]?.message).toBe('unknown key(s) "transform"');
  });

  it('infers the target of a multi-target search parameter from the reference element', () => {
    const result = compile(
      encounter(
        { subject: subjectOf('pid') },
        { subject: { column: 'pid' }, patient: { column: 'pid' } },
      ),
    );
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect([...result.mapping.resource('Encounter')!.referenceParams]).toEqual([
        ['subject', ['Patient']],
        ['patient', ['Patient']],
      ]);
    }
    const problems = problemsOf(encounter({}, { subject: { column: 'other' } }));
    expect(problems).toEqual([
      {
        resource: 'Encounter',
        path: 'search.subject',
        column: 'other',
        message: 'subject can refer to Group, Patient; say which type the column holds with "type"',
      },
    ]);
  });

  it('checks reference search options', () => {
    const problems = problemsOf(
      encounter(
        {},
        {
          patient: { column: 'pid', system: 'x' },
          subject: { rows: 'participant', column: 'pid', type: 'Patient' },
          'service-provider': { column: 'org', type: 'Organization', match: 'word' },
        },
      ),
    );
    expect(problems.map((p) => [p.path, p.message])).toEqual([
      ['search.patient', 'match, system and map do not apply to reference parameters'],
      ['search.subject', 'a reference parameter reads exactly one column of the row: write column'],
      ['search.service-provider', 'match, system and map do not apply to reference parameters'],
    ]);
  });
});

describe('parseReferenceValue', () => {
  it('accepts Type/id and bare ids, nothing else', () => {
    expect(parseReferenceValue('Patient/12', 'Patient')).toBe('12');
    expect(parseReferenceValue(' 12 ', 'Patient')).toBe('12');
    expect(parseReferenceValue('Group/12', 'Patient')).toBeUndefined();
    expect(parseReferenceValue('patient/12', 'Patient')).toBeUndefined();
    expect(parseReferenceValue('Patient/12/_history/1', 'Patient')).toBeUndefined();
    expect(parseReferenceValue('https://x.org/fhir/Patient/12', 'Patient')).toBeUndefined();
    // The id itself is checked by the id rules of the target, later.
    expect(parseReferenceValue('Patient/1 OR 1=1', 'Patient')).toBe('1 OR 1=1');
  });
});
