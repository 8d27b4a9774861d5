/**
 * The generated demo people and what happened to them, before any hospital's conventions: who they
 * are, whom they saw and when, what was measured, diagnosed, prescribed and found them allergic.
 * Each hospital encodes a population in its own legacy schema (`hospital-a-rows.ts`,
 * `hospital-b-rows.ts`); the population carries the slips those schemas keep (duplicates that
 * were deleted, an unknown birth date, an unrecorded sex) as flags, and each schema writes them
 * its own way. Everything is drawn from one seeded PRNG, in a fixed order: the same options give
 * the same population.
 */
import {
  DEMO_REFERENCE_DAY,
  daysBeforeReference,
  type LocalTime,
  plusDays,
  plusMinutes,
  startOfDay,
  yearsBetween,
} from './calendar.js';
import {
  ALLERGENS,
  type Allergen,
  type Medication,
  PROBLEMS,
  type Problem,
  VISIT_REASONS,
} from './clinical-pools.js';
import { FAMILY_NAMES, FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES } from './name-pools.js';
import { createPrng, type Prng } from './prng.js';

export type Sex = 'female' | 'male';

export type Specialty =
  | 'family'
  | 'internal'
  | 'pediatrics'
  | 'emergency'
  | 'cardiology'
  | 'surgery'
  | 'nurse'
  | 'midwife'
  | 'physiotherapy';

export interface Person {
  readonly given: readonly string[];
  readonly paternal: string;
  /** `null` for people born abroad with one surname. */
  readonly maternal: string | null;
  readonly sex: Sex;
  /** RUT without its check digit. */
  readonly rutBody: number;
}

export interface Patient extends Person {
  readonly birth: LocalTime;
  /** The birth date was never recorded. */
  readonly birthUnknown: boolean;
  /** The sex was never recorded (or recorded as indeterminate). */
  readonly sexUnrecorded: boolean;
  /** A duplicate registration, merged away: it has no clinical rows. */
  readonly deleted: boolean;
}

export interface Practitioner extends Person {
  readonly specialty: Specialty;
  /** Retired: the author of old visits only. */
  readonly retired: boolean;
  /** Created twice by mistake: deleted, referenced by nothing. */
  readonly deleted: boolean;
}

export type VisitKind = 'ambulatory' | 'emergency' | 'inpatient' | 'virtual';

export interface Visit {
  readonly patient: number;
  readonly practitioner: number;
  readonly kind: VisitKind;
  readonly start: LocalTime;
  /** `null` while the stay goes on or when the patient did not come. */
  readonly end: LocalTime | null;
  readonly status: 'finished' | 'in-progress' | 'cancelled';
  readonly reason: string;
  /** A visit opened twice: this copy was deleted; nothing else points at it. */
  readonly deleted: boolean;
}

export interface VitalSigns {
  readonly visit: number;
  readonly patient: number;
  readonly at: LocalTime;
  readonly heightCm: number | null;
  readonly weightKg: number | null;
  readonly systolic: number | null;
  readonly diastolic: number | null;
  readonly pulse: number | null;
  /** Mistyped and deleted (a copy with a wrong value follows the right one). */
  readonly deleted: boolean;
}

export interface Diagnosis {
  readonly patient: number;
  /** `null` for problems carried over from before the patient's first visit. */
  readonly visit: number | null;
  readonly practitioner: number | null;
  readonly problem: Problem;
  readonly onset: LocalTime;
  /** When an acute problem was over; `null` while it lasts. */
  readonly resolved: LocalTime | null;
  /** Coded in ICD-10 only, though SNOMED CT has a code. */
  readonly icdOnly: boolean;
  /** Recoded: this copy was deleted. */
  readonly deleted: boolean;
}

export interface AllergyRecord {
  readonly patient: number;
  readonly practitioner: number | null;
  readonly allergen: Allergen;
  readonly recorded: LocalTime;
  /** Empty for old paper records, which had no severity either. */
  readonly reactions: readonly string[];
  readonly severity: 'mild' | 'moderate' | 'severe' | null;
  readonly active: boolean;
  /** Nobody coded the agent, though it has a code. */
  readonly uncoded: boolean;
  /** Entered on the wrong patient: deleted. */
  readonly deleted: boolean;
}

export interface Prescription {
  readonly patient: number;
  readonly visit: number;
  readonly practitioner: number;
  readonly medication: Medication;
  readonly authored: LocalTime;
  /** When it stopped or was completed; `null` while active. */
  readonly ended: LocalTime | null;
  readonly status: 'active' | 'stopped' | 'completed';
  readonly deleted: boolean;
}

export interface Population {
  readonly patients: readonly Patient[];
  readonly practitioners: readonly Practitioner[];
  readonly visits: readonly Visit[];
  readonly vitals: readonly VitalSigns[];
  readonly diagnoses: readonly Diagnosis[];
  readonly allergies: readonly AllergyRecord[];
  readonly prescriptions: readonly Prescription[];
}

export interface PopulationOptions {
  /** Text or number; the hospital's client id keeps the two populations apart. */
  readonly seed: string | number;
  readonly patients: number;
  /** One practitioner per entry, in this order. */
  readonly practitioners: readonly Specialty[];
  /** Whether the hospital has virtual visits (teleconsultations). */
  readonly virtualVisits: boolean;
  /** RUT bodies already taken (the hand-written people); generated ones avoid them. */
  readonly reservedRuts: ReadonlySet<number>;
  /** `0` or `1`: the parity of every generated RUT body, so two populations never share one. */
  readonly rutParity: 0 | 1;
}

/** Visits happen within this many days before the reference day. */
const VISIT_WINDOW_DAYS = 3 * 365;

/** Draws a population. Pure: the same options give the same population. */
export function generatePopulation(options: PopulationOptions): Population {
  const prng = createPrng(options.seed);
  const ruts = new Set(options.reservedRuts);
  const takeRut = (birthYear: number) => {
    const approximate = 3_000_000 + (birthYear - 1935) * 280_000 + prng.int(0, 250_000);
    let body = approximate - (approximate % 2) + options.rutParity;
    while (ruts.has(body)) {
      body += 2;
    }
    ruts.add(body);
    return body;
  };

  const practitioners = options.practitioners.map((specialty, i): Practitioner => {
    const sex: Sex = specialty === 'midwife' || specialty === 'nurse' ? 'female' : sexOf(prng);
    const birthYear = 1955 + prng.int(0, 40);
    return {
      ...person(prng, sex, true),
      rutBody: takeRut(birthYear),
      specialty,
      // The last two: one retired, one created twice by mistake.
      retired: i === options.practitioners.length - 2,
      deleted: i === options.practitioners.length - 1,
    };
  });

  const out = {
    patients: [] as Patient[],
    visits: [] as Visit[],
    vitals: [] as VitalSigns[],
    diagnoses: [] as Diagnosis[],
    allergies: [] as AllergyRecord[],
    prescriptions: [] as Prescription[],
  };
  for (let i = 0; i < options.patients; i++) {
    const sex = sexOf(prng);
    const birth = drawBirth(prng);
    const patient: Patient = {
      ...person(prng, sex, prng.chance(0.92)),
      rutBody: takeRut(new Date(birth * 60_000).getUTCFullYear()),
      birth,
      birthUnknown: prng.chance(0.03),
      sexUnrecorded: prng.chance(0.02),
      deleted: prng.chance(0.02),
    };
    out.patients.push(patient);
    if (!patient.deleted) {
      recordCare(prng, i, patient, practitioners, options, out);
    }
  }
  return { ...out, practitioners };
}

function sexOf(prng: Prng): Sex {
  return prng.chance(0.5) ? 'female' : 'male';
}

function person(prng: Prng, sex: Sex, twoSurnames: boolean): Omit<Person, 'rutBody'> {
  const pool = sex === 'female' ? FEMALE_GIVEN_NAMES : MALE_GIVEN_NAMES;
  const given = prng.sample(pool, prng.chance(0.4) ? 2 : 1);
  const [paternal, maternal] = prng.sample(FAMILY_NAMES, 2) as [string, string];
  return { given, paternal, maternal: twoSurnames ? maternal : null, sex };
}

/** Ages as a hospital sees them: few children, many older adults. */
function drawBirth(prng: Prng): LocalTime {
  const band = prng.next();
  const age =
    band < 0.15
      ? prng.int(0, 14)
      : band < 0.35
        ? prng.int(15, 34)
        : band < 0.65
          ? prng.int(35, 59)
          : prng.int(60, 94);
  return daysBeforeReference(Math.floor(age * 365.25) + prng.int(0, 364));
}

type Sink = {
  visits: Visit[];
  vitals: VitalSigns[];
  diagnoses: Diagnosis[];
  allergies: AllergyRecord[];
  prescriptions: Prescription[];
};

/** The visits of one patient and what came of them. */
function recordCare(
  prng: Prng,
  patientIndex: number,
  patient: Patient,
  practitioners: readonly Practitioner[],
  options: PopulationOptions,
  out: Sink,
): void {
  const ageNow = yearsBetween(patient.birth, DEMO_REFERENCE_DAY);
  const chronic = PROBLEMS.filter(
    (p) =>
      p.course === 'chronic' &&
      ageNow >= p.ages[0] &&
      ageNow <= p.ages[1] &&
      prng.chance(ageNow >= 60 ? 0.16 : 0.07),
  ).slice(0, 4);
  const visitCount = prng.chance(0.06) ? 0 : prng.int(1, 3) + chronic.length;
  const days = Array.from({ length: visitCount }, () => prng.int(0, VISIT_WINDOW_DAYS)).sort(
    (a, b) => b - a,
  );

  const pickPractitioner = (kind: VisitKind, age: number, start: LocalTime): number => {
    const wanted: readonly Specialty[] =
      kind === 'emergency'
        ? ['emergency']
        : kind === 'inpatient'
          ? ['internal', 'surgery', 'cardiology']
          : age < 15
            ? ['pediatrics', 'nurse']
            : ['family', 'internal', 'cardiology', 'midwife', 'physiotherapy'];
    const candidates = practitioners
      .map((p, i) => ({ p, i }))
      .filter(
        ({ p }) =>
          !p.deleted &&
          wanted.includes(p.specialty) &&
          (p.specialty !== 'midwife' || patient.sex === 'female') &&
          (!p.retired || start < daysBeforeReference(2 * 365)),
      );
    const fallback = practitioners.findIndex((p) => !p.deleted && !p.retired);
    return candidates.length === 0 ? fallback : prng.pick(candidates).i;
  };

  // Chronic problems known before the first visit are carried over, without a visit.
  const carried = chronic.filter(() => prng.chance(0.3));
  for (const problem of carried) {
    const onset = startOfDay(
      daysBeforeReference(
        VISIT_WINDOW_DAYS + prng.int(30, 365 * Math.max(1, ageNow - problem.ages[0])),
      ),
    );
    if (onset > patient.birth) {
      diagnose(prng, out, patientIndex, null, null, problem, onset);
    }
  }
  let pendingChronic = chronic.filter((p) => !carried.includes(p));

  const visitIndexes: number[] = [];
  for (const daysAgo of days) {
    const day = daysBeforeReference(daysAgo);
    if (day <= patient.birth) {
      continue;
    }
    const age = yearsBetween(patient.birth, day);
    const draw = prng.next();
    const kind: VisitKind =
      draw < 0.18
        ? 'emergency'
        : draw < 0.24
          ? 'inpatient'
          : draw < 0.3 && options.virtualVisits
            ? 'virtual'
            : 'ambulatory';
    const start =
      kind === 'ambulatory' || kind === 'virtual'
        ? plusMinutes(day, 8 * 60 + 15 * prng.int(0, 38))
        : plusMinutes(day, prng.int(0, 24 * 60 - 1));
    const minutes =
      kind === 'inpatient'
        ? prng.int(2, 9) * 24 * 60 + prng.int(-300, 300)
        : kind === 'emergency'
          ? prng.int(60, 300)
          : prng.int(15, 40);
    const practitioner = pickPractitioner(kind, age, start);
    const cancelled = kind === 'ambulatory' && prng.chance(0.04);
    const ongoing = !cancelled && plusMinutes(start, minutes) > DEMO_REFERENCE_DAY;

    // What the visit is about: a new acute problem, a chronic one first seen, or a control.
    const acute =
      kind === 'virtual' || cancelled
        ? undefined
        : PROBLEMS.filter(
            (p) =>
              p.course === 'acute' && p.seenAt === kind && age >= p.ages[0] && age <= p.ages[1],
          );
    const newAcute =
      acute !== undefined && acute.length > 0 && prng.chance(kind === 'ambulatory' ? 0.15 : 0.6)
        ? prng.pick(acute)
        : undefined;
    const firstSeen =
      newAcute === undefined && kind === 'ambulatory' && !cancelled
        ? pendingChronic.find((p) => age >= p.ages[0])
        : undefined;
    pendingChronic = pendingChronic.filter((p) => p !== firstSeen);
    const known = chronic.filter((p) => !pendingChronic.includes(p));
    const reason =
      newAcute?.text ??
      firstSeen?.text ??
      (kind === 'ambulatory' && known.length > 0 && prng.chance(0.7)
        ? `Control de ${lowerFirst(prng.pick(known).text)}`
        : prng.pick(VISIT_REASONS[kind]));

    const visit: Visit = {
      patient: patientIndex,
      practitioner,
      kind,
      start,
      end: cancelled || ongoing ? null : plusMinutes(start, minutes),
      status: cancelled ? 'cancelled' : ongoing ? 'in-progress' : 'finished',
      reason,
      deleted: false,
    };
    const visitIndex = out.visits.push(visit) - 1;
    visitIndexes.push(visitIndex);
    if (prng.chance(0.02)) {
      out.visits.push({ ...visit, end: null, deleted: true });
    }
    if (cancelled) {
      continue;
    }
    measure(prng, out, patientIndex, patient, visitIndex, visit, chronic, minutes);
    const problem = newAcute ?? firstSeen;
    if (problem !== undefined) {
      diagnose(prng, out, patientIndex, visitIndex, practitioner, problem, start);
      const medication = problem.medications.length > 0 ? prng.pick(problem.medications) : null;
      if (medication !== null && age >= 2) {
        prescribe(prng, out, patientIndex, visitIndex, visit, medication, problem.course);
      }
    }
  }

  // Carried-over problems get their treatment at the first ambulatory visit that took place.
  const firstAmbulatory = visitIndexes.find(
    (i) => out.visits[i]?.kind === 'ambulatory' && out.visits[i]?.status === 'finished',
  );
  const treatedAt = firstAmbulatory === undefined ? undefined : out.visits[firstAmbulatory];
  if (firstAmbulatory !== undefined && treatedAt !== undefined) {
    for (const problem of carried) {
      const medication = problem.medications[0];
      if (medication !== undefined) {
        prescribe(prng, out, patientIndex, firstAmbulatory, treatedAt, medication, 'chronic');
      }
    }
  }

  const allergyCount = prng.chance(0.18) ? (prng.chance(0.2) ? 2 : 1) : 0;
  const firstVisit = visitIndexes[0] === undefined ? undefined : out.visits[visitIndexes[0]];
  const someone = firstVisit?.practitioner ?? null;
  for (const allergen of prng.sample(ALLERGENS, allergyCount)) {
    const paper = prng.chance(0.1);
    const recorded = startOfDay(
      Math.max(plusDays(patient.birth, 200), daysBeforeReference(prng.int(0, 20 * 365))),
    );
    const record: AllergyRecord = {
      patient: patientIndex,
      practitioner: paper ? null : someone,
      allergen,
      recorded,
      reactions: paper ? [] : prng.sample(allergen.reactions, prng.int(1, 2)),
      severity: paper ? null : prng.pick(['mild', 'moderate', 'moderate', 'severe'] as const),
      active: prng.chance(0.9),
      uncoded: prng.chance(0.1),
      deleted: false,
    };
    out.allergies.push(record);
    if (prng.chance(0.03)) {
      out.allergies.push({ ...record, deleted: true });
    }
  }
}

function diagnose(
  prng: Prng,
  out: Sink,
  patient: number,
  visit: number | null,
  practitioner: number | null,
  problem: Problem,
  onset: LocalTime,
): void {
  const over = plusDays(startOfDay(onset), prng.int(7, 30));
  const diagnosis: Diagnosis = {
    patient,
    visit,
    practitioner,
    problem,
    onset,
    resolved: problem.course === 'acute' && over <= DEMO_REFERENCE_DAY ? over : null,
    icdOnly: prng.chance(0.15),
    deleted: false,
  };
  if (prng.chance(0.03)) {
    // Recoded: the first, vaguer entry was deleted.
    out.diagnoses.push({ ...diagnosis, icdOnly: true, deleted: true });
  }
  out.diagnoses.push(diagnosis);
}

function prescribe(
  prng: Prng,
  out: Sink,
  patient: number,
  visitIndex: number,
  visit: Visit,
  medication: Medication,
  course: Problem['course'],
): void {
  const authored = plusMinutes(visit.end ?? plusMinutes(visit.start, 20), -5);
  const stopped = course === 'chronic' && prng.chance(0.1);
  const ended =
    course === 'acute'
      ? plusDays(authored, 7)
      : stopped
        ? plusDays(authored, prng.int(20, 200))
        : null;
  const prescription: Prescription = {
    patient,
    visit: visitIndex,
    practitioner: visit.practitioner,
    medication,
    authored,
    ended: ended !== null && ended <= DEMO_REFERENCE_DAY ? ended : null,
    status:
      ended === null || ended > DEMO_REFERENCE_DAY ? 'active' : stopped ? 'stopped' : 'completed',
    deleted: false,
  };
  out.prescriptions.push(prescription);
  if (prng.chance(0.02)) {
    out.prescriptions.push({ ...prescription, deleted: true });
  }
}

/** Vital signs taken at a visit: one session, more for stays and some emergencies. */
function measure(
  prng: Prng,
  out: Sink,
  patientIndex: number,
  patient: Patient,
  visitIndex: number,
  visit: Visit,
  chronic: readonly Problem[],
  minutes: number,
): void {
  if (visit.kind === 'virtual' || (visit.kind === 'ambulatory' && prng.chance(0.1))) {
    return;
  }
  const sessions =
    visit.kind === 'inpatient'
      ? Math.min(3, Math.max(1, Math.floor(minutes / (2 * 24 * 60))))
      : visit.kind === 'emergency' && prng.chance(0.2)
        ? 2
        : 1;
  const age = yearsBetween(patient.birth, visit.start);
  const adult = age >= 15;
  const hypertensive = chronic.some((p) => p.icd10 === 'I10');
  const heightCm = grownHeight(patient, age);
  // A body mass index of her or his own (from the RUT, so it stays put from visit to visit).
  const bmi = adult ? 19 + (patient.rutBody % 151) / 10 : 14 + (patient.rutBody % 61) / 10;
  const weightKg = Math.round((heightCm / 100) ** 2 * bmi * 10) / 10;
  let at = plusMinutes(visit.start, prng.int(5, 15));
  for (let s = 0; s < sessions; s++) {
    if (s > 0) {
      at =
        visit.kind === 'inpatient'
          ? plusMinutes(startOfDay(plusDays(visit.start, s * 2)), 8 * 60)
          : plusMinutes(at, prng.int(60, 120));
    }
    if (visit.end !== null && at > visit.end) {
      break;
    }
    if (at > DEMO_REFERENCE_DAY) {
      break;
    }
    const routine = visit.kind === 'ambulatory' && s === 0;
    const systolic =
      adult && prng.chance(0.95) ? prng.int(105, 145) + (hypertensive ? 15 : 0) : null;
    const vitals: VitalSigns = {
      visit: visitIndex,
      patient: patientIndex,
      at,
      heightCm: routine && prng.chance(0.6) ? heightCm : null,
      weightKg: routine ? (prng.chance(0.9) ? weightKg : null) : prng.chance(0.2) ? weightKg : null,
      systolic,
      diastolic: systolic === null ? null : Math.round(systolic * prng.float(0.6, 0.68, 2)),
      pulse: prng.chance(0.95)
        ? prng.int(60, 95) + (adult ? 0 : 20) + (visit.kind === 'emergency' ? 15 : 0)
        : null,
      deleted: false,
    };
    out.vitals.push(vitals);
    if (vitals.heightCm !== null && prng.chance(0.03)) {
      // Typed the height with two digits swapped; the right row above stays.
      out.vitals.push({ ...vitals, heightCm: swapDigits(vitals.heightCm), deleted: true });
    }
  }
}

/**
 * Height at `age`: a child's from a rough growth curve, an adult's from sex; the person's own
 * offset comes from the RUT, so it does not change from visit to visit.
 */
function grownHeight(patient: Patient, age: number): number {
  const offset = (patient.rutBody % 181) / 10 - 9;
  if (age < 15) {
    const base = age < 2 ? 50 + age * 25 : 75 + (age - 1) * 6;
    return Math.round((base + offset / 2) * 10) / 10;
  }
  return Math.round(((patient.sex === 'female' ? 158 : 171) + offset) * 10) / 10;
}

function swapDigits(value: number): number {
  const [whole = '', decimals] = String(value).split('.');
  const swapped = whole.length >= 3 ? `${whole[0]}${whole[2]}${whole[1]}${whole.slice(3)}` : whole;
  return Number(decimals === undefined ? swapped : `${swapped}.${decimals}`);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
