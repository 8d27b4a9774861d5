/**
 * The embedded demo's two hospitals. Their legacy schemas differ on purpose (split name columns
 * vs one full-name column, DATE vs `DD/MM/YYYY` text with zero dates, M/F vs H/M, soft-delete
 * flags, one-to-many child tables) and their primary keys overlap (both have patients 1..25), so
 * the demo shows what a mapping absorbs and that tenants never mix. Every person, RUT and phone
 * number here is invented.
 *
 * The DDL is plain enough for SQLite and MariaDB alike; integration tests load the same tables
 * into MariaDB.
 */
import { readFileSync } from 'node:fs';

/** A value in a seed row: what both better-sqlite3 and mysql2 bind without conversion. */
export type SeedValue = string | number | null;

/** Rows for one table, in the order of `columns`. */
export interface SeedTable {
  readonly table: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly SeedValue[])[];
}

/** One demo hospital: a tenant with its own database, schema, data and mapping. */
export interface DemoHospital {
  /** The tenant's `client_id` (what `npm run token -- --tenant` takes). */
  readonly clientId: string;
  readonly displayName: string;
  /** The SQLite file inside the data dir. */
  readonly fileName: string;
  /** `CREATE TABLE` / `CREATE INDEX` statements, portable between SQLite and MariaDB. */
  readonly ddl: readonly string[];
  readonly seed: readonly SeedTable[];
  /** The mapping document (format version 1), a JSON file beside this module. */
  readonly mappingFile: URL;
}

/** The system of the Chilean RUT identifiers in both demo mappings. */
export const DEMO_RUT_SYSTEM = 'https://demo.fhirgate.invalid/rut';

/** The RUT check digit (modulo 11), so the fake RUTs look like real ones to a validator. */
export function rutCheckDigit(body: number): string {
  let sum = 0;
  let factor = 2;
  for (let n = body; n > 0; n = Math.floor(n / 10)) {
    sum += (n % 10) * factor;
    factor = factor === 7 ? 2 : factor + 1;
  }
  const digit = 11 - (sum % 11);
  return digit === 11 ? '0' : digit === 10 ? 'K' : String(digit);
}

/** `12345678-5`: the RUT body without thousands dots, a dash, the check digit. */
export function formatRut(body: number): string {
  return `${body}-${rutCheckDigit(body)}`;
}

// Hospital A: id, RUT body, given, paternal surname, maternal surname, birth date, sex, voided.
type PatientA = [
  number,
  number,
  string,
  string,
  string | null,
  string | null,
  string | null,
  0 | 1,
];

const PATIENTS_A: readonly PatientA[] = [
  [1, 16_234_871, 'Camila', 'Rojas', 'Araya', '1987-03-14', 'F', 0],
  [2, 18_402_119, 'Matías', 'González', 'Tapia', '1992-11-02', 'M', 0],
  [3, 13_877_530, 'Valentina', 'Muñoz', 'Castillo', '1979-06-21', 'F', 0],
  [4, 24_918_306, 'Benjamín', 'Díaz', 'Pizarro', '2015-09-30', 'M', 0],
  [5, 9_561_442, 'María José', 'Soto', 'Cortés', '1964-01-08', 'F', 0],
  [6, 7_215_093, 'Joaquín', 'Contreras', 'Vega', '1958-12-25', 'M', 0],
  [7, 20_731_658, 'Francisca', 'Silva', 'Álvarez', '2001-04-17', 'F', 0],
  // CHAR-padded surname from an old import: the mapping trims it.
  [8, 11_096_274, 'Diego', 'Morales   ', 'Olivares', '1973-08-05', 'M', 0],
  // A patient with one surname (born abroad).
  [9, 25_611_780, 'Antonia', 'Reyes', null, '1990-02-28', 'F', 0],
  // Birth date never recorded.
  [10, 15_348_207, 'Tomás', 'Fuentes', 'Carrasco', null, 'M', 0],
  [11, 16_990_415, 'Isidora', 'Espinoza', 'Zamora', '1986-07-19', 'F', 0],
  [12, 5_802_361, 'Cristóbal', 'Torres', 'Bravo', '1949-10-11', 'M', 0],
  [13, 26_104_558, 'Josefa', 'Ramírez', 'Sepúlveda', '2019-05-03', 'F', 0],
  // Merged into patient 18 years ago: voided, never served.
  [14, 19_220_634, 'Vicente', 'Flores', 'Gutiérrez', '1995-03-29', 'M', 1],
  [15, 10_457_826, 'Catalina', 'Castro', 'Lagos', '1968-11-30', 'F', 0],
  [16, 22_863_019, 'Agustín', 'Vargas', 'Salazar', '2008-01-15', 'M', 0],
  [17, 14_175_392, 'Fernanda', 'Núñez', 'Figueroa', '1983-09-09', 'F', 0],
  [18, 12_538_740, 'Sebastián', 'Herrera', 'Jara', '1977-04-04', 'M', 0],
  [19, 23_790_251, 'Martina', 'Hernández', 'Mella', '2012-12-12', 'F', 0],
  [20, 19_846_103, 'Lucas', 'Gómez', 'Riquelme', '1999-06-06', 'M', 0],
  [21, 8_931_677, 'Constanza', 'Sánchez', 'Orellana', '1971-02-14', 'F', 0],
  [22, 6_478_520, 'Maximiliano', 'Rivera', 'Peña', '1961-08-22', 'M', 0],
  [23, 21_035_964, 'Sofía', 'Álvarez', 'Toro', '2003-10-31', 'F', 1],
  // I (indeterminado) is not in the mapping's value map: its default gives `unknown`.
  [24, 4_996_213, 'Alonso', 'Vergara', 'Cáceres', '1955-05-05', 'I', 0],
  [25, 18_127_486, 'Ignacia', 'Saavedra', 'Molina', '1994-07-07', 'F', 0],
];

// Hospital A phones: id, patient, type (CEL mobile, CASA home), number, deleted.
const PHONES_A: readonly (readonly SeedValue[])[] = [
  [1, 1, 'CEL', '+56 9 8123 4567', 0],
  [2, 1, 'CASA', '+56 55 224 1180', 0],
  [3, 1, 'CEL', '+56 9 8123 4576', 1],
  [4, 2, 'CEL', '+56 9 7654 3210', 0],
  [5, 3, 'CEL', '+56 9 6543 2109', 1],
  [6, 3, 'CEL', '+56 9 6543 2190', 0],
  [7, 5, 'CASA', '+56 55 231 0045', 0],
  [8, 6, 'CEL', '+56 9 9012 7788', 0],
  [9, 8, 'CEL', '+56 9 5566 1203', 0],
  [10, 11, 'CEL', '+56 9 4432 9810', 0],
  [11, 11, 'CASA', '+56 55 248 7321', 0],
  [12, 12, 'CASA', '+56 55 226 5504', 0],
  [13, 14, 'CEL', '+56 9 8870 1432', 0],
  [14, 15, 'CEL', '+56 9 7301 2245', 0],
  [15, 17, 'CEL', '+56 9 6120 9087', 0],
  [16, 18, 'CASA', '+56 55 239 4410', 0],
  [17, 20, 'CEL', '+56 9 9345 6612', 0],
  [18, 21, 'CEL', '+56 9 8402 3356', 0],
  [19, 22, 'CASA', '+56 55 221 9090', 0],
  [20, 25, 'CEL', '+56 9 7788 0123', 0],
];

// Hospital B: id, RUT body, full name (given names first, two surnames), birth date as
// DD/MM/YYYY text ('00/00/0000' when unknown), sex (H hombre, M mujer), active.
type PatientB = [number, number, string, string | null, string | null, 0 | 1];

const PATIENTS_B: readonly PatientB[] = [
  [1, 10_982_345, 'JUAN CARLOS PEREZ GONZALEZ', '15/04/1970', 'H', 1],
  [2, 15_203_876, 'ANA MARIA LOPEZ FERNANDEZ', '02/09/1985', 'M', 1],
  [3, 12_764_019, 'PEDRO PABLO DE LA FUENTE SOTO', '00/00/0000', 'H', 1],
  [4, 17_450_962, 'CAROLINA ANDREA VALENZUELA ROJAS', '23/12/1991', 'M', 1],
  // Deceased years ago: kept, but inactive.
  [5, 4_381_207, 'LUIS ALBERTO CARDENAS MUNOZ', '11/07/1948', 'H', 0],
  [6, 8_106_534, 'PATRICIA ELENA NAVARRO SILVA', '30/01/1966', 'M', 1],
  [7, 13_590_728, 'JORGE ANDRES SANDOVAL PINTO', '05/05/1982', 'H', 1],
  // Typed with a double space.
  [8, 11_245_683, 'CLAUDIA  BEATRIZ MIRANDA TORO', '19/08/1977', 'M', 1],
  [9, 20_317_845, 'RODRIGO IGNACIO ARAYA LEIVA', '27/03/2000', 'H', 1],
  [10, 6_728_910, 'MARCELA ALEJANDRA QUIROZ CONTRERAS', '14/02/1959', 'M', 1],
  [11, 14_862_301, 'FRANCISCO JAVIER BUSTOS HENRIQUEZ', '00/00/0000', 'H', 1],
  [12, 19_054_227, 'DANIELA PAZ AGUILERA MORENO', '08/10/1996', 'M', 1],
  [13, 3_219_876, 'MANUEL ANTONIO VIDAL ESPINOZA', '31/12/1939', 'H', 1],
  [14, 23_116_540, 'JAVIERA CONSTANZA OLIVARES TAPIA', '01/06/2010', 'M', 1],
  [15, 16_673_098, 'ALEJANDRO ROJAS CAMPOS', '22/11/1988', 'H', 1],
  [16, 9_884_123, 'VERONICA DEL CARMEN SALINAS PARRA', '03/03/1963', 'M', 1],
  [17, 12_005_671, 'CRISTIAN MAURICIO FIGUEROA DIAZ', '09/09/1975', 'H', 0],
  [18, 5_447_302, 'GLORIA INES MORALES VERA', '16/03/1952', 'M', 1],
  [19, 21_998_064, 'FELIPE ESTEBAN CARRASCO MENA', '12/12/2005', 'H', 1],
  [20, 18_530_419, 'PAULINA ANDREA CACERES LAGOS', '25/07/1993', 'M', 1],
  [21, 13_007_925, 'RICARDO ENRIQUE SEPULVEDA ORTIZ', '00/00/0000', 'H', 1],
  [22, 16_212_837, 'MACARENA SOLEDAD GALLARDO PENA', '04/04/1987', 'M', 1],
  // Sex not recorded: gender stays absent (a value map's default is for unknown codes only).
  [23, 7_690_358, 'HECTOR HUGO ALARCON RIOS', '18/01/1961', null, 1],
  [24, 4_102_966, 'ISABEL MARGARITA FAUNDEZ POBLETE', '07/11/1944', 'M', 1],
  [25, 25_308_177, 'NICOLAS ANDRES OYARZUN MELLA', '29/02/2016', 'H', 1],
];

// Hospital B extra names: id, patient, type, given names, surnames, order, deleted. Types:
// SOLTERA (maiden), ANTERIOR (former), SOCIAL (nombre social, Ley 21.120), APODO (nickname).
const NAMES_B: readonly (readonly SeedValue[])[] = [
  [1, 1, 'APODO', 'JC', null, 1, 0],
  [2, 2, 'SOLTERA', 'ANA MARIA', 'LOPEZ SCHMIDT', 1, 0],
  [3, 6, 'ANTERIOR', 'PATRICIA ELENA', 'NAVARRO', 1, 0],
  [4, 6, 'APODO', 'PATY', null, 2, 0],
  [5, 9, 'SOCIAL', 'RENATA', 'ARAYA LEIVA', 1, 0],
  // Entered by mistake and deleted: never served.
  [6, 12, 'SOLTERA', 'DANIELA PAZ', 'AGUILERA WEBER', 1, 1],
  [7, 15, 'ANTERIOR', 'ALEJANDRO', 'ROJAS', 1, 0],
  // A type the mapping does not know: its default use applies.
  [8, 20, 'OTRO', 'PAULA', 'CACERES', 1, 0],
];

/** Hospital A: split name columns, a DATE birth date, M/F, soft deletes, a phone child table. */
export const HOSPITAL_A: DemoHospital = {
  clientId: 'hospital-a',
  displayName: 'Hospital Regional de Antofagasta (demo)',
  fileName: 'hospital-a.db',
  ddl: [
    `CREATE TABLE pacientes (
  id_paciente INTEGER PRIMARY KEY,
  rut_pac VARCHAR(12),
  nom_pac VARCHAR(80),
  ap_pat_pac VARCHAR(80),
  ap_mat_pac VARCHAR(80),
  fec_nac_pac DATE,
  sexo_pac CHAR(1),
  voided TINYINT NOT NULL DEFAULT 0
)`,
    `CREATE TABLE pacientes_telefonos (
  id INTEGER PRIMARY KEY,
  id_paciente INTEGER NOT NULL,
  tipo VARCHAR(8),
  numero VARCHAR(20),
  borrado TINYINT NOT NULL DEFAULT 0
)`,
    'CREATE INDEX ix_pacientes_telefonos_paciente ON pacientes_telefonos (id_paciente)',
  ],
  seed: [
    {
      table: 'pacientes',
      columns: [
        'id_paciente',
        'rut_pac',
        'nom_pac',
        'ap_pat_pac',
        'ap_mat_pac',
        'fec_nac_pac',
        'sexo_pac',
        'voided',
      ],
      rows: PATIENTS_A.map(([id, rut, ...rest]) => [id, formatRut(rut), ...rest]),
    },
    {
      table: 'pacientes_telefonos',
      columns: ['id', 'id_paciente', 'tipo', 'numero', 'borrado'],
      rows: PHONES_A,
    },
  ],
  mappingFile: new URL('./mappings/hospital-a.json', import.meta.url),
};

/** Hospital B: one full-name column, text dates with zero dates, H/M, an active flag, alias names. */
export const HOSPITAL_B: DemoHospital = {
  clientId: 'hospital-b',
  displayName: 'Clínica Los Andes (demo)',
  fileName: 'hospital-b.db',
  ddl: [
    `CREATE TABLE usuarios (
  id_usuario INTEGER PRIMARY KEY,
  rut_usr VARCHAR(12),
  nombre_usr VARCHAR(160),
  fecha_nacimiento VARCHAR(10),
  sexo CHAR(1),
  usr_activo TINYINT NOT NULL DEFAULT 1
)`,
    `CREATE TABLE usuarios_nombres (
  id INTEGER PRIMARY KEY,
  id_usuario INTEGER NOT NULL,
  tipo VARCHAR(10),
  nombres VARCHAR(80),
  apellidos VARCHAR(80),
  orden INTEGER NOT NULL DEFAULT 0,
  eliminado TINYINT NOT NULL DEFAULT 0
)`,
    'CREATE INDEX ix_usuarios_nombres_usuario ON usuarios_nombres (id_usuario)',
  ],
  seed: [
    {
      table: 'usuarios',
      columns: ['id_usuario', 'rut_usr', 'nombre_usr', 'fecha_nacimiento', 'sexo', 'usr_activo'],
      rows: PATIENTS_B.map(([id, rut, ...rest]) => [id, formatRut(rut), ...rest]),
    },
    {
      table: 'usuarios_nombres',
      columns: ['id', 'id_usuario', 'tipo', 'nombres', 'apellidos', 'orden', 'eliminado'],
      rows: NAMES_B,
    },
  ],
  mappingFile: new URL('./mappings/hospital-b.json', import.meta.url),
};

/** Both demo hospitals, in the order the demo registers them. */
export const DEMO_HOSPITALS: readonly DemoHospital[] = [HOSPITAL_A, HOSPITAL_B];

/** The demo hospital with this client id, if any. */
export function findDemoHospital(clientId: string): DemoHospital | undefined {
  return DEMO_HOSPITALS.find((h) => h.clientId === clientId);
}

/**
 * Reads a hospital's mapping document from its JSON file. It is read on every call (not
 * imported), so editing the file and restarting the demo activates the edited mapping.
 */
export function loadDemoMapping(hospital: DemoHospital): unknown {
  return JSON.parse(readFileSync(hospital.mappingFile, 'utf8'));
}

/** One `INSERT` with `?` placeholders per seed row, for any driver that binds positionally. */
export function seedStatements(
  hospital: DemoHospital,
): { readonly sql: string; readonly params: SeedValue[] }[] {
  return hospital.seed.flatMap(({ table, columns, rows }) => {
    const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    return rows.map((row) => ({ sql, params: [...row] }));
  });
}

/**
 * Creates a hospital's tables and loads its rows through `exec`, one statement at a time: the
 * DDL (no parameters), then one `INSERT ... VALUES (?, ...)` per row. It works with a synchronous
 * better-sqlite3 `prepare(sql).run(...params)` and with an async mysql2 `query(sql, params)`; wrap
 * it in a transaction on the caller's side when speed matters.
 */
export async function seedHospital(
  exec: (sql: string, params: unknown[]) => void | Promise<void>,
  hospital: DemoHospital,
): Promise<void> {
  for (const ddl of hospital.ddl) {
    await exec(ddl, []);
  }
  for (const { sql, params } of seedStatements(hospital)) {
    await exec(sql, params);
  }
}
