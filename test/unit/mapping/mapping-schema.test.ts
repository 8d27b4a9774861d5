import { describe, expect, it } from 'vitest';
import { MYSQL_DIALECT, SQLITE_DIALECT } from '../../../src/db/dialect.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { type CompileResult, compileMapping } from '../../../src/mapping/compile-mapping.js';
import type { MappingProblem } from '../../../src/mapping/mapping-problem.js';
import { MappingDocumentSchema, mappingJsonSchema } from '../../../src/mapping/mapping-schema.js';
import { readFixtureMapping } from './sqlite-fixtures.js';

const defs = loadDefinitions();

/** The example of the format's specification, verbatim. */
const SPEC_EXAMPLE = {
  formatVersion: 1,
  resources: {
    Patient: {
      table: 'pacientes',
      id: { column: 'id_paciente', type: 'integer' },
      where: [{ column: 'voided', op: 'eq', value: 0 }],
      elements: {
        'identifier[0].system': { constant: 'urn:oid:2.16.152.1.1.1' },
        'identifier[0].value': { column: 'rut_pac', transform: ['trim'] },
        'name[0].use': { constant: 'official' },
        'name[0].family': { column: 'ap_pat_pac', transform: ['trim'] },
        'name[0].given[0]': 'nom_pac',
        'name[0].text': { template: '{nom_pac} {ap_pat_pac} {ap_mat_pac}' },
        gender: {
          column: 'sexo_pac',
          transform: [{ fn: 'valueMap', map: { M: 'male', F: 'female' }, default: 'unknown' }],
        },
        birthDate: {
          column: 'fec_nac_pac',
          transform: [{ fn: 'date', formats: ['YYYY-MM-DD', 'DD/MM/YYYY'] }],
        },
        active: { column: 'usr_activo', transform: ['boolean'] },
        telecom: {
          rows: {
            table: 'telefonos',
            key: 'paciente_id',
            where: [{ column: 'borrado', op: 'eq', value: 0 }],
            orderBy: [{ column: 'orden' }],
          },
          elements: { system: { constant: 'phone' }, value: 'numero' },
        },
      },
      search: {
        family: { columns: ['ap_pat_pac', 'ap_mat_pac'] },
        given: { columns: ['nom_pac'] },
        name: { columns: ['nom_pac', 'ap_pat_pac', 'ap_mat_pac'] },
        gender: { column: 'sexo_pac', map: { male: ['M'], female: ['F'] } },
        birthdate: { column: 'fec_nac_pac' },
        identifier: { column: 'rut_pac', system: 'urn:oid:2.16.152.1.1.1' },
        telecom: { rows: 'telecom', columns: ['numero'] },
      },
    },
  },
};

type Patch = (patient: Record<string, unknown>) => void;

/** The spec example with one change to its Patient mapping. */
function variant(patch: Patch): Record<string, unknown> {
  const doc = structuredClone(SPEC_EXAMPLE) as unknown as {
    resources: { Patient: Record<string, unknown> };
  };
  patch(doc.resources.Patient);
  return doc as unknown as Record<string, unknown>;
}

function elementsOf(patient: Record<string, unknown>): Record<string, unknown> {
  return patient['elements'] as Record<string, unknown>;
}

function compile(document: unknown): CompileResult {
  return compileMapping(document, { defs, dialect: SQLITE_DIALECT });
}

function problemsOf(document: unknown): readonly MappingProblem[] {
  const result = compile(document);
  if (result.ok) {
    throw new Error('expected the mapping to be rejected');
  }
  return result.problems;
}

describe('valid documents', () => {
  it('compiles the specification example', () => {
    const result = compile(SPEC_EXAMPLE);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.mapping.resourceTypes).toEqual(['Patient']);
      expect([...(result.mapping.resource('Patient')?.searchParams ?? [])].sort()).toEqual([
        '_id',
        'birthdate',
        'family',
        'gender',
        'given',
        'identifier',
        'name',
        'telecom',
      ]);
      expect(result.mapping.resource('Observation')).toBeUndefined();
    }
  });

  it.each(['hospital-a', 'hospital-b'] as const)(
    'compiles the %s fixture for both dialects',
    (name) => {
      for (const dialect of [SQLITE_DIALECT, MYSQL_DIALECT]) {
        const result = compileMapping(readFixtureMapping(name), { defs, dialect });
        expect(result.ok ? [] : result.problems).toEqual([]);
      }
    },
  );

  it('exposes the tables and columns a mapping reads, for the live-database checker', () => {
    const result = compile(SPEC_EXAMPLE);
    if (!result.ok) {
      throw new Error('expected ok');
    }
    const tables = result.mapping.resource('Patient')?.tables;
    expect([...(tables?.get('pacientes') ?? [])].sort()).toEqual(
      [
        'ap_mat_pac',
        'ap_pat_pac',
        'fec_nac_pac',
        'id_paciente',
        'nom_pac',
        'rut_pac',
        'sexo_pac',
        'usr_activo',
        'voided',
      ].sort(),
    );
    expect([...(tables?.get('telefonos') ?? [])].sort()).toEqual([
      'borrado',
      'numero',
      'orden',
      'paciente_id',
    ]);
  });

  it('exports a JSON Schema of the input form, shorthands included', () => {
    const schema = mappingJsonSchema();
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    const text = JSON.stringify(schema);
    expect(text).toContain('^[A-Za-z_][A-Za-z0-9_]{0,63}$');
    expect(text).toContain('"additionalProperties":false');
    expect(text).toContain('splitName');
  });
});

describe('identifier injection (D53)', () => {
  const hostile = ['name` FROM patients; --', 'patients.ssn', 'otherdb.patients'];

  it.each(hostile)(
    'rejects %j as a table, id, column, filter column, child table and key',
    (bad) => {
      const places: [string, Patch, Partial<MappingProblem>][] = [
        [
          'table',
          (p) => {
            p['table'] = bad;
          },
          { path: 'table' },
        ],
        [
          'id',
          (p) => {
            p['id'] = { column: bad, type: 'integer' };
          },
          { path: 'id.column', column: bad },
        ],
        [
          'id shorthand',
          (p) => {
            p['id'] = bad;
          },
          { path: 'id', column: bad },
        ],
        [
          'element',
          (p) => {
            elementsOf(p)['gender'] = { column: bad };
          },
          { path: 'gender', column: bad },
        ],
        [
          'element shorthand',
          (p) => {
            elementsOf(p)['name[0].given[0]'] = bad;
          },
          { path: 'name[0].given[0]', column: bad },
        ],
        [
          'where',
          (p) => {
            p['where'] = [{ column: bad, op: 'eq', value: 0 }];
          },
          { path: 'where[0].column', column: bad },
        ],
        [
          'child table',
          (p) => {
            (elementsOf(p)['telecom'] as { rows: Record<string, unknown> }).rows['table'] = bad;
          },
          { path: 'telecom' },
        ],
        [
          'child key',
          (p) => {
            (elementsOf(p)['telecom'] as { rows: Record<string, unknown> }).rows['key'] = bad;
          },
          { path: 'telecom', column: bad },
        ],
        [
          'child element',
          (p) => {
            (elementsOf(p)['telecom'] as { elements: Record<string, unknown> }).elements['value'] =
              bad;
          },
          { path: 'telecom.value', column: bad },
        ],
        [
          'orderBy',
          (p) => {
            (elementsOf(p)['telecom'] as { rows: Record<string, unknown> }).rows['orderBy'] = [
              { column: bad },
            ];
          },
          { path: 'telecom', column: bad },
        ],
        [
          'search column',
          (p) => {
            (p['search'] as Record<string, unknown>)['family'] = { columns: [bad] };
          },
          { path: 'search.family', column: bad },
        ],
      ];
      for (const [label, patch, expected] of places) {
        const problems = problemsOf(variant(patch));
        expect(problems, label).toHaveLength(1);
        const [problem] = problems;
        expect(problem?.resource, label).toBe('Patient');
        expect(problem?.path?.startsWith(expected.path ?? ''), label).toBe(true);
        if ('column' in expected && expected.column !== undefined) {
          expect(problem?.column, label).toBe(expected.column);
        }
        // Where a column reference is allowed, "a.b" is read as column b of a join named a,
        // which the mapping does not declare: still refused, at compile time.
        expect(problem?.message, label).toMatch(/plain SQL identifier|names no join/);
      }
    },
  );

  it('rejects an identifier longer than 64 characters', () => {
    const problems = problemsOf(
      variant((p) => {
        p['table'] = 'x'.repeat(65);
      }),
    );
    expect(problems[0]?.path).toBe('table');
  });

  it('rejects a template placeholder that is not an identifier', () => {
    const problems = problemsOf(
      variant((p) => {
        elementsOf(p)['name[0].text'] = { template: '{nom_pac} {1 OR 1=1}' };
      }),
    );
    expect(problems).toEqual([
      expect.objectContaining({
        resource: 'Patient',
        path: 'name[0].text',
        message: expect.stringContaining('placeholder'),
      }),
    ]);
  });
});

describe('no SQL text anywhere', () => {
  const attempts: [string, Patch][] = [
    [
      'raw where',
      (p) => {
        p['where'] = [{ sql: 'voided = 0 OR 1=1' }];
      },
    ],
    [
      'where with extra sql',
      (p) => {
        p['where'] = [{ column: 'voided', op: 'eq', value: 0, sql: 'OR 1=1' }];
      },
    ],
    [
      'raw filter op',
      (p) => {
        p['where'] = [{ column: 'voided', op: 'raw', value: '1=1' }];
      },
    ],
    [
      'like op',
      (p) => {
        p['where'] = [{ column: 'voided', op: 'like', value: '%' }];
      },
    ],
    [
      'expression element',
      (p) => {
        elementsOf(p)['gender'] = { sql: "CASE WHEN sexo='M' THEN 'male' END" };
      },
    ],
    [
      'subquery table',
      (p) => {
        p['table'] = '(SELECT * FROM pacientes)';
      },
    ],
    [
      'query key on the resource',
      (p) => {
        p['query'] = 'SELECT * FROM pacientes';
      },
    ],
    [
      'id expression',
      (p) => {
        p['id'] = { column: 'id_paciente', expression: 'id + 1' };
      },
    ],
    [
      'search sql',
      (p) => {
        (p['search'] as Record<string, unknown>)['family'] = { sql: 'ap_pat_pac LIKE ?' };
      },
    ],
    [
      'orderBy direction',
      (p) => {
        (elementsOf(p)['telecom'] as { rows: Record<string, unknown> }).rows['orderBy'] = [
          { column: 'orden', direction: 'desc; DROP TABLE x' },
        ];
      },
    ],
    [
      'value list for eq',
      (p) => {
        p['where'] = [{ column: 'voided', op: 'eq', value: [0, 1] }];
      },
    ],
    [
      'value for isNull',
      (p) => {
        p['where'] = [{ column: 'voided', op: 'isNull', value: 'x' }];
      },
    ],
  ];

  it.each(attempts)('rejects %s', (_label, patch) => {
    const problems = problemsOf(variant(patch));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.resource === 'Patient')).toBe(true);
  });

  it('names the unknown key', () => {
    const problems = problemsOf(
      variant((p) => {
        p['query'] = 'SELECT 1';
      }),
    );
    expect(problems).toEqual([{ resource: 'Patient', message: 'unknown key(s) "query"' }]);
  });

  it('rejects an unknown top-level key and a wrong format version', () => {
    const problems = problemsOf({ ...SPEC_EXAMPLE, formatVersion: 3, extra: true });
    expect(problems.map((p) => p.path ?? '')).toEqual(expect.arrayContaining(['formatVersion']));
    expect(problems.some((p) => p.message.includes('"extra"'))).toBe(true);
  });

  it('names a bad filter op with the column', () => {
    const problems = problemsOf(
      variant((p) => {
        p['where'] = [{ column: 'voided', op: 'like', value: 0 }];
      }),
    );
    expect(problems).toEqual([
      {
        resource: 'Patient',
        path: 'where[0].op',
        column: 'voided',
        message: expect.stringContaining('unknown filter op'),
      },
    ]);
  });
});

describe('transforms in the schema', () => {
  it('rejects an unknown transform name, bare or as fn', () => {
    const problems = problemsOf(
      variant((p) => {
        elementsOf(p)['gender'] = { column: 'sexo_pac', transform: ['soundex'] };
        elementsOf(p)['birthDate'] = {
          column: 'fec_nac_pac',
          transform: [{ fn: 'eval', code: 'x' }],
        };
      }),
    );
    expect(problems).toEqual([
      {
        resource: 'Patient',
        path: 'gender',
        column: 'sexo_pac',
        message: expect.stringContaining('unknown transform "soundex"'),
      },
      {
        resource: 'Patient',
        path: 'birthDate',
        column: 'fec_nac_pac',
        message: expect.stringContaining('unknown transform "eval"'),
      },
    ]);
  });

  it('asks for options when a transform needs them', () => {
    const problems = problemsOf(
      variant((p) => {
        elementsOf(p)['gender'] = { column: 'sexo_pac', transform: ['valueMap'] };
      }),
    );
    expect(problems[0]?.message).toContain('needs options');
  });

  it('rejects unknown transform options, bad date formats and bad timezones', () => {
    const problems = problemsOf(
      variant((p) => {
        elementsOf(p)['gender'] = { column: 'sexo_pac', transform: [{ fn: 'trim', side: 'left' }] };
        elementsOf(p)['birthDate'] = {
          column: 'fec_nac_pac',
          transform: [{ fn: 'date', formats: ['YYYY-DD'] }],
        };
        elementsOf(p)['deceasedDateTime'] = {
          column: 'fec_def',
          transform: [{ fn: 'dateTime', timezone: 'America/Santiago' }],
        };
        elementsOf(p)['active'] = {
          column: 'usr_activo',
          transform: [{ fn: 'splitName', familyCount: 3 }],
        };
      }),
    );
    expect(problems.map((p) => p.path)).toEqual([
      'gender',
      'birthDate',
      'active',
      'deceasedDateTime',
    ]);
    expect(problems[0]?.message).toContain('"side"');
    expect(problems[1]?.message).toContain('DD needs MM');
    expect(problems[2]?.message).toContain('expected one of 1|2');
    expect(problems[3]?.message).toContain('timezone');
  });
});

describe('element sources', () => {
  it('explains an element with no or several sources', () => {
    const problems = problemsOf(
      variant((p) => {
        elementsOf(p)['gender'] = { colum: 'sexo_pac' };
        elementsOf(p)['active'] = { column: 'usr_activo', constant: true };
        elementsOf(p)['name[0].use'] = { constant: 'official', transform: ['trim'] };
      }),
    );
    // Problems follow the document's key order.
    expect(problems.map((p) => p.path)).toEqual(['name[0].use', 'gender', 'active']);
    expect(problems[0]?.message).toContain('"transform"');
    expect(problems[1]?.message).toContain('"colum"');
    expect(problems[2]?.message).toContain(
      'exactly one of column, constant, template, reference, when, rows, delimited or json',
    );
  });

  it('does not nest rows inside rows', () => {
    const problems = problemsOf(
      variant((p) => {
        (elementsOf(p)['telecom'] as { elements: Record<string, unknown> }).elements['period'] = {
          rows: { table: 'x', key: 'y' },
          elements: { start: 'z' },
        };
      }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('telecom.period');
    expect(problems[0]?.message).toBe('rows cannot be nested inside rows, delimited or json');
  });

  it('rejects malformed element paths', () => {
    const problems = problemsOf(
      variant((p) => {
        elementsOf(p)['name[0]..family'] = 'x';
      }),
    );
    expect(problems[0]).toMatchObject({ resource: 'Patient', path: 'name[0]..family' });
  });
});

describe('checks against the FHIR definitions', () => {
  const cases: [string, Patch, Partial<MappingProblem>, string][] = [
    [
      'unknown element',
      (p) => {
        elementsOf(p)['name[0].surname'] = 'x';
      },
      { path: 'name[0].surname', column: 'x' },
      'no element "surname"',
    ],
    [
      'index on a single element',
      (p) => {
        elementsOf(p)['gender[0]'] = 'x';
      },
      { path: 'gender[0]' },
      'not an array',
    ],
    [
      'array without index in the middle',
      (p) => {
        elementsOf(p)['name.family'] = 'x';
      },
      { path: 'name.family' },
      'needs an index',
    ],
    [
      'complex leaf',
      (p) => {
        elementsOf(p)['maritalStatus'] = 'x';
      },
      { path: 'maritalStatus' },
      'complex type',
    ],
    [
      'HumanName without splitName',
      (p) => {
        elementsOf(p)['name[1]'] = 'x';
      },
      { path: 'name[1]' },
      'splitName',
    ],
    [
      'splitName into a string',
      (p) => {
        elementsOf(p)['name[0].family'] = { column: 'x', transform: ['splitName'] };
      },
      { path: 'name[0].family' },
      'HumanName',
    ],
    [
      'splitName not last',
      (p) => {
        elementsOf(p)['name[1]'] = { column: 'x', transform: ['splitName', 'trim'] };
      },
      { path: 'name[1]' },
      'last transform',
    ],
    [
      'boolean into a date',
      (p) => {
        elementsOf(p)['birthDate'] = { column: 'x', transform: ['boolean'] };
      },
      { path: 'birthDate', column: 'x' },
      'does not fit a date',
    ],
    [
      'number into a code',
      (p) => {
        elementsOf(p)['gender'] = { column: 'x', transform: ['number'] };
      },
      { path: 'gender' },
      'does not fit a code',
    ],
    [
      'constant of the wrong type',
      (p) => {
        elementsOf(p)['active'] = { constant: 'ZZSECRET' };
      },
      { path: 'active' },
      'constant does not fit',
    ],
    [
      'the id element',
      (p) => {
        elementsOf(p)['id'] = 'x';
      },
      { path: 'id' },
      'the gateway writes it',
    ],
    [
      'a part of meta other than versionId and lastUpdated',
      (p) => {
        elementsOf(p)['meta.source'] = 'x';
      },
      { path: 'meta.source' },
      'only meta.versionId and meta.lastUpdated',
    ],
    [
      'a choice by its [x] name',
      (p) => {
        elementsOf(p)['deceased'] = 'x';
      },
      { path: 'deceased' },
      'no element "deceased"',
    ],
    [
      'two variants of a choice',
      (p) => {
        elementsOf(p)['deceasedBoolean'] = 'x';
        elementsOf(p)['deceasedDateTime'] = 'y';
      },
      { path: 'deceasedDateTime' },
      'only one variant',
    ],
    [
      'the same element twice',
      (p) => {
        elementsOf(p)['name[0].given'] = 'x';
      },
      { path: 'name[0].given[0]' },
      'mapped twice',
    ],
    [
      'rows on a single element',
      (p) => {
        elementsOf(p)['maritalStatus'] = {
          rows: { table: 'a', key: 'b' },
          elements: { text: 'c' },
        };
      },
      { path: 'maritalStatus' },
      'array element',
    ],
    [
      'rows with an index',
      (p) => {
        elementsOf(p)['address[0]'] = { rows: { table: 'a', key: 'b' }, elements: { city: 'c' } };
      },
      { path: 'address[0]' },
      'without an index',
    ],
    [
      'rows over primitives',
      (p) => {
        elementsOf(p)['name[1].given'] = { rows: { table: 'a', key: 'b' }, elements: { id: 'c' } };
      },
      { path: 'name[1].given' },
      'complex type',
    ],
    [
      'unknown child element',
      (p) => {
        (elementsOf(p)['telecom'] as { elements: Record<string, unknown> }).elements['number'] =
          'numero';
      },
      { path: 'telecom.number', column: 'numero' },
      'ContactPoint has no element "number"',
    ],
    [
      'unknown search code',
      (p) => {
        (p['search'] as Record<string, unknown>)['surname'] = { column: 'x' };
      },
      { path: 'search.surname' },
      'no search parameter "surname"',
    ],
    [
      'reference search with several targets and no type',
      (p) => {
        (p['search'] as Record<string, unknown>)['general-practitioner'] = { column: 'x' };
      },
      { path: 'search.general-practitioner', column: 'x' },
      'say which type the column holds with "type"',
    ],
    [
      'reference search to a type that is not a target',
      (p) => {
        (p['search'] as Record<string, unknown>)['organization'] = { column: 'x', type: 'Group' };
      },
      { path: 'search.organization', column: 'x' },
      'organization cannot refer to Group; allowed targets: Organization',
    ],
    [
      'reference search over several columns',
      (p) => {
        (p['search'] as Record<string, unknown>)['organization'] = { columns: ['x', 'y'] };
      },
      { path: 'search.organization' },
      'exactly one column of the row',
    ],
    [
      'type on a string search',
      (p) => {
        (p['search'] as Record<string, unknown>)['family'] = { column: 'x', type: 'Patient' };
      },
      { path: 'search.family' },
      'type applies only to reference parameters',
    ],
    [
      'system on a string search',
      (p) => {
        (p['search'] as Record<string, unknown>)['family'] = { column: 'x', system: 'y' };
      },
      { path: 'search.family' },
      'only to token',
    ],
    [
      'match on a token search',
      (p) => {
        (p['search'] as Record<string, unknown>)['gender'] = { column: 'x', match: 'word' };
      },
      { path: 'search.gender' },
      'only to string',
    ],
    [
      'column and columns',
      (p) => {
        (p['search'] as Record<string, unknown>)['family'] = { column: 'x', columns: ['y'] };
      },
      { path: 'search.family' },
      'exactly one of column or columns',
    ],
    [
      'no column',
      (p) => {
        (p['search'] as Record<string, unknown>)['family'] = {};
      },
      { path: 'search.family' },
      'exactly one of column or columns',
    ],
    [
      'rows that is not a rows element',
      (p) => {
        (p['search'] as Record<string, unknown>)['telecom'] = { rows: 'address', column: 'x' };
      },
      { path: 'search.telecom' },
      'rows element',
    ],
    [
      '_id with options',
      (p) => {
        (p['search'] as Record<string, unknown>)['_id'] = { column: 'x' };
      },
      { path: 'search._id' },
      'takes no options',
    ],
  ];

  it.each(cases)('rejects %s', (_label, patch, expected, message) => {
    const problems = problemsOf(variant(patch));
    expect(problems).toEqual([expect.objectContaining({ resource: 'Patient', ...expected })]);
    expect(problems[0]?.message).toContain(message);
  });

  it('rejects mapping the parts of a name that splitName fills', () => {
    const problems = problemsOf(
      variant((p) => {
        elementsOf(p)['name[0]'] = { column: 'x', transform: ['splitName'] };
      }),
    );
    expect(problems.map((p) => p.path)).toEqual([
      'name[0].family',
      'name[0].given',
      'name[0].text',
    ]);
    expect(problems[0]?.message).toBe('name[0] is filled by splitName, which also writes family');
  });

  it('never puts a constant or other data value into a message', () => {
    const problems = problemsOf(
      variant((p) => {
        elementsOf(p)['active'] = { constant: 'ZZSECRET' };
      }),
    );
    expect(JSON.stringify(problems)).not.toContain('ZZSECRET');
  });

  it('rejects resource types the definitions do not cover', () => {
    const doc = {
      formatVersion: 1,
      resources: {
        Account: SPEC_EXAMPLE.resources.Patient,
        Pokemon: SPEC_EXAMPLE.resources.Patient,
      },
    };
    expect(problemsOf(doc)).toEqual([
      { resource: 'Account', message: 'Account is not a resource type this gateway serves' },
      { resource: 'Pokemon', message: 'Pokemon is not a resource type this gateway serves' },
    ]);
  });

  it('reports every problem of every resource in one round', () => {
    const doc = {
      formatVersion: 1,
      resources: {
        Patient: { ...SPEC_EXAMPLE.resources.Patient, table: 'a.b' },
        Practitioner: {
          table: 'medicos',
          id: 'rut',
          elements: { 'name[0].family': 'apellido', 'name[0].nickname': 'apodo' },
          search: { family: { column: 'apellido' }, 'shoe-size': { column: 'talla' } },
        },
      },
    };
    const problems = problemsOf(doc);
    expect(problems).toEqual([
      expect.objectContaining({ resource: 'Patient', path: 'table' }),
      expect.objectContaining({
        resource: 'Practitioner',
        path: 'name[0].nickname',
        column: 'apodo',
      }),
      expect.objectContaining({ resource: 'Practitioner', path: 'search.shoe-size' }),
    ]);
  });

  it('parses the document with the exported zod schema too', () => {
    expect(MappingDocumentSchema.safeParse(SPEC_EXAMPLE).success).toBe(true);
    expect(MappingDocumentSchema.safeParse(readFixtureMapping('hospital-b')).success).toBe(true);
  });
});
