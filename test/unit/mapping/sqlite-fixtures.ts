import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import {
  type QueryExecutor,
  type Row,
  SQLITE_DIALECT,
  type SqlStatement,
} from '../../../src/db/dialect.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { type CompiledMapping, compileMapping } from '../../../src/mapping/compile-mapping.js';

/** A QueryExecutor over an in-memory SQLite database that records every statement it runs. */
export interface RecordingExecutor extends QueryExecutor {
  readonly statements: SqlStatement[];
}

export function createRecordingExecutor(db: Database.Database): RecordingExecutor {
  const statements: SqlStatement[] = [];
  return {
    dialect: SQLITE_DIALECT,
    statements,
    async query(statement) {
      statements.push(statement);
      const params = statement.params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
      return db.prepare(statement.sql).all(...params) as Row[];
    },
  };
}

/** The mapping fixtures in `test/fixtures/mappings/`. */
export type FixtureName = 'hospital-a' | 'hospital-b' | 'hospital-c';

/** Reads a fixture mapping from `test/fixtures/mappings/`. */
export function readFixtureMapping(name: FixtureName): unknown {
  const url = new URL(`../../fixtures/mappings/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8'));
}

/** Compiles a fixture for SQLite and fails loudly when it does not compile. */
export function compileFixture(name: FixtureName): CompiledMapping {
  const result = compileMapping(readFixtureMapping(name), {
    defs: loadDefinitions(),
    dialect: SQLITE_DIALECT,
  });
  if (!result.ok) {
    throw new Error(`fixture ${name} does not compile: ${JSON.stringify(result.problems)}`);
  }
  return result.mapping;
}

/**
 * Hospital A: `pacientes` with DATE birth dates, 'M'/'F' and a `voided` flag, plus
 * `pacientes_telefonos`. Ids overlap with hospital B on purpose.
 */
export function seedHospitalA(db: Database.Database): void {
  db.exec(`
    CREATE TABLE pacientes (
      id_paciente INTEGER PRIMARY KEY, rut_pac TEXT, nom_pac TEXT, ap_pat_pac TEXT,
      ap_mat_pac TEXT, fec_nac_pac TEXT, sexo_pac TEXT, voided INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE pacientes_telefonos (
      id INTEGER PRIMARY KEY, id_paciente INTEGER, tipo TEXT, numero TEXT, borrado INTEGER NOT NULL DEFAULT 0);
  `);
  const patient = db.prepare('INSERT INTO pacientes VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  patient.run(1, '12345678-9', 'MARIA JOSE', 'GONZALEZ', 'PEREZ', '1980-05-17', 'F', 0);
  patient.run(2, ' 11111111-1 ', 'JUAN', 'PEREZ', 'SOTO', '0000-00-00', 'M', 0);
  patient.run(3, '22222222-2', 'ZZVOIDED', 'GHOST', null, '1990-01-01', 'M', 1);
  patient.run(4, '33333333-3', 'ANA', 'D_ARCY', 'LOPEZ', '1980-12-31', 'f', 0);
  patient.run(5, '44444444-4', 'ANA', 'DXARCY', 'LOPEZ', '1981-01-01', 'X', 0);
  patient.run(6, '55555555-5', '100% ROSA', 'BACK\\SLASH', null, '1979-02-28', 'F', 0);
  patient.run(7, null, null, null, null, null, null, 0);
  patient.run(10, '66666666-6', 'PEDRO', 'GONZALEZ', 'GONZALEZ', '2000-02-29', 'M', 0);
  const phone = db.prepare('INSERT INTO pacientes_telefonos VALUES (?, ?, ?, ?, ?)');
  phone.run(1, 1, 'CEL', '+56911111111', 0);
  phone.run(2, 1, 'CASA', '221234567', 0);
  phone.run(3, 1, 'CEL', '+56999999999', 1);
  phone.run(4, 2, 'CEL', '+56922222222', 0);
  phone.run(5, 3, 'CEL', '+56933333333', 0);
  phone.run(6, 2, 'OTRO', '   ', 0);
}

/**
 * Hospital B: `usuarios` with one full-name column, 'DD/MM/YYYY' text dates (some zero or
 * impossible), 'H'/'M' (hombre/mujer) and a TINYINT active flag, plus `usuarios_nombres` aliases.
 */
export function seedHospitalB(db: Database.Database): void {
  db.exec(`
    CREATE TABLE usuarios (
      id_usuario INTEGER PRIMARY KEY, rut_usr TEXT, nombre_usr TEXT, fecha_nacimiento TEXT,
      sexo TEXT, usr_activo INTEGER);
    CREATE TABLE usuarios_nombres (
      id INTEGER PRIMARY KEY, id_usuario INTEGER, tipo TEXT, nombres TEXT, apellidos TEXT, orden INTEGER);
  `);
  const user = db.prepare('INSERT INTO usuarios VALUES (?, ?, ?, ?, ?, ?)');
  user.run(1, '12.345.678-k', 'JUAN CARLOS PEREZ GONZALEZ', '17/05/1980', 'H', 1);
  user.run(2, '9876543-2', 'MARIA DEL CARMEN SOTO ROJAS', '00/00/0000', 'M', 0);
  user.run(3, '5555555-5', 'PEREZ GONZALEZ, ANA', '31/02/1999', 'm', 1);
  user.run(4, '7777777-7', 'ZZPHI CANARY', '01/01/2001', 'X', null);
  const name = db.prepare('INSERT INTO usuarios_nombres VALUES (?, ?, ?, ?, ?, ?)');
  name.run(1, 1, 'ALIAS', 'JC', 'PEREZ', 1);
  name.run(2, 2, 'SOLTERA', 'MARIA DEL CARMEN', 'SOTO', 2);
  name.run(3, 2, 'OTRO', 'CARMEN', null, 1);
}

/** A deterministic timestamp text in the legacy `YYYY-MM-DD hh:mm:ss` form. */
function legacyDateTime(day: number, hour: number): string {
  const date = new Date(Date.UTC(2023, 0, 1 + day, hour, 30, 0));
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * Hospital C, a clinical record: `personas` (patients, phones as JSON text, one address column),
 * `medicos` (practitioners with text ids), `atenciones` (encounters), `signos_vitales` (one wide
 * row per vital-signs take), `listas` (problems, allergies and prescriptions in one table,
 * told apart by `tipo`) and `listas_notas` (notes on list entries, clinical and administrative).
 *
 * Patients 1-25 exist (25 is deleted); patients 1-24 have `p % 4` encounters each (36), ids ascending
 * with p, plus one cancelled encounter of patient 1 and one without a patient.
 */
export function seedHospitalC(db: Database.Database): void {
  db.exec(`
    CREATE TABLE personas (
      id_persona INTEGER PRIMARY KEY, rut TEXT, nombres TEXT, apellidos TEXT, fecha_nac TEXT,
      sexo TEXT, telefonos_json TEXT, direccion TEXT, comuna TEXT, borrado INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE medicos (id_medico TEXT PRIMARY KEY, nombre TEXT, rut TEXT);
    CREATE TABLE atenciones (
      id_atencion INTEGER PRIMARY KEY, id_paciente INTEGER, id_medico TEXT, nombre_medico TEXT,
      tipo TEXT, estado TEXT, ingreso TEXT, alta TEXT, motivo TEXT, anulada INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE signos_vitales (
      id INTEGER PRIMARY KEY, id_paciente INTEGER, id_atencion INTEGER, fecha TEXT, talla_cm REAL,
      peso_lb REAL, temp_f REAL, pa_sist INTEGER, pa_diast INTEGER, anulado INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE listas (
      id INTEGER PRIMARY KEY, id_paciente INTEGER, id_atencion INTEGER, tipo TEXT, codigos TEXT,
      descripcion TEXT, estado TEXT, fecha TEXT, reacciones TEXT, dosis_json TEXT,
      borrado INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE listas_notas (
      id INTEGER PRIMARY KEY, id_lista INTEGER, tipo TEXT, texto TEXT, borrado INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE atenciones_equipo (
      id INTEGER PRIMARY KEY, id_atencion INTEGER, id_medico TEXT, rol TEXT, borrado INTEGER NOT NULL DEFAULT 0);
  `);
  const persona = db.prepare('INSERT INTO personas VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  persona.run(
    1,
    '11111111-1',
    'MARIA JOSE',
    'GONZALEZ PEREZ',
    '1980-05-17',
    'F',
    '[{"numero":"+56911111111","tipo":"CEL"},{"numero":" 221234567 ","tipo":"CASA"},{"tipo":"CEL"},"x"]',
    'Av. Siempre Viva 742, Depto 5, ',
    'Santiago',
    0,
  );
  persona.run(2, '22222222-2', 'JUAN', 'PEREZ', '1975-01-02', 'M', '{not json', 'Calle 1', null, 0);
  for (let p = 3; p <= 25; p++) {
    persona.run(
      p,
      null,
      `NOMBRE${p}`,
      `APELLIDO${p}`,
      null,
      p % 2 === 0 ? 'M' : 'F',
      null,
      null,
      null,
      p === 25 ? 1 : 0,
    );
  }
  const medico = db.prepare('INSERT INTO medicos VALUES (?, ?, ?)');
  medico.run('M001', 'ANA SOTO', '5555555-5');
  medico.run('M002', 'PEDRO ROJAS', '6666666-6');

  const atencion = db.prepare('INSERT INTO atenciones VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const tipos = ['AMB', 'HOSP', 'URG'];
  let id = 0;
  for (let p = 1; p <= 24; p++) {
    for (let k = 0; k < p % 4; k++) {
      id++;
      const medicoId = k % 2 === 0 ? 'M001' : 'M002';
      atencion.run(
        id,
        p,
        medicoId,
        medicoId === 'M001' ? 'ANA SOTO' : 'PEDRO ROJAS',
        tipos[k % 3],
        k === 2 ? 'A' : 'F',
        legacyDateTime(p + 10 * k, 8),
        k === 2 ? '0000-00-00 00:00:00' : legacyDateTime(p + 10 * k, 12),
        k === 0 ? 'CONTROL' : null,
        0,
      );
    }
  }
  atencion.run(100, 1, 'M001', 'ANA SOTO', 'AMB', 'C', legacyDateTime(0, 9), null, null, 1);
  atencion.run(101, null, null, null, 'AMB', 'F', legacyDateTime(1, 9), null, null, 0);
  const equipo = db.prepare('INSERT INTO atenciones_equipo VALUES (?, ?, ?, ?, ?)');
  equipo.run(1, 2, 'M002', 'ANESTESISTA', 0);
  equipo.run(2, 2, 'M001', 'RETIRADO', 1);
  equipo.run(3, 3, 'M001', 'INTERCONSULTOR', 0);

  // Vital signs: one wide row per take. Heights in cm, weights in pounds, temperatures in
  // degrees Fahrenheit; NULL, 0 or '' mean "not measured".
  const vital = db.prepare('INSERT INTO signos_vitales VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  vital.run(1, 1, 1, '2023-01-02 09:00:00', 165, 154, 98.6, 120, 80, 0);
  vital.run(2, 1, null, '2023-02-01 10:00:00', null, 150.5, 0, null, null, 0);
  vital.run(3, 2, 2, '2023-01-03 11:15:00', 0, null, 100.4, 135, 85, 0);
  vital.run(4, 3, 4, '2023-01-04 08:00:00', 170, 180, 98.2, 110, 70, 1);
  vital.run(5, 2, null, '2023-03-01 12:00:00', null, null, null, null, null, 0);
  vital.run(6, 3, 4, '2023-01-05 08:00:00', '', 181, null, 118, 76, 0);
  for (let p = 4; p <= 20; p++) {
    vital.run(
      10 + p,
      p,
      null,
      legacyDateTime(p, 7),
      150 + p,
      p % 3 === 0 ? 100 + p : null,
      null,
      null,
      null,
      0,
    );
  }

  // One list of everything: problems, allergies and prescriptions, told apart by `tipo`.
  const lista = db.prepare('INSERT INTO listas VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  lista.run(
    1,
    1,
    1,
    'problem',
    'ICD10:E11.9;SNOMED:44054006',
    'DIABETES MELLITUS TIPO 2',
    'A',
    '2020-03-04',
    null,
    null,
    0,
  );
  lista.run(2, 1, null, 'problem', 'ICD10:I10', 'HIPERTENSION', 'R', '2019-01-01', null, null, 0);
  lista.run(
    3,
    1,
    null,
    'allergy',
    'SNOMED:91936005',
    'PENICILINA',
    'A',
    '2015-06-01',
    'urticaria; disnea;',
    null,
    0,
  );
  lista.run(
    4,
    2,
    2,
    'med',
    'ATC:A10BA02',
    'METFORMINA 850 MG',
    'A',
    '2023-01-03 11:30:00',
    null,
    '[{"texto":"1 comp cada 12 h","via":"oral"},{"texto":"suspender si vomitos"}]',
    0,
  );
  lista.run(
    5,
    2,
    null,
    'problem',
    'CIE9:250.00',
    'DIABETES (CIE9)',
    'A',
    '2001-01-01',
    null,
    null,
    0,
  );
  lista.run(6, 1, null, 'problem', 'ICD10:J45', 'ASMA (BORRADO)', 'A', '2010-01-01', null, null, 1);
  lista.run(7, 2, null, 'allergy', null, 'POLEN', 'A', '0000-00-00', null, null, 0);
  lista.run(
    8,
    3,
    null,
    'med',
    'ATC:N02BE01',
    'PARACETAMOL',
    'S',
    '2023-01-05',
    null,
    'not json',
    0,
  );
  lista.run(9, 3, null, 'otro', null, 'NO CLINICO', 'A', null, null, null, 0);
  const nota = db.prepare('INSERT INTO listas_notas VALUES (?, ?, ?, ?, ?)');
  nota.run(1, 1, 'clinica', 'Control con HbA1c cada 3 meses', 0);
  nota.run(2, 1, 'admin', 'Derivado desde APS', 0);
  nota.run(3, 1, 'clinica', 'Nota borrada', 1);
  nota.run(4, 2, 'clinica', 'En tratamiento con losartan', 0);
}
