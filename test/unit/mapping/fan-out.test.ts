import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  MYSQL_DIALECT,
  type QueryExecutor,
  SQLITE_DIALECT,
  type SqlStatement,
} from '../../../src/db/dialect.js';
import { renderExpr } from '../../../src/db/render-statement.js';
import { column } from '../../../src/db/statement.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { type CompileResult, compileMapping } from '../../../src/mapping/compile-mapping.js';
import { compileSkip, createFanOutIds, fanOutKeyProblems } from '../../../src/mapping/fan-out.js';
import { assertValidR4 } from './fhir-validation.js';
import { createRecordingExecutor } from './sqlite-fixtures.js';

const defs = loadDefinitions();

/** A vitals mapping with two items; `patch` changes the Observation mapping. */
function vitals(patch: (m: Record<string, unknown>) => void = () => {}): Record<string, unknown> {
  const observation: Record<string, unknown> = {
    table: 'vitales',
    id: { column: 'id', type: 'integer' },
    elements: {
      status: { constant: 'final' },
      subject: { reference: { type: 'Patient', column: 'pid' } },
    },
    fanOut: [
      {
        key: 'talla',
        skipColumn: 'talla',
        elements: {
          'code.coding[0].system': { constant: 'http://loinc.org' },
          'code.coding[0].code': { constant: '8302-2' },
          'valueQuantity.value': 'talla',
        },
      },
      {
        key: 'nota',
        elements: { 'code.text': { constant: 'Nota' }, valueString: 'nota' },
      },
    ],
    search: { patient: { column: 'pid' }, code: { fanOutKey: true } },
  };
  patch(observation);
  return { formatVersion: 1, resources: { Observation: observation } };
}

function compile(document: unknown, dialect = SQLITE_DIALECT): CompileResult {
  return compileMapping(document, { defs, dialect });
}

function problemsOf(document: unknown): string[] {
  const result = compile(document);
  return result.ok ? [] : result.problems.map((p) => `${p.path ?? ''}: ${p.message}`);
}

const items = (m: Record<string, unknown>) => m['fanOut'] as Record<string, unknown>[];

describe('fan-out ids', () => {
  it('formats and parses <row>-<key>, LOINC dashes and row dashes included', () => {
    const ids = createFanOutIds(['8302-2', '29463-7', 'x.1']);
    expect(ids.formatId('12', 0)).toBe('12-8302-2');
    expect(ids.parseId('12-8302-2')).toEqual({ row: '12', item: 0 });
    expect(ids.parseId('abc-1-29463-7')).toEqual({ row: 'abc-1', item: 1 });
    expect(ids.parseId('7-x.1')).toEqual({ row: '7', item: 2 });
    for (const bad of ['12', '12-', '-8302-2', '12-8302', '12-x1', '12-X.1']) {
      expect(ids.parseId(bad), bad).toBeUndefined();
    }
  });

  it('refuses duplicate keys and keys that end another key', () => {
    expect(fanOutKeyProblems(['8302-2', '2', 'a', 'a'])).toEqual([
      'fan-out key 2 ends key 8302-2, so some ids would be ambiguous',
      'fan-out key a is used twice',
    ]);
    expect(fanOutKeyProblems(['8302-2', '302-2', '8302'])).toEqual([]);
  });
});

describe('skip rules', () => {
  /** The skip rule over column `v` of alias `t`, rendered for SQLite. */
  function skipOf(item: { skipWhen?: (string | number | null)[] }) {
    const { present } = compileSkip(item, {
      expr: column('t', 'v'),
      key: 'v',
      table: 't',
      column: 'v',
    });
    return { present: present === undefined ? undefined : renderExpr(SQLITE_DIALECT, present) };
  }

  /** The ids of `t` whose row has the item, by `present` evaluated in SQLite. */
  function presentIds(
    present: { sql: string; params: readonly unknown[] } | undefined,
    rows: readonly (readonly unknown[])[],
    type: string,
  ): number[] {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE t (id INTEGER, v ${type})`);
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    for (const row of rows) {
      insert.run(...row);
    }
    const flags = db
      .prepare(
        `SELECT id, CASE WHEN ${present?.sql} THEN 1 ELSE 0 END AS p FROM t AS t ORDER BY id`,
      )
      .all(...(present?.params ?? [])) as { id: number; p: number }[];
    db.close();
    return flags.filter((f) => f.p === 1).map((f) => f.id);
  }

  it('skips NULL, 0 and empty by default, with the database comparing', () => {
    const { present } = skipOf({});
    expect(present).toEqual({
      sql: 'NOT (t."v" IS NULL OR t."v" = ? OR t."v" = ?)',
      params: [0, ''],
    });
    // A REAL column: 0 and 0.0 are 0; '' stays text and equals ''.
    const real = [
      [1, null],
      [2, 0],
      [3, 0.0],
      [4, ''],
      [5, 1],
      [6, -0.1],
      [7, 165.5],
    ];
    expect(presentIds(present, real, 'REAL')).toEqual([5, 6, 7]);
    // A TEXT column: SQLite compares the bound number as text, and better-sqlite3 binds 0 as
    // REAL, so it is '0.0': text '0.0' is skipped, while '0', ' ' and 'n/m' are values here
    // (MariaDB would find '0' = 0, 'n/m' = 0 and ' ' = '' instead: the database decides).
    const text = [
      [1, null],
      [2, '0'],
      [3, ''],
      [4, '0.0'],
      [5, ' '],
      [6, 'n/m'],
      [7, '165'],
    ];
    expect(presentIds(present, text, 'TEXT')).toEqual([2, 5, 6, 7]);
  });

  it('keeps NULL rows when NULL is not a skip value, never evaluating to NULL', () => {
    const rule = skipOf({ skipWhen: [-1] });
    expect(rule.present).toEqual({ sql: 't."v" IS NULL OR NOT (t."v" = ?)', params: [-1] });
    // In a WHERE and as a CASE flag alike: NOT (NULL = -1) alone would be NULL and drop row 1.
    expect(
      presentIds(
        rule.present,
        [
          [1, null],
          [2, -1],
          [3, 5],
        ],
        'INTEGER',
      ),
    ).toEqual([1, 3]);
    const db = new Database(':memory:');
    db.exec(
      'CREATE TABLE t (id INTEGER, v INTEGER); INSERT INTO t VALUES (1, NULL), (2, -1), (3, 5);',
    );
    const rows = db.prepare(`SELECT id FROM t AS t WHERE ${rule.present?.sql} ORDER BY id`).all(-1);
    expect(rows).toEqual([{ id: 1 }, { id: 3 }]);
    db.close();
    const onlyNull = skipOf({ skipWhen: [null] });
    expect(onlyNull.present).toEqual({ sql: 't."v" IS NOT NULL', params: [] });
    expect(
      presentIds(
        onlyNull.present,
        [
          [1, null],
          [2, 0],
          [3, ''],
        ],
        'TEXT',
      ),
    ).toEqual([2, 3]);
  });

  it('has no rule without a skip column', () => {
    const rule = compileSkip({}, undefined);
    expect(rule.present).toBeUndefined();
  });
});

describe('fan-out compile problems', () => {
  it('compiles the example, listing skip columns and item paths', () => {
    const result = compile(vitals());
    expect(result.ok).toBe(true);
    if (result.ok) {
      const uses = result.mapping.resource('Observation')!.columnUses;
      expect(uses.map((u) => `${u.column} ${u.path} ${u.fhirType ?? '-'}`)).toEqual([
        'id id id',
        'pid subject.reference id',
        'talla valueQuantity.value decimal',
        'talla fanOut:talla -',
        'nota valueString string',
        'pid search:patient -',
      ]);
    }
  });

  it('checks keys, skipWhen and item elements against the shared ones', () => {
    expect(
      problemsOf(
        vitals((m) => {
          items(m)[1]!['key'] = 'talla';
          items(m)[1]!['skipWhen'] = [0];
          (items(m)[1]!['elements'] as Record<string, unknown>)['status'] = {
            constant: 'amended',
          };
          (items(m)[1]!['elements'] as Record<string, unknown>)['valueQuantity.value'] = 'x';
        }),
      ),
    ).toEqual([
      'fanOut: fan-out key talla is used twice',
      'fanOut[1].status: this element is also mapped in the shared elements',
      'fanOut[1].valueQuantity.value: only one variant of value[x] can be mapped (also mapped: valueString)',
      'fanOut[1].skipWhen: skipWhen needs skipColumn',
    ]);
  });

  it('rejects bad keys, rows in items and an empty list in the schema', () => {
    const problems = problemsOf(
      vitals((m) => {
        items(m)[0]!['key'] = '8302_2';
        items(m)[1]!['key'] = 'a-b-c';
        (items(m)[1]!['elements'] as Record<string, unknown>)['note'] = {
          rows: { table: 'n', key: 'k' },
          elements: { text: 't' },
        };
      }),
    );
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('fan-out key is letters, digits and dots');
    expect(problems[1]).toContain('fan-out key is letters, digits and dots');
    expect(problems[2]).toBe(
      'fanOut[1].note: a fan-out item takes column, constant, template or reference; put rows, delimited and json in the shared elements',
    );
    expect(problemsOf(vitals((m) => (m['fanOut'] = [])))).toHaveLength(1);
  });

  it('allows fanOutKey only on token parameters of fan-out resources', () => {
    expect(
      problemsOf(
        vitals((m) => {
          m['search'] = {
            date: { fanOutKey: true },
            code: { fanOutKey: true, column: 'x' },
            'value-string': { fanOutKey: true },
          };
        }),
      ),
    ).toEqual([
      'search.date: fanOutKey applies only to token parameters; date is a date parameter',
      'search.code: fanOutKey takes no other options: the items are the values',
      'search.value-string: fanOutKey applies only to token parameters; value-string is a string parameter',
    ]);
    expect(
      problemsOf(
        vitals((m) => {
          delete m['fanOut'];
        }),
      ),
    ).toEqual(['search.code: fanOutKey applies only to a resource mapping with fanOut']);
  });

  it('reserves the column names of its own statements', () => {
    expect(
      problemsOf(
        vitals((m) => {
          (m['elements'] as Record<string, unknown>)['issued'] = '_fhirgate_item';
        }),
      ),
    ).toEqual([
      ": column names starting with _fhirgate are reserved for the gateway's own statements",
    ]);
  });
});

describe('fan-out against SQLite', () => {
  const db = new Database(':memory:');
  db.exec(`
    CREATE TABLE vitales (id INTEGER PRIMARY KEY, pid INTEGER, talla REAL, nota TEXT);
    INSERT INTO vitales VALUES (1, 7, 170, 'en ayunas'), (2, 7, NULL, 'sin talla'), (3, 8, 0, NULL), (4, 8, 160.5, '');
  `);
  const result = compile(vitals());
  if (!result.ok) {
    throw new Error('expected ok');
  }
  const observation = result.mapping.resource('Observation')!;

  it('builds items without a skip column for every row, and drops empty ones', async () => {
    const exec = createRecordingExecutor(db);
    const found = await observation.search(exec, [], { count: 100, offset: 0 });
    // 3-nota and 4-nota exist but carry no data beyond constants; an item is a resource, so
    // they are still served: the mapping said every row has a note item.
    expect(found.map((r) => r['id'])).toEqual([
      '1-talla',
      '1-nota',
      '2-nota',
      '3-nota',
      '4-talla',
      '4-nota',
    ]);
    for (const r of found) {
      assertValidR4(r);
    }
    expect(found[1]).toEqual({
      resourceType: 'Observation',
      id: '1-nota',
      status: 'final',
      subject: { reference: 'Patient/7' },
      code: { text: 'Nota' },
      valueString: 'en ayunas',
    });
    expect(await observation.count(exec, [])).toBe(6);
  });

  it('matches item keys by fanOutKey', async () => {
    const exec = createRecordingExecutor(db);
    const search = async (values: string[]) =>
      (await observation.search(exec, [{ code: 'code', values }], { count: 10, offset: 0 })).map(
        (r) => r['id'],
      );
    expect(await search(['talla'])).toEqual(['1-talla', '4-talla']);
    expect(await search(['http://loinc.org|8302-2'])).toEqual(['1-talla', '4-talla']);
    expect(await search(['nota'])).toEqual(['1-nota', '2-nota', '3-nota', '4-nota']);
    expect(await search(['http://loinc.org|nota'])).toEqual([]);
  });
});

describe('the database decides whether an item exists', () => {
  it('gives reads by id, searches, counts and reverse references the same items', async () => {
    // Heights as TEXT: SQLite compares the skip value 0 (bound as REAL) as the text '0.0', so
    // '0' and 'n/m' are measured values here, while '0.0', '' and NULL are not. The JavaScript
    // rule this replaces skipped '0' in reads and searches but counted it: count said 3, search
    // and read by id said 2.
    const db = new Database(':memory:');
    db.exec(`
      CREATE TABLE vitales (id INTEGER PRIMARY KEY, pid INTEGER, talla TEXT, nota TEXT);
      INSERT INTO vitales VALUES (1, 7, '170', NULL), (2, 7, '0', NULL), (3, 7, 'n/m', NULL),
        (4, 7, '0.0', NULL), (5, 7, '', NULL), (6, 7, NULL, NULL);
    `);
    const result = compile(vitals());
    if (!result.ok) {
      throw new Error('expected ok');
    }
    const observation = result.mapping.resource('Observation')!;
    const exec = createRecordingExecutor(db);
    const heights = ['1-talla', '2-talla', '3-talla'];
    const asked = [1, 2, 3, 4, 5, 6].map((row) => `${row}-talla`);
    const read = await observation.loadByIds(exec, asked);
    expect(read.map((r) => r?.['id'] ?? null)).toEqual([...heights, null, null, null]);
    // The value itself follows the number transform: '0' is 0, 'n/m' is no number.
    expect(
      read.map((r) => (r?.['valueQuantity'] as { value?: number } | undefined)?.value),
    ).toEqual([170, 0, undefined, undefined, undefined, undefined]);
    const code = [{ code: 'code', values: ['talla'] }];
    const found = await observation.search(exec, code, { count: 100, offset: 0 });
    expect(found.map((r) => r['id'])).toEqual(heights);
    expect(await observation.count(exec, code)).toBe(3);
    const byPatient = await observation.searchByReference(exec, {
      code: 'patient',
      targetIds: ['7'],
      query: code,
      countPerTarget: 10,
    });
    expect(byPatient.get('7')?.map((r) => r['id'])).toEqual(heights);
    // One statement per call; the read selected the flag instead of judging values in code.
    expect(exec.statements).toHaveLength(4);
    expect(exec.statements[0]?.sql).toBe(
      'SELECT t."id", t."pid", t."talla", t."nota", CASE WHEN NOT (t."talla" IS NULL OR t."talla" = ? OR t."talla" = ?) THEN 1 ELSE 0 END AS "_fhirgate_present_0" FROM "vitales" AS t WHERE t."id" IN (?, ?, ?, ?, ?, ?)',
    );
    expect(exec.statements[0]?.params).toEqual([0, '', 1, 2, 3, 4, 5, 6]);
    db.close();
  });
});

describe('fan-out with a child table', () => {
  it("gives every item of a row the row's child items, one child statement per page", async () => {
    const db = new Database(':memory:');
    db.exec(`
      CREATE TABLE vitales (id INTEGER PRIMARY KEY, pid INTEGER, talla REAL, nota TEXT);
      CREATE TABLE vitales_notas (id INTEGER PRIMARY KEY, id_vital INTEGER, texto TEXT);
      INSERT INTO vitales VALUES (1, 7, 170, 'x'), (2, 8, 150, NULL);
      INSERT INTO vitales_notas VALUES (1, 1, 'paciente inquieto'), (2, 2, 'sin novedad');
    `);
    const result = compile(
      vitals((m) => {
        (m['elements'] as Record<string, unknown>)['note'] = {
          rows: { table: 'vitales_notas', key: 'id_vital', orderBy: [{ column: 'id' }] },
          elements: { text: 'texto' },
        };
      }),
    );
    if (!result.ok) {
      throw new Error(JSON.stringify(result.problems));
    }
    const exec = createRecordingExecutor(db);
    const out = await result.mapping.resource('Observation')!.searchByReference(exec, {
      code: 'patient',
      targetIds: ['7', '8'],
      query: [],
      countPerTarget: 5,
    });
    expect(exec.statements).toHaveLength(2);
    expect(exec.statements[1]?.params).toEqual(['1', '2']);
    expect([...out].map(([k, v]) => [k, v.map((r) => [r['id'], r['note']])])).toEqual([
      [
        '7',
        [
          ['1-talla', [{ text: 'paciente inquieto' }]],
          ['1-nota', [{ text: 'paciente inquieto' }]],
        ],
      ],
      [
        '8',
        [
          ['2-talla', [{ text: 'sin novedad' }]],
          ['2-nota', [{ text: 'sin novedad' }]],
        ],
      ],
    ]);
    for (const r of [...out.values()].flat()) {
      assertValidR4(r);
    }
    db.close();
  });
});

describe('fan-out MySQL statement text', () => {
  it('quotes with backticks and binds every value', async () => {
    const result = compile(vitals(), MYSQL_DIALECT);
    if (!result.ok) {
      throw new Error('expected ok');
    }
    const statements: SqlStatement[] = [];
    const exec: QueryExecutor = {
      dialect: MYSQL_DIALECT,
      query: async (statement) => {
        statements.push(statement);
        return [];
      },
    };
    const observation = result.mapping.resource('Observation')!;
    await observation.search(exec, [{ code: 'patient', values: ['7'] }], {
      count: 2,
      offset: 4,
      sort: [{ code: 'patient', descending: true }],
    });
    await observation.count(exec, [{ code: 'code', values: ['talla'] }]);
    await observation.searchByReference(exec, {
      code: 'patient',
      targetIds: ['7', '8'],
      query: [],
      countPerTarget: 3,
    });
    expect(statements.map((s) => s.sql)).toEqual([
      'SELECT * FROM (SELECT * FROM (SELECT t.`id`, t.`pid`, t.`talla`, t.`nota`, 0 AS `_fhirgate_item` FROM `vitales` AS t WHERE t.`pid` = ? AND NOT (t.`talla` IS NULL OR t.`talla` = ? OR t.`talla` = ?) ORDER BY t.`pid` DESC, t.`id` LIMIT 6 OFFSET 0) AS b0 UNION ALL SELECT * FROM (SELECT t.`id`, t.`pid`, t.`talla`, t.`nota`, 1 AS `_fhirgate_item` FROM `vitales` AS t WHERE t.`pid` = ? ORDER BY t.`pid` DESC, t.`id` LIMIT 6 OFFSET 0) AS b1) AS f ORDER BY f.`pid` DESC, f.`id`, f.`_fhirgate_item` LIMIT 2 OFFSET 4',
      'SELECT COUNT(*) AS `_fhirgate_n` FROM (SELECT * FROM (SELECT t.`id`, 0 AS `_fhirgate_item` FROM `vitales` AS t WHERE NOT (t.`talla` IS NULL OR t.`talla` = ? OR t.`talla` = ?)) AS b0) AS f',
      'SELECT * FROM (SELECT f.`id`, f.`pid`, f.`talla`, f.`nota`, f.`_fhirgate_item`, ROW_NUMBER() OVER (PARTITION BY f.`pid` ORDER BY f.`id`, f.`_fhirgate_item`) AS `_fhirgate_rn` FROM (SELECT * FROM (SELECT t.`id`, t.`pid`, t.`talla`, t.`nota`, 0 AS `_fhirgate_item` FROM `vitales` AS t WHERE t.`pid` IN (?, ?) AND NOT (t.`talla` IS NULL OR t.`talla` = ? OR t.`talla` = ?)) AS b0 UNION ALL SELECT * FROM (SELECT t.`id`, t.`pid`, t.`talla`, t.`nota`, 1 AS `_fhirgate_item` FROM `vitales` AS t WHERE t.`pid` IN (?, ?)) AS b1) AS f) AS r WHERE r.`_fhirgate_rn` <= ? ORDER BY r.`pid`, r.`_fhirgate_rn`',
    ]);
    // Patient is not mapped in this document, so its ids are bound as text.
    expect(statements.map((s) => s.params)).toEqual([
      ['7', 0, '', '7'],
      [0, ''],
      ['7', '8', 0, '', '7', '8', 3],
    ]);
  });

  it('reads by id with one presence flag per item that has a skip rule, values bound', async () => {
    const result = compile(
      vitals((m) => {
        m['where'] = [{ column: 'anulado', op: 'eq', value: 0 }];
        items(m)[1]!['skipColumn'] = 'nota';
        items(m)[1]!['skipWhen'] = ['n/m', null];
      }),
      MYSQL_DIALECT,
    );
    if (!result.ok) {
      throw new Error(JSON.stringify(result.problems));
    }
    const statements: SqlStatement[] = [];
    const exec: QueryExecutor = {
      dialect: MYSQL_DIALECT,
      query: async (statement) => {
        statements.push(statement);
        return [];
      },
    };
    await result.mapping.resource('Observation')!.loadByIds(exec, ['1-talla', '1-nota', '2-nota']);
    expect(statements).toEqual([
      {
        sql: 'SELECT t.`id`, t.`pid`, t.`talla`, t.`nota`, CASE WHEN NOT (t.`talla` IS NULL OR t.`talla` = ? OR t.`talla` = ?) THEN 1 ELSE 0 END AS `_fhirgate_present_0`, CASE WHEN NOT (t.`nota` IS NULL OR t.`nota` = ?) THEN 1 ELSE 0 END AS `_fhirgate_present_1` FROM `vitales` AS t WHERE t.`anulado` = ? AND t.`id` IN (?, ?)',
        params: [0, '', 'n/m', 0, 1, 2],
      },
    ]);
  });

  it('writes plain count, sort and ROW_NUMBER statements for a resource without fan-out', async () => {
    const result = compile(
      vitals((m) => {
        delete m['fanOut'];
        m['search'] = { patient: { column: 'pid' }, date: { column: 'fecha' } };
      }),
      MYSQL_DIALECT,
    );
    if (!result.ok) {
      throw new Error(JSON.stringify(result.problems));
    }
    const statements: SqlStatement[] = [];
    const exec: QueryExecutor = {
      dialect: MYSQL_DIALECT,
      query: async (statement) => {
        statements.push(statement);
        return [];
      },
    };
    const observation = result.mapping.resource('Observation')!;
    await observation.search(exec, [], {
      count: 5,
      offset: 0,
      sort: [{ code: 'date', descending: true }],
    });
    await observation.count(exec, [{ code: 'patient', values: ['Patient/7'] }]);
    await observation.searchByReference(exec, {
      code: 'patient',
      targetIds: ['7'],
      query: [],
      countPerTarget: 1,
    });
    expect(statements.map((s) => s.sql)).toEqual([
      'SELECT t.`id`, t.`pid` FROM `vitales` AS t ORDER BY t.`fecha` DESC, t.`id` LIMIT 5 OFFSET 0',
      'SELECT COUNT(*) AS `_fhirgate_n` FROM `vitales` AS t WHERE t.`pid` = ?',
      'SELECT * FROM (SELECT t.`id`, t.`pid`, ROW_NUMBER() OVER (PARTITION BY t.`pid` ORDER BY t.`id`) AS `_fhirgate_rn` FROM `vitales` AS t WHERE t.`pid` = ?) AS r WHERE r.`_fhirgate_rn` <= ? ORDER BY r.`pid`, r.`_fhirgate_rn`',
    ]);
    expect(statements.map((s) => s.params)).toEqual([[], ['7'], ['7', 1]]);
  });
});
