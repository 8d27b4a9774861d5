/**
 * A generated population in hospital A's legacy schema, after its hand-written rows: split name
 * columns, `DATE`/`DATETIME` text, M/F with `I` for an unrecorded sex, `voided`/`anulado` flags,
 * the occasional CHAR-padded surname, phones in a child table, `'ICD10:..;SNOMED:..'` diagnosis
 * cells, ATC-coded prescriptions, and metric vitals where a measurement not taken is 0 or NULL,
 * whichever the nurse's screen wrote that day.
 */
import { formatRut, type GeneratedRows, nextId, type SeedTable } from '../demo-hospital.js';
import { toIsoDate, toIsoDateTime } from './calendar.js';
import type { Population, Specialty, VisitKind } from './population.js';
import { createPrng } from './prng.js';

/** Hospital A's physicians: it keeps no other professionals. */
export const HOSPITAL_A_SPECIALTIES: readonly Specialty[] = [
  'family',
  'family',
  'internal',
  'internal',
  'pediatrics',
  'emergency',
  'emergency',
  'cardiology',
  'surgery',
  'internal',
  'family',
];

const SPECIALTY_TEXT: Readonly<Record<Specialty, string>> = {
  family: 'Medicina Familiar',
  internal: 'Medicina Interna',
  pediatrics: 'Pediatría',
  emergency: 'Medicina de Urgencia',
  cardiology: 'Cardiología',
  surgery: 'Cirugía General',
  nurse: 'Enfermería',
  midwife: 'Obstetricia',
  physiotherapy: 'Kinesiología',
};

const VISIT_TYPE: Readonly<Record<VisitKind, string>> = {
  ambulatory: 'AMB',
  // Teleconsultations are booked as ambulatory visits here.
  virtual: 'AMB',
  emergency: 'URG',
  inpatient: 'HOSP',
};

const VISIT_STATE = { finished: 'CERRADA', 'in-progress': 'EN_CURSO', cancelled: 'CANCELADA' };
const SEVERITY = { mild: 'LEVE', moderate: 'MODERADA', severe: 'SEVERA' };
const AGENT_KIND = { medication: 'MED', food: 'ALI', environment: 'AMB' };
const PRESCRIPTION_STATE = { active: 'VIGENTE', stopped: 'SUSPENDIDA', completed: 'TERMINADA' };

/** `population` as rows of hospital A's tables, with ids after those in `handWritten`. */
export function hospitalARows(
  population: Population,
  handWritten: readonly SeedTable[],
): GeneratedRows {
  // Quirks of data entry, drawn apart from the population so they never change who is who.
  const prng = createPrng('hospital-a:data-entry');
  const first = (table: string) => nextId(handWritten, table);
  const [patient0, physician0, visit0] = [
    first('pacientes'),
    first('medicos'),
    first('atenciones'),
  ];
  const notMeasured = () => (prng.chance(0.5) ? 0 : null);
  const flag = (deleted: boolean) => (deleted ? 1 : 0);

  const phones: Record<string, string | number | null>[] = [];
  let phoneId = first('pacientes_telefonos');
  const phone = (patient: number, tipo: string, numero: string, deleted: boolean) => {
    phones.push({ id: phoneId++, id_paciente: patient, tipo, numero, borrado: flag(deleted) });
  };
  const digits = (n: number) => String(prng.int(0, 10 ** n - 1)).padStart(n, '0');

  const pacientes = population.patients.map((p, i) => {
    const id = patient0 + i;
    if (prng.chance(0.05)) {
      phone(id, 'CEL', `+56 9 3${digits(3)} ${digits(4)}`, true);
    }
    if (prng.chance(0.85)) {
      phone(id, 'CEL', `+56 9 3${digits(3)} ${digits(4)}`, false);
    }
    if (prng.chance(0.35)) {
      phone(id, 'CASA', `+56 55 3${digits(2)} ${digits(4)}`, false);
    }
    return {
      id_paciente: id,
      rut_pac: formatRut(p.rutBody),
      nom_pac: p.given.join(' '),
      // An old import padded surnames to the CHAR width; the mapping trims them.
      ap_pat_pac: prng.chance(0.03) ? `${p.paternal}   ` : p.paternal,
      ap_mat_pac: p.maternal,
      fec_nac_pac: p.birthUnknown ? null : toIsoDate(p.birth),
      sexo_pac: p.sexUnrecorded ? 'I' : p.sex === 'female' ? 'F' : 'M',
      voided: flag(p.deleted),
    };
  });

  const medicos = population.practitioners.map((p, i) => ({
    id_medico: physician0 + i,
    rut: formatRut(p.rutBody),
    nombres: p.given.join(' '),
    apellidos: p.maternal === null ? p.paternal : `${p.paternal} ${p.maternal}`,
    sexo: p.sex === 'female' ? 'F' : 'M',
    especialidad: SPECIALTY_TEXT[p.specialty],
    activo: p.retired ? 0 : 1,
    borrado: flag(p.deleted),
  }));

  const atenciones = population.visits.map((v, i) => ({
    id: visit0 + i,
    id_paciente: patient0 + v.patient,
    id_medico: physician0 + v.practitioner,
    fecha_ingreso: toIsoDateTime(v.start),
    fecha_egreso: v.end === null ? null : toIsoDateTime(v.end),
    tipo: VISIT_TYPE[v.kind],
    estado: VISIT_STATE[v.status],
    motivo: v.reason,
    anulada: flag(v.deleted),
  }));

  let vitalsId = first('signos_vitales');
  const signos_vitales = population.vitals.map((s) => {
    const noPressure = notMeasured();
    return {
      id: vitalsId++,
      id_atencion: visit0 + s.visit,
      id_paciente: patient0 + s.patient,
      fecha: toIsoDateTime(s.at),
      talla_cm: s.heightCm ?? notMeasured(),
      peso_kg: s.weightKg ?? notMeasured(),
      pa_sistolica: s.systolic ?? noPressure,
      pa_diastolica: s.diastolic ?? noPressure,
      pulso: s.pulse ?? notMeasured(),
      anulado: flag(s.deleted),
    };
  });

  let diagnosisId = first('diagnosticos');
  const diagnosticos = population.diagnoses.map((d) => ({
    id: diagnosisId++,
    id_paciente: patient0 + d.patient,
    id_atencion: d.visit === null ? null : visit0 + d.visit,
    codigo:
      d.problem.snomed === null || d.icdOnly
        ? `ICD10:${d.problem.icd10}`
        : `ICD10:${d.problem.icd10};SNOMED:${d.problem.snomed}`,
    descripcion: d.problem.text,
    fecha: toIsoDate(d.onset),
    estado: d.resolved === null ? 'ACTIVO' : 'RESUELTO',
    anulado: flag(d.deleted),
  }));

  let allergyId = first('alergias');
  const alergias = population.allergies.map((a) => ({
    id: allergyId++,
    id_paciente: patient0 + a.patient,
    agente: a.allergen.agent,
    codigo_snomed: a.uncoded ? null : a.allergen.snomed,
    tipo_agente: AGENT_KIND[a.allergen.category],
    clase: a.allergen.type === 'allergy' ? 'ALERGIA' : 'INTOLERANCIA',
    severidad: a.severity === null ? null : SEVERITY[a.severity],
    reaccion: a.reactions.length === 0 ? null : joinReactions(a.reactions),
    fecha_registro: toIsoDate(a.recorded),
    estado: a.active ? 'ACTIVA' : 'INACTIVA',
    anulado: flag(a.deleted),
  }));

  let prescriptionId = first('recetas');
  const recetas = population.prescriptions.map((r) => ({
    id: prescriptionId++,
    id_paciente: patient0 + r.patient,
    id_atencion: visit0 + r.visit,
    id_medico: physician0 + r.practitioner,
    medicamento: r.medication.name,
    codigo_atc: r.medication.atc,
    posologia: r.medication.dosage,
    fecha: toIsoDateTime(r.authored),
    estado: PRESCRIPTION_STATE[r.status],
    anulada: flag(r.deleted),
  }));

  return {
    pacientes,
    pacientes_telefonos: phones,
    medicos,
    atenciones,
    signos_vitales,
    diagnosticos,
    alergias,
    recetas,
  };
}

/** `['Urticaria', 'Prurito']` -> `'Urticaria y prurito'`: one free-text cell, as typed. */
function joinReactions(reactions: readonly string[]): string {
  return reactions
    .map((r, i) => (i === 0 ? r : r.charAt(0).toLowerCase() + r.slice(1)))
    .join(' y ');
}
