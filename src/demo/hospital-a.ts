/**
 * Hospital A, a public regional hospital with a home-grown HIS: one table per clinical concept,
 * Spanish column names, real DATE/DATETIME columns, `voided`/`anulado` flags for soft deletes,
 * and vital signs as one wide row per measurement session, where 0 or NULL means "not measured".
 * Diagnoses carry several codes in one column (`'ICD10:E11.9;SNOMED:44054006'`), prescriptions
 * an ATC code. Every person, RUT, phone number and clinical fact here is invented.
 */
import { formatRut, type SeedTable, type SeedValue } from './demo-hospital.js';

// Patients: id, RUT body, given, paternal surname, maternal surname, birth date, sex, voided.
type PatientRow = [
  number,
  number,
  string,
  string,
  string | null,
  string | null,
  string | null,
  0 | 1,
];

const PATIENTS: readonly PatientRow[] = [
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

// Phones: id, patient, type (CEL mobile, CASA home), number, deleted.
const PHONES: readonly (readonly SeedValue[])[] = [
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

// Physicians: id, RUT body, given names, both surnames in one column, sex, specialty, active,
// deleted.
type PhysicianRow = [number, number, string, string, 'M' | 'F', string, 0 | 1, 0 | 1];

const PHYSICIANS: readonly PhysicianRow[] = [
  [1, 12_447_803, 'Carolina Andrea', 'Fuentes Vidal', 'F', 'Medicina Interna', 1, 0],
  [2, 13_902_455, 'Andrés', 'Pizarro Lagos', 'M', 'Pediatría', 1, 0],
  [3, 15_118_276, 'Javiera', 'Muñoz Rivas', 'F', 'Medicina de Urgencia', 1, 0],
  [4, 9_874_120, 'Rodrigo Esteban', 'Salinas Ortega', 'M', 'Cardiología', 1, 0],
  [5, 16_550_932, 'Paula', 'Henríquez Soto', 'F', 'Medicina Familiar', 1, 0],
  [6, 11_620_489, 'Felipe', 'Araya Contreras', 'M', 'Cirugía General', 1, 0],
  // Retired: still the author of old encounters, so still served, but inactive.
  [7, 6_301_554, 'Gonzalo', 'Tapia Mella', 'M', 'Medicina Interna', 0, 0],
  // Created twice by mistake and deleted: never served.
  [8, 15_118_276, 'Javiera', 'Munoz Rivas', 'F', 'Medicina de Urgencia', 1, 1],
];

// Encounters: id, patient, physician, admitted, discharged, type (AMB ambulatory, URG
// emergency, HOSP inpatient), state, reason, voided.
// biome-ignore format: one seed row per line reads as a table
const ENCOUNTERS: readonly (readonly SeedValue[])[] = [
  [1, 1, 5, '2024-03-12 09:15:00', '2024-03-12 09:40:00', 'AMB', 'CERRADA', 'Control de hipotiroidismo', 0],
  [2, 1, 5, '2024-09-03 10:00:00', '2024-09-03 10:25:00', 'AMB', 'CERRADA', 'Control de hipotiroidismo', 0],
  [3, 2, 3, '2024-06-18 22:41:00', '2024-06-19 00:10:00', 'URG', 'CERRADA', 'Dolor de tobillo derecho tras caída', 0],
  [4, 3, 1, '2023-11-20 08:30:00', '2023-11-20 09:00:00', 'AMB', 'CERRADA', 'Disnea y sibilancias', 0],
  [5, 3, 3, '2024-07-02 03:12:00', '2024-07-02 06:45:00', 'URG', 'CERRADA', 'Crisis asmática', 0],
  [6, 3, 1, '2024-07-15 11:00:00', '2024-07-15 11:30:00', 'AMB', 'CERRADA', 'Control post crisis asmática', 0],
  [7, 4, 2, '2024-04-10 15:00:00', '2024-04-10 15:20:00', 'AMB', 'CERRADA', 'Control de niño sano', 0],
  [8, 4, 2, '2024-08-21 19:30:00', '2024-08-21 21:00:00', 'URG', 'CERRADA', 'Fiebre y otalgia', 0],
  [9, 5, 1, '2023-10-05 08:00:00', '2023-10-05 08:30:00', 'AMB', 'CERRADA', 'Control de diabetes', 0],
  [10, 5, 1, '2024-02-14 08:00:00', '2024-02-14 08:35:00', 'AMB', 'CERRADA', 'Control de diabetes e hipertensión', 0],
  [11, 5, 4, '2024-08-20 12:00:00', '2024-08-20 12:40:00', 'AMB', 'CERRADA', 'Evaluación cardiológica', 0],
  [12, 6, 4, '2024-05-02 14:20:00', '2024-05-09 11:00:00', 'HOSP', 'CERRADA', 'Insuficiencia cardíaca descompensada', 0],
  [13, 6, 4, '2024-06-01 09:30:00', '2024-06-01 10:00:00', 'AMB', 'CERRADA', 'Control post alta', 0],
  [14, 7, 5, '2024-01-22 16:00:00', '2024-01-22 16:25:00', 'AMB', 'CERRADA', 'Cansancio', 0],
  // Opened twice for the same visit; the duplicate was voided.
  [15, 7, 5, '2024-01-22 16:00:00', null, 'AMB', 'CERRADA', 'Cansancio', 1],
  [16, 8, 3, '2024-10-11 04:05:00', '2024-10-11 08:30:00', 'URG', 'CERRADA', 'Dolor lumbar intenso', 0],
  [17, 9, 5, '2024-05-06 10:30:00', '2024-05-06 11:00:00', 'AMB', 'CERRADA', 'Cefalea recurrente', 0],
  [18, 10, 1, '2024-03-28 09:00:00', '2024-03-28 09:20:00', 'AMB', 'CERRADA', 'Examen preventivo', 0],
  [19, 11, 4, '2024-02-02 11:00:00', '2024-02-02 11:30:00', 'AMB', 'CERRADA', 'Presión alta en control', 0],
  [20, 11, 4, '2024-11-05 11:00:00', '2024-11-05 11:25:00', 'AMB', 'CERRADA', 'Control de hipertensión', 0],
  [21, 12, 1, '2024-07-14 18:00:00', '2024-07-20 12:00:00', 'HOSP', 'CERRADA', 'Exacerbación de EPOC', 0],
  [22, 12, 1, '2024-08-12 08:45:00', '2024-08-12 09:15:00', 'AMB', 'CERRADA', 'Control post alta', 0],
  [23, 12, 3, '2025-01-03 02:30:00', '2025-01-03 05:00:00', 'URG', 'CERRADA', 'Disnea', 0],
  [24, 13, 2, '2024-06-03 10:00:00', '2024-06-03 10:20:00', 'AMB', 'CERRADA', 'Control de niño sano', 0],
  [25, 15, 5, '2024-04-16 12:00:00', '2024-04-16 12:30:00', 'AMB', 'CERRADA', 'Control crónico', 0],
  [26, 16, 6, '2024-09-14 20:15:00', '2024-09-17 10:00:00', 'HOSP', 'CERRADA', 'Apendicitis aguda', 0],
  [27, 17, 5, '2024-03-07 15:30:00', '2024-03-07 16:00:00', 'AMB', 'CERRADA', 'Ánimo bajo', 0],
  [28, 17, 5, '2024-06-07 15:30:00', '2024-06-07 15:55:00', 'AMB', 'CERRADA', 'Control de salud mental', 0],
  [29, 18, 1, '2024-10-22 09:40:00', '2024-10-22 10:05:00', 'AMB', 'CERRADA', 'Pirosis', 0],
  [30, 19, 2, '2024-05-20 16:00:00', '2024-05-20 16:20:00', 'AMB', 'CERRADA', 'Tos nocturna', 0],
  // The patient did not come.
  [31, 20, 5, '2024-12-02 08:30:00', null, 'AMB', 'CANCELADA', 'Control', 0],
  [32, 20, 3, '2025-02-08 23:10:00', '2025-02-09 01:00:00', 'URG', 'CERRADA', 'Herida cortante en la mano', 0],
  [33, 21, 1, '2024-01-15 08:15:00', '2024-01-15 08:45:00', 'AMB', 'CERRADA', 'Control de diabetes', 0],
  [34, 21, 1, '2024-07-15 08:15:00', '2024-07-15 08:40:00', 'AMB', 'CERRADA', 'Control de diabetes', 0],
  [35, 22, 4, '2024-11-11 10:00:00', '2024-11-11 10:30:00', 'AMB', 'CERRADA', 'Control de hipertensión', 0],
  // Still in hospital: no discharge yet.
  [36, 22, 6, '2025-03-01 13:40:00', null, 'HOSP', 'EN_CURSO', 'Dolor abdominal', 0],
  [37, 24, 4, '2024-08-08 09:00:00', '2024-08-08 09:40:00', 'AMB', 'CERRADA', 'Palpitaciones', 0],
  [38, 25, 5, '2024-12-10 11:30:00', '2024-12-10 11:50:00', 'AMB', 'CERRADA', 'Control', 0],
  [39, 2, 1, '2025-01-20 09:00:00', '2025-01-20 09:20:00', 'AMB', 'CERRADA', 'Control de tobillo', 0],
  [40, 15, 7, '2023-05-04 10:00:00', '2023-05-04 10:30:00', 'AMB', 'CERRADA', 'Control crónico', 0],
];

// Vital signs, one wide row per session: id, encounter, patient, taken at, height (cm), weight
// (kg), systolic, diastolic (mm[Hg]), pulse (/min), voided. 0 and NULL both mean "not measured".
// biome-ignore format: one seed row per line reads as a table
const VITALS: readonly (readonly SeedValue[])[] = [
  [1, 1, 1, '2024-03-12 09:20:00', 162.0, 61.5, 112, 72, 68, 0],
  [2, 2, 1, '2024-09-03 10:05:00', 0, 62.3, 118, 76, 71, 0],
  [3, 3, 2, '2024-06-18 22:50:00', null, null, 128, 82, 96, 0],
  [4, 4, 3, '2023-11-20 08:35:00', 158.5, 70.2, 120, 80, 88, 0],
  [5, 5, 3, '2024-07-02 03:20:00', null, null, 134, 86, 118, 0],
  [6, 5, 3, '2024-07-02 05:30:00', null, null, 122, 78, 96, 0],
  [7, 6, 3, '2024-07-15 11:05:00', 158.5, 69.8, 118, 76, 80, 0],
  // Children's blood pressure is not taken at routine visits here.
  [8, 7, 4, '2024-04-10 15:05:00', 127.3, 26.4, 0, 0, 92, 0],
  [9, 8, 4, '2024-08-21 19:40:00', null, 26.9, null, null, 124, 0],
  [10, 9, 5, '2023-10-05 08:05:00', 155.0, 82.4, 142, 88, 76, 0],
  [11, 10, 5, '2024-02-14 08:05:00', 0, 81.0, 138, 86, 74, 0],
  [12, 11, 5, '2024-08-20 12:05:00', 155.0, 79.6, 132, 82, 70, 0],
  [13, 12, 6, '2024-05-02 14:30:00', 171.0, 88.7, 158, 94, 104, 0],
  [14, 12, 6, '2024-05-05 08:00:00', 0, 85.2, 136, 84, 88, 0],
  [15, 12, 6, '2024-05-09 08:00:00', 0, 83.9, 128, 78, 76, 0],
  [16, 13, 6, '2024-06-01 09:35:00', 171.0, 84.5, 126, 78, 72, 0],
  [17, 14, 7, '2024-01-22 16:05:00', 165.2, 54.0, 104, 64, 82, 0],
  // Typed 156.2 for 165.2 and voided.
  [18, 14, 7, '2024-01-22 16:06:00', 156.2, 54.0, 104, 64, 82, 1],
  [19, 16, 8, '2024-10-11 04:15:00', null, null, 146, 92, 102, 0],
  [20, 17, 9, '2024-05-06 10:35:00', 168.0, 63.1, 110, 70, 66, 0],
  // Only the weight was taken.
  [21, 18, 10, '2024-03-28 09:05:00', 0, 77.5, 0, 0, 0, 0],
  [22, 19, 11, '2024-02-02 11:05:00', 163.4, 71.9, 148, 94, 78, 0],
  [23, 20, 11, '2024-11-05 11:05:00', 0, 70.8, 134, 84, 74, 0],
  [24, 21, 12, '2024-07-14 18:20:00', null, 64.0, 150, 88, 110, 0],
  [25, 21, 12, '2024-07-17 08:00:00', null, null, 138, 82, 92, 0],
  [26, 22, 12, '2024-08-12 08:50:00', 166.0, 65.3, 136, 80, 84, 0],
  [27, 23, 12, '2025-01-03 02:40:00', null, null, 154, 90, 112, 0],
  [28, 24, 13, '2024-06-03 10:05:00', 98.6, 15.2, 0, 0, 110, 0],
  [29, 25, 15, '2024-04-16 12:05:00', 160.0, 68.4, 124, 80, 72, 0],
  [30, 26, 16, '2024-09-14 20:30:00', 174.5, 62.0, 118, 72, 108, 0],
  [31, 26, 16, '2024-09-16 08:00:00', null, null, 112, 70, 84, 0],
  [32, 27, 17, '2024-03-07 15:35:00', 161.0, 58.7, 108, 68, 70, 0],
  [33, 29, 18, '2024-10-22 09:45:00', 176.0, 91.2, 130, 84, 76, 0],
  [34, 30, 19, '2024-05-20 16:05:00', 151.3, 44.8, 102, 64, 88, 0],
  [35, 32, 20, '2025-02-08 23:20:00', null, null, 124, 76, 90, 0],
  [36, 33, 21, '2024-01-15 08:20:00', 157.0, 94.6, 136, 84, 78, 0],
  [37, 34, 21, '2024-07-15 08:20:00', 0, 91.8, 130, 80, 76, 0],
  [38, 35, 22, '2024-11-11 10:05:00', 169.0, 80.3, 144, 90, 70, 0],
  [39, 36, 22, '2025-03-01 13:50:00', null, 79.9, 150, 92, 104, 0],
  [40, 36, 22, '2025-03-02 08:00:00', null, null, 132, 82, 88, 0],
  [41, 37, 24, '2024-08-08 09:05:00', 170.0, 76.1, 128, 80, 132, 0],
  [42, 38, 25, '2024-12-10 11:35:00', 164.5, 57.9, 106, 68, 64, 0],
  [43, 39, 2, '2025-01-20 09:05:00', 178.0, 74.5, 120, 78, 70, 0],
  [44, 40, 15, '2023-05-04 10:05:00', 160.0, 70.1, 126, 82, 74, 0],
];

// Diagnoses: id, patient, encounter (NULL for ones carried over from paper records), codes
// ('SYSTEM:code' pairs joined by ';'), description, diagnosed on, state (ACTIVO, RESUELTO,
// INACTIVO), voided.
// biome-ignore format: one seed row per line reads as a table
const DIAGNOSES: readonly (readonly SeedValue[])[] = [
  [1, 1, 1, 'ICD10:E03.9;SNOMED:40930008', 'Hipotiroidismo', '2024-03-12', 'ACTIVO', 0],
  [2, 2, 3, 'ICD10:S93.4;SNOMED:44465007', 'Esguince de tobillo derecho', '2024-06-18', 'RESUELTO', 0],
  [3, 3, 4, 'ICD10:J45.9;SNOMED:195967001', 'Asma bronquial', '2023-11-20', 'ACTIVO', 0],
  [4, 4, 8, 'ICD10:H66.9;SNOMED:65363002', 'Otitis media aguda', '2024-08-21', 'RESUELTO', 0],
  [5, 5, 9, 'ICD10:E11.9;SNOMED:44054006', 'Diabetes mellitus tipo 2', '2023-10-05', 'ACTIVO', 0],
  [6, 5, 10, 'ICD10:I10;SNOMED:59621000', 'Hipertensión arterial esencial', '2024-02-14', 'ACTIVO', 0],
  [7, 6, 12, 'ICD10:I50.9;SNOMED:84114007', 'Insuficiencia cardíaca', '2024-05-02', 'ACTIVO', 0],
  // Coded in ICD-10 only.
  [8, 6, 12, 'ICD10:I10', 'Hipertensión arterial', '2024-05-02', 'ACTIVO', 0],
  [9, 7, 14, 'ICD10:D50.9;SNOMED:87522002', 'Anemia ferropénica', '2024-01-22', 'ACTIVO', 0],
  // Coded too vaguely, replaced by 9 and voided.
  [10, 7, 14, 'ICD10:D64.9', 'Anemia', '2024-01-22', 'ACTIVO', 1],
  [11, 8, 16, 'ICD10:N20.0;SNOMED:95570007', 'Litiasis renal', '2024-10-11', 'ACTIVO', 0],
  [12, 9, 17, 'ICD10:G43.9;SNOMED:37796009', 'Migraña', '2024-05-06', 'ACTIVO', 0],
  [13, 11, 19, 'ICD10:I10;SNOMED:59621000', 'Hipertensión arterial esencial', '2024-02-02', 'ACTIVO', 0],
  [14, 12, 21, 'ICD10:J44.9;SNOMED:13645005', 'Enfermedad pulmonar obstructiva crónica', '2024-07-14', 'ACTIVO', 0],
  [15, 12, null, 'ICD10:E11.9;SNOMED:44054006', 'Diabetes mellitus tipo 2', '2015-03-01', 'ACTIVO', 0],
  [16, 15, 25, 'ICD10:E03.9;SNOMED:40930008', 'Hipotiroidismo', '2024-04-16', 'ACTIVO', 0],
  [17, 15, 25, 'ICD10:E78.5;SNOMED:55822004', 'Dislipidemia', '2024-04-16', 'ACTIVO', 0],
  [18, 16, 26, 'ICD10:K35.8;SNOMED:85189001', 'Apendicitis aguda', '2024-09-14', 'RESUELTO', 0],
  [19, 17, 27, 'ICD10:F32.9;SNOMED:35489007', 'Episodio depresivo', '2024-03-07', 'ACTIVO', 0],
  [20, 18, 29, 'ICD10:K21.9;SNOMED:235595009', 'Reflujo gastroesofágico', '2024-10-22', 'ACTIVO', 0],
  [21, 19, 30, 'ICD10:J45.9;SNOMED:195967001', 'Asma bronquial', '2024-05-20', 'ACTIVO', 0],
  [22, 21, 33, 'ICD10:E11.9;SNOMED:44054006', 'Diabetes mellitus tipo 2', '2024-01-15', 'ACTIVO', 0],
  [23, 21, 33, 'ICD10:E66.9;SNOMED:414916001', 'Obesidad', '2024-01-15', 'ACTIVO', 0],
  [24, 22, 35, 'ICD10:I10;SNOMED:59621000', 'Hipertensión arterial esencial', '2024-11-11', 'ACTIVO', 0],
  [25, 22, 36, 'ICD10:K81.0;SNOMED:65275009', 'Colecistitis aguda', '2025-03-01', 'ACTIVO', 0],
  [26, 24, 37, 'ICD10:I48.9;SNOMED:49436004', 'Fibrilación auricular', '2024-08-08', 'ACTIVO', 0],
  [27, 3, 5, 'ICD10:J46', 'Crisis asmática severa', '2024-07-02', 'RESUELTO', 0],
  [28, 20, 32, 'ICD10:S61.9', 'Herida de la mano', '2025-02-08', 'RESUELTO', 0],
  [29, 10, 18, 'ICD10:Z00.0', 'Examen médico general', '2024-03-28', 'INACTIVO', 0],
];

// Allergies: id, patient, agent, SNOMED CT substance code, kind (MED drug, ALI food, AMB
// environment), ALERGIA or INTOLERANCIA, severity (LEVE, MODERADA, SEVERA), reaction,
// recorded on, state (ACTIVA, INACTIVA), voided.
// biome-ignore format: one seed row per line reads as a table
const ALLERGIES: readonly (readonly SeedValue[])[] = [
  [1, 1, 'Penicilina', '764146007', 'MED', 'ALERGIA', 'SEVERA', 'Urticaria generalizada', '2010-06-01', 'ACTIVA', 0],
  [2, 3, 'Ácido acetilsalicílico', '387458008', 'MED', 'ALERGIA', 'MODERADA', 'Broncoespasmo', '2023-11-20', 'ACTIVA', 0],
  [3, 4, 'Maní', '762952008', 'ALI', 'ALERGIA', 'SEVERA', 'Angioedema', '2019-02-11', 'ACTIVA', 0],
  [4, 6, 'Enalapril', '372658000', 'MED', 'INTOLERANCIA', 'LEVE', 'Tos seca', '2024-06-01', 'ACTIVA', 0],
  // Free text only: nobody coded it.
  [5, 8, 'Metamizol', null, 'MED', 'ALERGIA', 'MODERADA', 'Exantema', '2024-10-11', 'ACTIVA', 0],
  // From an old paper record: no reaction, no severity.
  [6, 12, 'Sulfas', null, 'MED', 'ALERGIA', null, null, '2001-01-01', 'ACTIVA', 0],
  // Outgrown.
  [7, 13, 'Huevo', '102263004', 'ALI', 'ALERGIA', 'LEVE', 'Eritema peribucal', '2021-08-15', 'INACTIVA', 0],
  [8, 19, 'Ácaros del polvo', '260147004', 'AMB', 'ALERGIA', 'LEVE', 'Rinitis', '2024-05-20', 'ACTIVA', 0],
  [9, 5, 'Látex', '111088007', 'AMB', 'ALERGIA', 'MODERADA', 'Dermatitis de contacto', '2018-09-30', 'ACTIVA', 0],
  // Entered on the wrong patient and voided.
  [10, 2, 'Penicilina', '764146007', 'MED', 'ALERGIA', null, null, '2024-06-18', 'ACTIVA', 1],
  [11, 21, 'Mariscos', null, 'ALI', 'ALERGIA', 'SEVERA', 'Anafilaxia', '2012-01-01', 'ACTIVA', 0],
];

// Prescriptions: id, patient, encounter, physician, drug, ATC code, dosage, prescribed at,
// state (VIGENTE, SUSPENDIDA, TERMINADA), voided.
// biome-ignore format: one seed row per line reads as a table
const PRESCRIPTIONS: readonly (readonly SeedValue[])[] = [
  [1, 1, 1, 5, 'Levotiroxina 50 mcg comprimido', 'H03AA01', '1 comprimido en ayunas cada 24 horas', '2024-03-12 09:38:00', 'VIGENTE', 0],
  [2, 2, 3, 3, 'Ibuprofeno 400 mg comprimido', 'M01AE01', '1 comprimido cada 8 horas por 5 días', '2024-06-19 00:05:00', 'TERMINADA', 0],
  [3, 3, 4, 1, 'Salbutamol 100 mcg inhalador', 'R03AC02', '2 inhalaciones cada 6 horas si hay disnea', '2023-11-20 08:55:00', 'VIGENTE', 0],
  [4, 3, 6, 1, 'Budesonida 200 mcg inhalador', 'R03BA02', '2 inhalaciones cada 12 horas', '2024-07-15 11:25:00', 'VIGENTE', 0],
  [5, 4, 8, 2, 'Amoxicilina 250 mg/5 ml suspensión', 'J01CA04', '7,5 ml cada 8 horas por 7 días', '2024-08-21 20:50:00', 'TERMINADA', 0],
  [6, 5, 9, 1, 'Metformina 850 mg comprimido', 'A10BA02', '1 comprimido con desayuno y cena', '2023-10-05 08:25:00', 'VIGENTE', 0],
  [7, 5, 10, 1, 'Losartán 50 mg comprimido', 'C09CA01', '1 comprimido cada 24 horas', '2024-02-14 08:30:00', 'VIGENTE', 0],
  [8, 6, 12, 4, 'Furosemida 40 mg comprimido', 'C03CA01', '1 comprimido en la mañana', '2024-05-09 10:30:00', 'VIGENTE', 0],
  // Stopped for the cough (see allergy 4), replaced by 10.
  [9, 6, 12, 4, 'Enalapril 10 mg comprimido', 'C09AA02', '1 comprimido cada 12 horas', '2024-05-09 10:30:00', 'SUSPENDIDA', 0],
  [10, 6, 13, 4, 'Losartán 50 mg comprimido', 'C09CA01', '1 comprimido cada 24 horas', '2024-06-01 09:55:00', 'VIGENTE', 0],
  [11, 7, 14, 5, 'Sulfato ferroso 200 mg comprimido', 'B03AA07', '1 comprimido al día por 3 meses', '2024-01-22 16:20:00', 'TERMINADA', 0],
  // Written on the voided duplicate encounter.
  [12, 7, 15, 5, 'Sulfato ferroso 200 mg comprimido', 'B03AA07', '1 comprimido al día por 3 meses', '2024-01-22 16:21:00', 'VIGENTE', 1],
  [13, 8, 16, 3, 'Ketorolaco 30 mg ampolla', 'M01AB15', '30 mg intravenoso por una vez', '2024-10-11 04:30:00', 'TERMINADA', 0],
  [14, 9, 17, 5, 'Sumatriptán 50 mg comprimido', 'N02CC01', '1 comprimido al inicio de la crisis', '2024-05-06 10:55:00', 'VIGENTE', 0],
  [15, 11, 19, 4, 'Amlodipino 5 mg comprimido', 'C08CA01', '1 comprimido cada 24 horas', '2024-02-02 11:25:00', 'VIGENTE', 0],
  [16, 12, 21, 1, 'Tiotropio 18 mcg cápsula para inhalar', 'R03BB04', '1 inhalación cada 24 horas', '2024-07-20 11:30:00', 'VIGENTE', 0],
  [17, 12, 22, 1, 'Metformina 850 mg comprimido', 'A10BA02', '1 comprimido con el almuerzo', '2024-08-12 09:10:00', 'VIGENTE', 0],
  [18, 15, 25, 5, 'Atorvastatina 20 mg comprimido', 'C10AA05', '1 comprimido en la noche', '2024-04-16 12:25:00', 'VIGENTE', 0],
  [19, 16, 26, 6, 'Cefazolina 1 g ampolla', 'J01DB04', '1 g intravenoso cada 8 horas', '2024-09-14 21:00:00', 'TERMINADA', 0],
  [20, 17, 27, 5, 'Sertralina 50 mg comprimido', 'N06AB06', '1 comprimido en la mañana', '2024-03-07 15:55:00', 'VIGENTE', 0],
  [21, 18, 29, 1, 'Omeprazol 20 mg cápsula', 'A02BC01', '1 cápsula en ayunas por 8 semanas', '2024-10-22 10:00:00', 'VIGENTE', 0],
  [22, 19, 30, 2, 'Salbutamol 100 mcg inhalador', 'R03AC02', '2 inhalaciones si hay tos o disnea', '2024-05-20 16:15:00', 'VIGENTE', 0],
  [23, 21, 33, 1, 'Metformina 850 mg comprimido', 'A10BA02', '1 comprimido con desayuno y cena', '2024-01-15 08:40:00', 'VIGENTE', 0],
  [24, 22, 36, 6, 'Ceftriaxona 1 g ampolla', 'J01DD04', '2 g intravenoso cada 24 horas', '2025-03-01 14:30:00', 'VIGENTE', 0],
  [25, 24, 37, 4, 'Acenocumarol 4 mg comprimido', 'B01AA07', 'Según controles de INR', '2024-08-08 09:35:00', 'VIGENTE', 0],
  [26, 24, 37, 4, 'Bisoprolol 2,5 mg comprimido', 'C07AB07', '1 comprimido cada 24 horas', '2024-08-08 09:35:00', 'VIGENTE', 0],
  [27, 20, 32, 3, 'Paracetamol 500 mg comprimido', 'N02BE01', '1 comprimido cada 8 horas si hay dolor', '2025-02-09 00:50:00', 'TERMINADA', 0],
];

/** Hospital A's tables and indexes, in creation order. */
export const HOSPITAL_A_DDL: readonly string[] = [
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
  `CREATE TABLE medicos (
  id_medico INTEGER PRIMARY KEY,
  rut VARCHAR(12),
  nombres VARCHAR(80),
  apellidos VARCHAR(80),
  sexo CHAR(1),
  especialidad VARCHAR(80),
  activo TINYINT NOT NULL DEFAULT 1,
  borrado TINYINT NOT NULL DEFAULT 0
)`,
  `CREATE TABLE atenciones (
  id INTEGER PRIMARY KEY,
  id_paciente INTEGER NOT NULL,
  id_medico INTEGER,
  fecha_ingreso DATETIME NOT NULL,
  fecha_egreso DATETIME NULL,
  tipo VARCHAR(4) NOT NULL,
  estado VARCHAR(12) NOT NULL,
  motivo VARCHAR(200),
  anulada TINYINT NOT NULL DEFAULT 0
)`,
  'CREATE INDEX ix_atenciones_paciente ON atenciones (id_paciente)',
  `CREATE TABLE signos_vitales (
  id INTEGER PRIMARY KEY,
  id_atencion INTEGER,
  id_paciente INTEGER NOT NULL,
  fecha DATETIME NOT NULL,
  talla_cm DECIMAL(5,1),
  peso_kg DECIMAL(5,1),
  pa_sistolica INTEGER,
  pa_diastolica INTEGER,
  pulso INTEGER,
  anulado TINYINT NOT NULL DEFAULT 0
)`,
  'CREATE INDEX ix_signos_vitales_paciente ON signos_vitales (id_paciente)',
  `CREATE TABLE diagnosticos (
  id INTEGER PRIMARY KEY,
  id_paciente INTEGER NOT NULL,
  id_atencion INTEGER,
  codigo VARCHAR(200),
  descripcion VARCHAR(200),
  fecha DATE,
  estado VARCHAR(10) NOT NULL,
  anulado TINYINT NOT NULL DEFAULT 0
)`,
  'CREATE INDEX ix_diagnosticos_paciente ON diagnosticos (id_paciente)',
  `CREATE TABLE alergias (
  id INTEGER PRIMARY KEY,
  id_paciente INTEGER NOT NULL,
  agente VARCHAR(120) NOT NULL,
  codigo_snomed VARCHAR(20),
  tipo_agente VARCHAR(3),
  clase VARCHAR(12),
  severidad VARCHAR(10),
  reaccion VARCHAR(200),
  fecha_registro DATE,
  estado VARCHAR(10) NOT NULL,
  anulado TINYINT NOT NULL DEFAULT 0
)`,
  'CREATE INDEX ix_alergias_paciente ON alergias (id_paciente)',
  `CREATE TABLE recetas (
  id INTEGER PRIMARY KEY,
  id_paciente INTEGER NOT NULL,
  id_atencion INTEGER,
  id_medico INTEGER,
  medicamento VARCHAR(200) NOT NULL,
  codigo_atc VARCHAR(10),
  posologia VARCHAR(200),
  fecha DATETIME NOT NULL,
  estado VARCHAR(10) NOT NULL,
  anulada TINYINT NOT NULL DEFAULT 0
)`,
  'CREATE INDEX ix_recetas_paciente ON recetas (id_paciente)',
];

/** Hospital A's rows, parents before children. */
export const HOSPITAL_A_SEED: readonly SeedTable[] = [
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
    rows: PATIENTS.map(([id, rut, ...rest]) => [id, formatRut(rut), ...rest]),
  },
  {
    table: 'pacientes_telefonos',
    columns: ['id', 'id_paciente', 'tipo', 'numero', 'borrado'],
    rows: PHONES,
  },
  {
    table: 'medicos',
    columns: [
      'id_medico',
      'rut',
      'nombres',
      'apellidos',
      'sexo',
      'especialidad',
      'activo',
      'borrado',
    ],
    rows: PHYSICIANS.map(([id, rut, ...rest]) => [id, formatRut(rut), ...rest]),
  },
  {
    table: 'atenciones',
    columns: [
      'id',
      'id_paciente',
      'id_medico',
      'fecha_ingreso',
      'fecha_egreso',
      'tipo',
      'estado',
      'motivo',
      'anulada',
    ],
    rows: ENCOUNTERS,
  },
  {
    table: 'signos_vitales',
    columns: [
      'id',
      'id_atencion',
      'id_paciente',
      'fecha',
      'talla_cm',
      'peso_kg',
      'pa_sistolica',
      'pa_diastolica',
      'pulso',
      'anulado',
    ],
    rows: VITALS,
  },
  {
    table: 'diagnosticos',
    columns: [
      'id',
      'id_paciente',
      'id_atencion',
      'codigo',
      'descripcion',
      'fecha',
      'estado',
      'anulado',
    ],
    rows: DIAGNOSES,
  },
  {
    table: 'alergias',
    columns: [
      'id',
      'id_paciente',
      'agente',
      'codigo_snomed',
      'tipo_agente',
      'clase',
      'severidad',
      'reaccion',
      'fecha_registro',
      'estado',
      'anulado',
    ],
    rows: ALLERGIES,
  },
  {
    table: 'recetas',
    columns: [
      'id',
      'id_paciente',
      'id_atencion',
      'id_medico',
      'medicamento',
      'codigo_atc',
      'posologia',
      'fecha',
      'estado',
      'anulada',
    ],
    rows: PRESCRIPTIONS,
  },
];
