/**
 * What the generated patients suffer from, take and react to: real code systems (ICD-10, SNOMED
 * CT, ATC, RxNorm) with invented assignments. Each hospital encodes these in its own way (hospital
 * A's `'ICD10:..;SNOMED:..'` cells and ATC codes, hospital B's `lists` rows with `SNOMED-CT` and
 * RxNorm); the texts are Spanish as the clinicians typed them.
 */

export interface Medication {
  /** Hospital A's prescription text: drug, strength, form. */
  readonly name: string;
  /** Hospital B's shorter title. */
  readonly title: string;
  readonly atc: string;
  readonly rxcui: string;
  readonly dosage: string;
}

export interface Problem {
  readonly icd10: string;
  /** `null` for the ones coded in ICD-10 only. */
  readonly snomed: string | null;
  readonly text: string;
  /** Chronic problems stay active; acute ones resolve within weeks. */
  readonly course: 'chronic' | 'acute';
  /** The youngest and oldest age it is diagnosed at. */
  readonly ages: readonly [number, number];
  /** Where an acute problem is seen; chronic ones are seen at ambulatory visits. */
  readonly seenAt: 'ambulatory' | 'emergency' | 'inpatient';
  readonly medications: readonly Medication[];
}

export interface Allergen {
  readonly agent: string;
  /** SNOMED CT substance code, `null` when nobody coded it. */
  readonly snomed: string | null;
  /** RxNorm ingredient, for drugs (hospital B codes drugs in RxNorm). */
  readonly rxcui: string | null;
  readonly category: 'medication' | 'food' | 'environment';
  readonly type: 'allergy' | 'intolerance';
  readonly reactions: readonly string[];
}

const med = (
  name: string,
  title: string,
  atc: string,
  rxcui: string,
  dosage: string,
): Medication => ({ name, title, atc, rxcui, dosage });

// biome-ignore format: one medication per line reads as a table
const MEDICATIONS = {
  losartan: med('Losartán 50 mg comprimido', 'LOSARTAN 50 MG', 'C09CA01', '52175', '1 comprimido cada 24 horas'),
  amlodipine: med('Amlodipino 5 mg comprimido', 'AMLODIPINO 5 MG', 'C08CA01', '17767', '1 comprimido cada 24 horas'),
  enalapril: med('Enalapril 10 mg comprimido', 'ENALAPRIL 10 MG', 'C09AA02', '3827', '1 comprimido cada 12 horas'),
  metformin: med('Metformina 850 mg comprimido', 'METFORMINA 850 MG', 'A10BA02', '6809', '1 comprimido con desayuno y cena'),
  glargine: med('Insulina glargina 100 UI/ml', 'INSULINA GLARGINA', 'A10AE04', '274783', '10 UI en la noche'),
  levothyroxine: med('Levotiroxina 75 mcg comprimido', 'LEVOTIROXINA 75 MCG', 'H03AA01', '10582', '1 comprimido en ayunas'),
  atorvastatin: med('Atorvastatina 20 mg comprimido', 'ATORVASTATINA 20 MG', 'C10AA05', '83367', '1 comprimido en la noche'),
  salbutamol: med('Salbutamol 100 mcg inhalador', 'SALBUTAMOL INHALADOR', 'R03AC02', '435', '2 inhalaciones cada 6 horas si hay disnea'),
  budesonide: med('Budesonida 200 mcg inhalador', 'BUDESONIDA INHALADOR', 'R03BA02', '19831', '2 inhalaciones cada 12 horas'),
  tiotropium: med('Tiotropio 18 mcg cápsula para inhalar', 'TIOTROPIO 18 MCG', 'R03BB04', '69120', '1 inhalación cada 24 horas'),
  sertraline: med('Sertralina 50 mg comprimido', 'SERTRALINA 50 MG', 'N06AB06', '36437', '1 comprimido en la mañana'),
  escitalopram: med('Escitalopram 10 mg comprimido', 'ESCITALOPRAM 10 MG', 'N06AB10', '321988', '1 comprimido en la mañana'),
  omeprazole: med('Omeprazol 20 mg cápsula', 'OMEPRAZOL 20 MG', 'A02BC01', '7646', '1 cápsula en ayunas'),
  bisoprolol: med('Bisoprolol 2,5 mg comprimido', 'BISOPROLOL 2,5 MG', 'C07AB07', '19484', '1 comprimido cada 24 horas'),
  furosemide: med('Furosemida 40 mg comprimido', 'FUROSEMIDA 40 MG', 'C03CA01', '4603', '1 comprimido en la mañana'),
  naproxen: med('Naproxeno 550 mg comprimido', 'NAPROXENO 550 MG', 'M01AE02', '7258', '1 comprimido al inicio de la crisis'),
  paracetamol: med('Paracetamol 500 mg comprimido', 'PARACETAMOL 500 MG', 'N02BE01', '161', '1 comprimido cada 8 horas si hay dolor'),
  amoxicillin: med('Amoxicilina 500 mg cápsula', 'AMOXICILINA 500 MG', 'J01CA04', '723', '1 cápsula cada 8 horas por 7 días'),
  ibuprofen: med('Ibuprofeno 400 mg comprimido', 'IBUPROFENO 400 MG', 'M01AE01', '5640', '1 comprimido cada 8 horas por 5 días'),
  nitrofurantoin: med('Nitrofurantoína 100 mg cápsula', 'NITROFURANTOINA 100 MG', 'J01XE01', '7454', '1 cápsula cada 6 horas por 7 días'),
  loratadine: med('Loratadina 10 mg comprimido', 'LORATADINA 10 MG', 'R06AX13', '28889', '1 comprimido al día'),
} as const;

const problem = (
  icd10: string,
  snomed: string | null,
  text: string,
  course: Problem['course'],
  ages: readonly [number, number],
  seenAt: Problem['seenAt'],
  medications: readonly Medication[],
): Problem => ({ icd10, snomed, text, course, ages, seenAt, medications });

// biome-ignore format: one problem per line reads as a table
export const PROBLEMS: readonly Problem[] = [
  problem('I10', '59621000', 'Hipertensión arterial esencial', 'chronic', [30, 99], 'ambulatory', [MEDICATIONS.losartan, MEDICATIONS.amlodipine, MEDICATIONS.enalapril]),
  problem('E11.9', '44054006', 'Diabetes mellitus tipo 2', 'chronic', [35, 99], 'ambulatory', [MEDICATIONS.metformin, MEDICATIONS.glargine]),
  problem('E03.9', '40930008', 'Hipotiroidismo', 'chronic', [18, 99], 'ambulatory', [MEDICATIONS.levothyroxine]),
  problem('E78.5', '55822004', 'Dislipidemia', 'chronic', [30, 99], 'ambulatory', [MEDICATIONS.atorvastatin]),
  problem('J45.9', '195967001', 'Asma bronquial', 'chronic', [4, 99], 'ambulatory', [MEDICATIONS.salbutamol, MEDICATIONS.budesonide]),
  problem('J44.9', '13645005', 'Enfermedad pulmonar obstructiva crónica', 'chronic', [50, 99], 'ambulatory', [MEDICATIONS.tiotropium, MEDICATIONS.salbutamol]),
  problem('F32.9', '35489007', 'Episodio depresivo', 'chronic', [15, 99], 'ambulatory', [MEDICATIONS.sertraline, MEDICATIONS.escitalopram]),
  problem('F41.9', '197480006', 'Trastorno de ansiedad', 'chronic', [15, 99], 'ambulatory', [MEDICATIONS.sertraline]),
  problem('K21.9', '235595009', 'Reflujo gastroesofágico', 'chronic', [18, 99], 'ambulatory', [MEDICATIONS.omeprazole]),
  problem('I48.9', '49436004', 'Fibrilación auricular', 'chronic', [55, 99], 'ambulatory', [MEDICATIONS.bisoprolol]),
  problem('I50.9', '84114007', 'Insuficiencia cardíaca', 'chronic', [60, 99], 'ambulatory', [MEDICATIONS.furosemide, MEDICATIONS.bisoprolol]),
  problem('E66.9', '414916001', 'Obesidad', 'chronic', [12, 99], 'ambulatory', []),
  problem('G43.9', '37796009', 'Migraña', 'chronic', [12, 70], 'ambulatory', [MEDICATIONS.naproxen]),
  problem('M17.9', '239873007', 'Artrosis de rodilla', 'chronic', [50, 99], 'ambulatory', [MEDICATIONS.paracetamol]),
  problem('J30.4', '61582004', 'Rinitis alérgica', 'chronic', [5, 70], 'ambulatory', [MEDICATIONS.loratadine]),
  problem('H66.9', '65363002', 'Otitis media aguda', 'acute', [0, 12], 'emergency', [MEDICATIONS.amoxicillin]),
  problem('J18.9', '233604007', 'Neumonía', 'acute', [0, 99], 'inpatient', [MEDICATIONS.amoxicillin]),
  problem('S93.4', '44465007', 'Esguince de tobillo', 'acute', [8, 70], 'emergency', [MEDICATIONS.ibuprofen]),
  problem('N39.0', '68566005', 'Infección urinaria', 'acute', [15, 99], 'ambulatory', [MEDICATIONS.nitrofurantoin]),
  problem('K35.8', '85189001', 'Apendicitis aguda', 'acute', [5, 70], 'inpatient', []),
  problem('N20.0', '95570007', 'Litiasis renal', 'acute', [20, 80], 'emergency', [MEDICATIONS.ibuprofen]),
  problem('J20.9', '10509002', 'Bronquitis aguda', 'acute', [0, 99], 'ambulatory', [MEDICATIONS.paracetamol]),
  problem('R50.9', null, 'Fiebre', 'acute', [0, 15], 'emergency', [MEDICATIONS.paracetamol]),
  problem('S61.9', null, 'Herida de la mano', 'acute', [5, 80], 'emergency', []),
];

const allergen = (
  agent: string,
  snomed: string | null,
  rxcui: string | null,
  category: Allergen['category'],
  type: Allergen['type'],
  reactions: readonly string[],
): Allergen => ({ agent, snomed, rxcui, category, type, reactions });

// biome-ignore format: one allergen per line reads as a table
export const ALLERGENS: readonly Allergen[] = [
  allergen('Penicilina', '764146007', '70618', 'medication', 'allergy', ['Urticaria', 'Prurito', 'Angioedema']),
  allergen('Ácido acetilsalicílico', '387458008', '1191', 'medication', 'allergy', ['Broncoespasmo', 'Urticaria']),
  allergen('Ibuprofeno', '387207008', '5640', 'medication', 'allergy', ['Angioedema', 'Exantema']),
  allergen('Sulfametoxazol', null, '10180', 'medication', 'allergy', ['Exantema', 'Prurito']),
  allergen('Metamizol', null, null, 'medication', 'allergy', ['Exantema']),
  allergen('Codeína', '387494007', '2670', 'medication', 'intolerance', ['Náuseas', 'Vómitos']),
  allergen('Enalapril', '372658000', '3827', 'medication', 'intolerance', ['Tos seca']),
  allergen('Maní', '762952008', null, 'food', 'allergy', ['Angioedema', 'Anafilaxia', 'Urticaria']),
  allergen('Huevo', '102263004', null, 'food', 'allergy', ['Eritema peribucal', 'Urticaria']),
  allergen('Leche de vaca', '3718001', null, 'food', 'intolerance', ['Dolor abdominal', 'Diarrea']),
  allergen('Mariscos', null, null, 'food', 'allergy', ['Anafilaxia', 'Urticaria']),
  allergen('Ácaros del polvo', '260147004', null, 'environment', 'allergy', ['Rinitis', 'Estornudos']),
  allergen('Látex', '111088007', null, 'environment', 'allergy', ['Dermatitis de contacto']),
];

/** Why people come without a coded problem, by kind of visit. */
export const VISIT_REASONS = {
  ambulatory: [
    'Control de salud',
    'Examen preventivo',
    'Dolor lumbar',
    'Cansancio',
    'Resultados de exámenes',
    'Mareos',
  ],
  emergency: [
    'Dolor abdominal',
    'Dolor torácico',
    'Cefalea intensa',
    'Caída',
    'Dificultad respiratoria',
  ],
  inpatient: ['Dolor abdominal', 'Descompensación', 'Observación'],
  virtual: ['Resultados de exámenes', 'Renovación de receta'],
} as const;
