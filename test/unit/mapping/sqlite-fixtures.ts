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

/** Reads a fixture mapping from `test/fixtures/mappings/`. */
export function readFixtureMapping(name: 'hospital-a' | 'hospital-b'): unknown {
  const url = new URL(`../../fixtures/mappings/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8'));
}

/** Compiles a fixture for SQLite and fails loudly when it does not compile. */
export function compileFixture(name: 'hospital-a' | 'hospital-b'): CompiledMapping {
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
