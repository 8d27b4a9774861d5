/**
 * A generated population in hospital B's legacy schema, after its hand-written rows: one
 * upper-case full-name column, `DD/MM/YYYY` text with `00/00/0000` for an unknown date, H/M with
 * NULL for an unrecorded sex, an active flag (a merged duplicate is deactivated; there is no
 * delete flag on patients), alias names, vitals in inches and pounds, and one `lists` table for
 * problems, allergies, medications and the surgeries nothing maps.
 *
 * Rows registered since the clinic's move to UTF-8 keep their accents (`'ZOË NGUYỄN MÜLLER'`);
 * the hand-written ones, older, lost them (`'MUNOZ'`).
 */
import { formatRut, type GeneratedRows, nextId, type SeedTable } from '../demo-hospital.js';
import { contacts, phones } from '../hospital-b.js';
import {
  DEMO_REFERENCE_DAY,
  plusDays,
  toDayMonthYear,
  toDayMonthYearTime,
  toIsoDateTime,
} from './calendar.js';
import { FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES } from './name-pools.js';
import type { Population, Specialty, VisitKind } from './population.js';
import { createPrng } from './prng.js';

/** Hospital B's professionals: physicians, and the nurse, midwife and physiotherapist it bills. */
export const HOSPITAL_B_SPECIALTIES: readonly Specialty[] = [
  'family',
  'family',
  'internal',
  'pediatrics',
  'emergency',
  'emergency',
  'cardiology',
  'surgery',
  'nurse',
  'midwife',
  'physiotherapy',
  'internal',
  'family',
];

const MODALITY: Readonly<Record<VisitKind, string>> = {
  ambulatory: 'C',
  emergency: 'U',
  inpatient: 'H',
  virtual: 'T',
};

const STATE = { finished: 'A', 'in-progress': 'E', cancelled: 'N' };
const NO_DATE_TIME = '00/00/0000 00:00';
const SURGERIES = ['COLECISTECTOMIA', 'APENDICECTOMIA', 'HERNIOPLASTIA INGUINAL', 'CESAREA'];

/** `population` as rows of hospital B's tables, with ids after those in `handWritten`. */
export function hospitalBRows(
  population: Population,
  handWritten: readonly SeedTable[],
): GeneratedRows {
  // Quirks of data entry, drawn apart from the population so they never change who is who.
  const prng = createPrng('hospital-b:data-entry');
  const first = (table: string) => nextId(handWritten, table);
  const [patient0, professional0, visit0] = [
    first('usuarios'),
    first('profesionales'),
    first('consultas'),
  ];
  const upper = (text: string) => text.toUpperCase();
  const flag = (deleted: boolean) => (deleted ? 1 : 0);

  const names: Record<string, string | number | null>[] = [];
  let nameId = first('usuarios_nombres');
  const alias = (
    patient: number,
    tipo: string,
    nombres: string,
    apellidos: string,
    deleted: boolean,
  ) => {
    names.push({
      id: nameId++,
      id_usuario: patient,
      tipo,
      nombres: upper(nombres),
      apellidos: upper(apellidos),
      orden: 1,
      eliminado: flag(deleted),
    });
  };

  const usuarios = population.patients.map((p, i) => {
    const id = patient0 + i;
    // The form asks for both surnames; with one, a second given name would read as a surname.
    const given = p.maternal === null ? [p.given[0] ?? ''] : p.given;
    const family = [p.paternal, p.maternal].filter((f) => f !== null).join(' ');
    const gap = prng.chance(0.03) ? '  ' : ' ';
    if (p.sex === 'female' && p.maternal !== null && prng.chance(0.1)) {
      // Known by a married name here; the maiden name is the alias.
      alias(id, 'SOLTERA', given.join(' '), family, prng.chance(0.1));
    } else if (prng.chance(0.02)) {
      const social = prng.pick(p.sex === 'female' ? MALE_GIVEN_NAMES : FEMALE_GIVEN_NAMES);
      alias(id, 'SOCIAL', social, family, false);
    }
    const [home, work, mobile] = phones(id);
    return {
      id_usuario: id,
      rut_usr: formatRut(p.rutBody),
      nombre_usr: upper(`${given.join(' ')}${gap}${family}`),
      fecha_nacimiento: p.birthUnknown ? '00/00/0000' : toDayMonthYear(p.birth),
      sexo: p.sexUnrecorded ? null : p.sex === 'female' ? 'M' : 'H',
      usr_activo: p.deleted ? 0 : 1,
      fono_casa: home,
      fono_trabajo: work,
      celular: mobile,
    };
  });

  const profesionales = population.practitioners.map((p, i) => {
    const id = professional0 + i;
    const family = [p.paternal, p.maternal].filter((f) => f !== null).join(' ');
    return {
      id_prof: id,
      // Typed with a lower-case check digit k; the mapping upper-cases it.
      rut: formatRut(p.rutBody).toLowerCase(),
      nombre: upper(`${family}, ${p.given.join(' ')}`),
      profesion: profession(p.specialty, p.sex),
      contacto_json: contacts(id),
      eliminado: flag(p.deleted),
    };
  });

  const consultas = population.visits.map((v, i) => ({
    id_consulta: visit0 + i,
    id_usuario: patient0 + v.patient,
    id_prof: professional0 + v.practitioner,
    fecha: toDayMonthYearTime(v.start),
    fecha_termino: v.end === null ? NO_DATE_TIME : toDayMonthYearTime(v.end),
    modalidad: MODALITY[v.kind],
    estado: STATE[v.status],
    motivo: upper(v.reason),
    eliminado: flag(v.deleted),
  }));

  let vitalsId = first('signos');
  const signos = population.vitals.map((s) => ({
    id_signo: vitalsId++,
    id_consulta: visit0 + s.visit,
    id_usuario: patient0 + s.patient,
    fecha: toDayMonthYearTime(s.at),
    estatura_in: s.heightCm === null ? null : round1(s.heightCm / 2.54),
    peso_lb: s.weightKg === null ? null : round1(s.weightKg * 2.204_62),
    presion_sis: s.systolic,
    presion_dia: s.diastolic,
    fc: s.pulse,
    eliminado: flag(s.deleted),
  }));

  const lists: Record<string, string | number | null>[] = [];
  let listId = first('lists');
  const item = (row: {
    patient: number;
    practitioner: number | null;
    type: string;
    title: string;
    codes: string | null;
    begin: number;
    end: number | null;
    active: boolean;
    reaction?: string | null;
    severity?: string | null;
    comments?: string | null;
    deleted: boolean;
  }) => {
    lists.push({
      id: listId++,
      id_usuario: patient0 + row.patient,
      id_prof: row.practitioner === null ? null : professional0 + row.practitioner,
      type: row.type,
      title: row.title,
      codes: row.codes,
      begdate: toIsoDateTime(row.begin),
      enddate: row.end === null ? null : toIsoDateTime(row.end),
      activity: row.active ? 1 : 0,
      reaction: row.reaction ?? null,
      severity: row.severity ?? null,
      comments: row.comments ?? null,
      eliminado: flag(row.deleted),
    });
  };
  for (const d of population.diagnoses) {
    item({
      patient: d.patient,
      practitioner: d.practitioner,
      type: 'problem',
      title: upper(d.problem.text),
      codes:
        d.problem.snomed === null || d.icdOnly
          ? `ICD10:${d.problem.icd10}`
          : `ICD10:${d.problem.icd10};SNOMED-CT:${d.problem.snomed}`,
      begin: d.onset,
      end: d.resolved,
      active: d.resolved === null,
      deleted: d.deleted,
    });
  }
  for (const a of population.allergies) {
    const { rxcui, snomed } = a.allergen;
    item({
      patient: a.patient,
      practitioner: a.practitioner,
      type: 'allergy',
      title: upper(a.allergen.agent),
      codes: a.uncoded
        ? null
        : rxcui !== null
          ? `RXCUI:${rxcui}`
          : snomed === null
            ? null
            : `SNOMED-CT:${snomed}`,
      begin: a.recorded,
      end: null,
      active: a.active,
      // ';'-separated, sometimes with a space after the separator or one at the end.
      reaction:
        a.reactions.length === 0
          ? null
          : prng.chance(0.1)
            ? `${a.reactions.map(upper).join('; ')};`
            : a.reactions.map(upper).join(';'),
      severity: a.severity,
      deleted: a.deleted,
    });
  }
  for (const r of population.prescriptions) {
    item({
      patient: r.patient,
      practitioner: r.practitioner,
      type: 'medication',
      title: r.medication.title,
      codes: `RXCUI:${r.medication.rxcui}`,
      begin: r.authored,
      end: r.ended,
      active: r.status === 'active',
      comments: prng.chance(0.7) ? upper(r.medication.dosage) : null,
      deleted: r.deleted,
    });
  }
  population.patients.forEach((p, i) => {
    const adult = plusDays(p.birth, 20 * 365);
    if (!p.deleted && adult < DEMO_REFERENCE_DAY && prng.chance(0.03)) {
      item({
        patient: i,
        practitioner: null,
        type: 'surgery',
        title: prng.pick(SURGERIES),
        codes: null,
        begin: adult,
        end: null,
        active: false,
        deleted: false,
      });
    }
  });

  return {
    usuarios,
    usuarios_nombres: names,
    profesionales,
    consultas,
    signos,
    lists,
  };
}

function profession(specialty: Specialty, sex: 'female' | 'male'): string {
  switch (specialty) {
    case 'nurse':
      return sex === 'female' ? 'ENFERMERA' : 'ENFERMERO';
    case 'midwife':
      return sex === 'female' ? 'MATRONA' : 'MATRON';
    case 'physiotherapy':
      return sex === 'female' ? 'KINESIOLOGA' : 'KINESIOLOGO';
    default:
      return 'MEDICO CIRUJANO';
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
