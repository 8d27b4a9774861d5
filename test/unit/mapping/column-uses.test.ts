import { describe, expect, it } from 'vitest';
import { SQLITE_DIALECT } from '../../../src/db/dialect.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import type { ColumnUse } from '../../../src/mapping/column-use.js';
import { compileMapping } from '../../../src/mapping/compile-mapping.js';
import type { CompiledResource } from '../../../src/mapping/compiled-resource.js';
import { compileFixture } from './sqlite-fixtures.js';

function compileOne(type: string, mapping: Record<string, unknown>): CompiledResource {
  const result = compileMapping(
    { formatVersion: 1, resources: { [type]: mapping } },
    { defs: loadDefinitions(), dialect: SQLITE_DIALECT },
  );
  if (!result.ok) {
    throw new Error(JSON.stringify(result.problems));
  }
  const resource = result.mapping.resource(type);
  if (resource === undefined) {
    throw new Error(`no ${type}`);
  }
  return resource;
}

/** `table.column path fhirType [transforms]`, one line per use, for compact comparisons. */
const lines = (uses: readonly ColumnUse[]) =>
  uses.map(
    (u) =>
      `${u.table}.${u.column} ${u.path}${u.fhirType === undefined ? '' : ` ${u.fhirType}`}${u.transforms.length === 0 ? '' : ` [${u.transforms.join(',')}]`}`,
  );

describe('columnUses', () => {
  it('lists every column hospital A reads, with the element, type and transforms', () => {
    const patient = compileFixture('hospital-a').resource('Patient')!;
    expect(patient.columnUses.every((u) => u.resource === 'Patient')).toBe(true);
    expect(lines(patient.columnUses)).toEqual([
      'pacientes.id_paciente id id',
      'pacientes.voided where',
      'pacientes.rut_pac identifier[0].value string [trim]',
      'pacientes.ap_pat_pac name[0].family string',
      'pacientes.ap_mat_pac name[0].family string',
      'pacientes.nom_pac name[0].given[0] string [trim]',
      'pacientes.nom_pac name[0].text string',
      'pacientes.ap_pat_pac name[0].text string',
      'pacientes.ap_mat_pac name[0].text string',
      'pacientes.sexo_pac gender code [valueMap]',
      'pacientes.fec_nac_pac birthDate date [date]',
      'pacientes_telefonos.id_paciente key',
      'pacientes_telefonos.tipo telecom.use code [valueMap]',
      'pacientes_telefonos.numero telecom.value string [trim]',
      'pacientes_telefonos.borrado where',
      'pacientes_telefonos.id orderBy',
      'pacientes.rut_pac search:identifier',
      'pacientes.ap_pat_pac search:family',
      'pacientes.ap_mat_pac search:family',
      'pacientes.nom_pac search:given',
      'pacientes.nom_pac search:name',
      'pacientes.ap_pat_pac search:name',
      'pacientes.ap_mat_pac search:name',
      'pacientes.sexo_pac search:gender',
      'pacientes.fec_nac_pac search:birthdate',
      'pacientes_telefonos.numero search:phone',
      'pacientes_telefonos.numero search:telecom',
    ]);
  });

  it('names HumanName for splitName and keeps tables in sync', () => {
    const patient = compileFixture('hospital-b').resource('Patient')!;
    expect(lines(patient.columnUses)).toContain(
      'usuarios.nombre_usr name[0] HumanName [splitName]',
    );
    for (const use of patient.columnUses) {
      expect(patient.tables.get(use.table)?.has(use.column)).toBe(true);
    }
    const counted = new Set(patient.columnUses.map((u) => `${u.table}.${u.column}`));
    const inTables = [...patient.tables].flatMap(([t, cols]) => [...cols].map((c) => `${t}.${c}`));
    expect(inTables.sort()).toEqual([...counted].sort());
  });

  it('reports constants nowhere: only columns are listed', () => {
    const patient = compileOne('Patient', {
      table: 'p',
      id: 'id',
      elements: { active: { constant: true }, gender: 'g' },
    });
    expect(lines(patient.columnUses)).toEqual(['p.id id id', 'p.g gender code']);
  });
});
