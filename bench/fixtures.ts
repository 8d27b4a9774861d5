/**
 * The benchmark's legacy hospital: hospital-A style `pacientes`, plus `atenciones` (encounters)
 * and `observaciones` (observations), seeded deterministically with bulk multi-row INSERTs, and
 * the tenant mapping document the gateway serves them with.
 */
import type { Connection } from 'mysql2/promise';

/** Row counts of one seeded tenant database. */
export interface SeedSize {
  readonly patients: number;
  readonly encounters: number;
  readonly observations: number;
}

/** What issue 4 asks for. */
export const FULL_SEED: SeedSize = { patients: 10_000, encounters: 30_000, observations: 200_000 };
/** `--quick`: a fifth of the rows, so the whole quick run stays under a minute. */
export const QUICK_SEED: SeedSize = { patients: 2_000, encounters: 6_000, observations: 40_000 };

/** Rows per INSERT statement. */
const ROWS_PER_INSERT = 4_000;

export const RUT_SYSTEM = 'https://demo.fhirgate.invalid/rut';

export const PATIENT_DDL = `CREATE TABLE pacientes (
  id_paciente INT PRIMARY KEY, rut_pac VARCHAR(12), nom_pac VARCHAR(80),
  ap_pat_pac VARCHAR(120), ap_mat_pac VARCHAR(80), fec_nac_pac DATE NULL,
  sexo_pac CHAR(1), voided TINYINT NOT NULL DEFAULT 0)`;

/** The three tables of the benchmark tenant, with the indexes a hospital DBA would have added. */
export const TENANT_DDL: readonly string[] = [
  PATIENT_DDL,
  `CREATE TABLE atenciones (
    id_atencion INT PRIMARY KEY, id_paciente INT NOT NULL, fecha_ingreso DATETIME NOT NULL,
    fecha_egreso DATETIME NULL, tipo_atencion VARCHAR(8) NOT NULL, estado CHAR(1) NOT NULL,
    KEY ix_atenciones_paciente (id_paciente, fecha_ingreso))`,
  `CREATE TABLE observaciones (
    id INT PRIMARY KEY, id_paciente INT NOT NULL, id_atencion INT NULL, fecha DATETIME NOT NULL,
    codigo_loinc VARCHAR(10) NOT NULL, valor DECIMAL(10,2) NULL, unidad VARCHAR(16) NULL,
    KEY ix_observaciones_paciente_fecha (id_paciente, fecha),
    KEY ix_observaciones_atencion (id_atencion))`,
];

const GIVEN = ['MARIA', 'JUAN', 'ANA', 'JOSE', 'CAROLINA', 'LUIS', 'CAMILA', 'PEDRO', 'SOFIA'];
const FAMILY = ['SOTO', 'GONZALEZ', 'MUNOZ', 'ROJAS', 'DIAZ', 'PEREZ', 'CONTRERAS', 'SILVA'];
const LOINC: ReadonlyArray<readonly [string, string, number, number]> = [
  ['8867-4', '/min', 50, 120],
  ['8480-6', 'mm[Hg]', 90, 180],
  ['8462-4', 'mm[Hg]', 50, 110],
  ['8310-5', 'Cel', 35, 40],
  ['2339-0', 'mg/dL', 60, 250],
  ['29463-7', 'kg', 3, 120],
];

/** mulberry32: the same rows on every run, so runs compare. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function dateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Patient `i`'s row (1-based); every 97th is soft-deleted, every 50th has no birth date. */
export function patientRow(i: number, next: () => number): unknown[] {
  const year = 1930 + Math.floor(next() * 90);
  return [
    i,
    `${10_000_000 + i}-${i % 10}`,
    GIVEN[i % GIVEN.length],
    FAMILY[Math.floor(next() * FAMILY.length)],
    FAMILY[Math.floor(next() * FAMILY.length)],
    i % 50 === 0
      ? null
      : `${year}-${pad(1 + Math.floor(next() * 12))}-${pad(1 + Math.floor(next() * 28))}`,
    i % 2 === 0 ? 'F' : 'M',
    i % 97 === 0 ? 1 : 0,
  ];
}

async function insertChunked(
  conn: Connection,
  head: string,
  total: number,
  row: (i: number) => unknown[],
): Promise<void> {
  for (let start = 1; start <= total; start += ROWS_PER_INSERT) {
    const rows: unknown[][] = [];
    for (let i = start; i < Math.min(total + 1, start + ROWS_PER_INSERT); i++) {
      rows.push(row(i));
    }
    await conn.query(`${head} VALUES ?`, [rows]);
  }
}

/** Fills the three tables of a fresh tenant database. */
export async function seedTenant(conn: Connection, size: SeedSize): Promise<void> {
  const next = prng(4);
  await insertChunked(
    conn,
    'INSERT INTO pacientes (id_paciente, rut_pac, nom_pac, ap_pat_pac, ap_mat_pac, fec_nac_pac, sexo_pac, voided)',
    size.patients,
    (i) => patientRow(i, next),
  );
  const encounterPatient = new Int32Array(size.encounters + 1);
  const encounterStart = new Float64Array(size.encounters + 1);
  const base = Date.UTC(2015, 0, 1);
  const span = 9 * 365 * 86_400_000;
  await insertChunked(
    conn,
    'INSERT INTO atenciones (id_atencion, id_paciente, fecha_ingreso, fecha_egreso, tipo_atencion, estado)',
    size.encounters,
    (i) => {
      const patient = 1 + Math.floor(next() * size.patients);
      const start = base + Math.floor(next() * span);
      encounterPatient[i] = patient;
      encounterStart[i] = start;
      const kind = ['AMB', 'HOSP', 'URG'][i % 3] as string;
      const end = kind === 'AMB' ? start + 3_600_000 : start + Math.floor(next() * 10) * 86_400_000;
      return [
        i,
        patient,
        dateTime(start),
        i % 40 === 0 ? null : dateTime(end),
        kind,
        i % 40 === 0 ? 'A' : 'C',
      ];
    },
  );
  await insertChunked(
    conn,
    'INSERT INTO observaciones (id, id_paciente, id_atencion, fecha, codigo_loinc, valor, unidad)',
    size.observations,
    (i) => {
      const encounter = 1 + Math.floor(next() * size.encounters);
      const [code, unit, lo, hi] = LOINC[i % LOINC.length] as readonly [
        string,
        string,
        number,
        number,
      ];
      return [
        i,
        encounterPatient[encounter],
        encounter,
        dateTime((encounterStart[encounter] ?? base) + Math.floor(next() * 86_400_000)),
        code,
        (lo + next() * (hi - lo)).toFixed(2),
        unit,
      ];
    },
  );
}

/** The Patient part of the mapping: v1 features only (columns, constants, templates, transforms). */
export const PATIENT_MAPPING = {
  table: 'pacientes',
  id: { column: 'id_paciente', type: 'integer' },
  where: [{ column: 'voided', op: 'eq', value: 0 }],
  elements: {
    'identifier[0].system': { constant: RUT_SYSTEM },
    'identifier[0].value': { column: 'rut_pac', transform: ['trim'] },
    'name[0].use': { constant: 'official' },
    'name[0].family': { column: 'ap_pat_pac', transform: ['trim'] },
    'name[0].given[0]': 'nom_pac',
    'name[0].text': { template: '{nom_pac} {ap_pat_pac} {ap_mat_pac}' },
    gender: {
      column: 'sexo_pac',
      transform: [{ fn: 'valueMap', map: { M: 'male', F: 'female' }, default: 'unknown' }],
    },
    birthDate: { column: 'fec_nac_pac', transform: [{ fn: 'date' }] },
  },
  search: {
    family: { columns: ['ap_pat_pac', 'ap_mat_pac'] },
    given: { columns: ['nom_pac'] },
    gender: { column: 'sexo_pac', map: { male: ['M'], female: ['F'] } },
    birthdate: { column: 'fec_nac_pac' },
    identifier: { column: 'rut_pac', system: RUT_SYSTEM },
  },
} as const;

/** The benchmark tenant's mapping document (Patient only until S3's mapping can be written). */
export const BENCH_MAPPING = { formatVersion: 1, resources: { Patient: PATIENT_MAPPING } };

/** Legacy DATETIME columns hold Santiago local time. */
const LOCAL_TIME = [{ fn: 'dateTime', timezone: '-03:00' }];

/**
 * S3's mapping: Encounter and Observation with `reference` element sources (`subject` ->
 * Patient, `encounter` -> Encounter) and reference search parameters, for the reverse-reference
 * list `Patient.ObservationList(_reference: subject, _sort: ["-date"], _count: 10)`. Written
 * against the `reference` source the mapping engine is gaining (src/mapping/mapping-schema.ts);
 * `run.ts` compiles it first and skips S3, naming the engine's problems, while it does not.
 */
export const S3_MAPPING = {
  formatVersion: 1,
  resources: {
    Patient: PATIENT_MAPPING,
    Encounter: {
      table: 'atenciones',
      id: { column: 'id_atencion', type: 'integer' },
      elements: {
        status: {
          column: 'estado',
          transform: [{ fn: 'valueMap', map: { A: 'in-progress', C: 'finished' } }],
        },
        'class.system': { constant: 'http://terminology.hl7.org/CodeSystem/v3-ActCode' },
        'class.code': {
          column: 'tipo_atencion',
          transform: [{ fn: 'valueMap', map: { AMB: 'AMB', HOSP: 'IMP', URG: 'EMER' } }],
        },
        subject: { reference: { type: 'Patient', column: 'id_paciente' } },
        'period.start': { column: 'fecha_ingreso', transform: LOCAL_TIME },
        'period.end': { column: 'fecha_egreso', transform: LOCAL_TIME },
      },
      search: {
        subject: { column: 'id_paciente' },
        patient: { column: 'id_paciente' },
        date: { column: 'fecha_ingreso' },
      },
    },
    Observation: {
      table: 'observaciones',
      id: { column: 'id', type: 'integer' },
      elements: {
        status: { constant: 'final' },
        'code.coding[0].system': { constant: 'http://loinc.org' },
        'code.coding[0].code': 'codigo_loinc',
        subject: { reference: { type: 'Patient', column: 'id_paciente' } },
        encounter: { reference: { type: 'Encounter', column: 'id_atencion' } },
        effectiveDateTime: { column: 'fecha', transform: LOCAL_TIME },
        'valueQuantity.value': 'valor',
        'valueQuantity.unit': 'unidad',
        'valueQuantity.system': { constant: 'http://unitsofmeasure.org' },
        'valueQuantity.code': 'unidad',
      },
      search: {
        subject: { column: 'id_paciente' },
        patient: { column: 'id_paciente' },
        encounter: { column: 'id_atencion' },
        date: { column: 'fecha' },
        code: { column: 'codigo_loinc', system: 'http://loinc.org' },
      },
    },
  },
};

/**
 * The S3 operation: 20 patients, the 10 latest Observations of each, and each Observation's
 * subject resolved. With DataLoader batching that is one statement per level whatever the row
 * counts (the subjects may even come from the cache PatientList primed).
 */
export const S3_QUERY = `query S3 {
  PatientList(_count: 20) {
    id
    ObservationList(_reference: subject, _sort: ["-date"], _count: 10) {
      id effectiveDateTime code { coding { code } } valueQuantity { value unit }
      subject { reference resource { ... on Patient { id birthDate } } }
    }
  }
}`;

/** The S1 operation: one patient by id, through a variable. */
export const S1_QUERY =
  'query S1($id: ID!) { Patient(id: $id) { id name { family given } birthDate gender } }';

/** The S2 operation: the first page of 50 patients. */
export const S2_QUERY =
  'query S2 { PatientList(_count: 50) { id name { family given } birthDate } }';
