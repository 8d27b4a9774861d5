/**
 * Hospital B, a private clinic running a packaged system bought abroad and patched locally: one
 * full-name column, dates kept as `DD/MM/YYYY` text with `00/00/0000` for "unknown", H/M for
 * sex, vital signs in inches and pounds, and one OpenEMR-style `lists` table that holds problems,
 * allergies and medications apart only by its `type` column. Soft deletes are `eliminado` flags.
 * Every person, RUT and clinical fact here is invented.
 */
import { formatRut, type SeedTable, type SeedValue } from './demo-hospital.js';

// Patients: id, RUT body, full name (given names first, two surnames), birth date as DD/MM/YYYY
// text ('00/00/0000' when unknown), sex (H hombre, M mujer), active.
type PatientRow = [number, number, string, string | null, string | null, 0 | 1];

const PATIENTS: readonly PatientRow[] = [
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

// Extra names: id, patient, type, given names, surnames, order, deleted. Types: SOLTERA
// (maiden), ANTERIOR (former), SOCIAL (nombre social, Ley 21.120), APODO (nickname).
const NAMES: readonly (readonly SeedValue[])[] = [
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

// Professionals: id, RUT body, name as 'SURNAMES, GIVEN NAMES', profession, deleted.
type ProfessionalRow = [number, number, string, string, 0 | 1];

const PROFESSIONALS: readonly ProfessionalRow[] = [
  [1, 13_455_107, 'VALDES ROJAS, MARIA JOSE', 'MEDICO CIRUJANO', 0],
  [2, 16_020_893, 'ORTIZ FUENZALIDA, CRISTIAN', 'MEDICO CIRUJANO', 0],
  [3, 17_884_312, 'BRAVO SAEZ, CAROLINA', 'ENFERMERA', 0],
  [4, 10_337_556, 'MUNOZ LEIVA, PABLO ANDRES', 'MEDICO CIRUJANO', 0],
  [5, 18_209_664, 'ESPINOZA TORO, ANDREA', 'MATRONA', 0],
  // Left the clinic before the system went live; deleted, never served.
  [6, 9_145_228, 'SILVA REYES, JORGE', 'MEDICO CIRUJANO', 1],
  [7, 19_563_081, 'CORTES VIDAL, FRANCISCA', 'KINESIOLOGA', 0],
];

// Visits: id, patient, professional, start and end as 'DD/MM/YYYY HH:mm' text ('00/00/0000
// 00:00' when there is none), modality (C consulta, U urgencia, H hospitalización, T
// teleconsulta), state (A atendida, E en atención, N no se presentó), reason, deleted.
// biome-ignore format: one seed row per line reads as a table
const VISITS: readonly (readonly SeedValue[])[] = [
  [1, 1, 1, '04/03/2024 08:30', '04/03/2024 08:50', 'C', 'A', 'CONTROL HTA', 0],
  [2, 1, 1, '02/09/2024 08:30', '02/09/2024 08:55', 'C', 'A', 'CONTROL HTA', 0],
  [3, 2, 5, '15/01/2024 10:00', '15/01/2024 10:30', 'C', 'A', 'CONTROL GINECOLOGICO', 0],
  [4, 2, 2, '28/07/2024 21:15', '28/07/2024 23:40', 'U', 'A', 'CEFALEA INTENSA', 0],
  [5, 3, 4, '11/04/2024 09:00', '11/04/2024 09:20', 'C', 'A', 'CONTROL DIABETES', 0],
  [6, 3, 4, '10/10/2024 09:00', '10/10/2024 09:25', 'T', 'A', 'CONTROL DIABETES', 0],
  [7, 4, 1, '20/02/2024 15:00', '20/02/2024 15:30', 'C', 'A', 'HIPOTIROIDISMO', 0],
  [8, 5, 4, '03/05/2022 11:00', '10/05/2022 12:00', 'H', 'A', 'NEUMONIA', 0],
  [9, 6, 1, '18/03/2024 11:30', '18/03/2024 12:00', 'C', 'A', 'DOLOR ARTICULAR', 0],
  [10, 6, 7, '25/03/2024 16:00', '25/03/2024 16:45', 'C', 'A', 'KINESIOTERAPIA', 0],
  [11, 7, 2, '05/06/2024 02:10', '05/06/2024 04:00', 'U', 'A', 'DOLOR TORACICO', 0],
  [12, 7, 4, '12/06/2024 10:00', '12/06/2024 10:30', 'C', 'A', 'CONTROL CARDIOLOGICO', 0],
  [13, 8, 1, '09/09/2024 09:15', '09/09/2024 09:40', 'C', 'A', 'ANSIEDAD', 0],
  [14, 9, 2, '14/02/2025 19:00', '14/02/2025 20:10', 'U', 'A', 'ESGUINCE RODILLA', 0],
  [15, 10, 4, '22/01/2024 08:00', '22/01/2024 08:30', 'C', 'A', 'CONTROL DIABETES', 0],
  [16, 10, 4, '22/07/2024 08:00', '22/07/2024 08:25', 'C', 'A', 'CONTROL DIABETES', 0],
  // The patient did not come.
  [17, 10, 4, '20/01/2025 08:00', '00/00/0000 00:00', 'C', 'N', 'CONTROL DIABETES', 0],
  [18, 11, 2, '30/11/2024 03:30', '30/11/2024 06:00', 'U', 'A', 'CRISIS ASMATICA', 0],
  [19, 12, 5, '08/05/2024 12:00', '08/05/2024 12:30', 'C', 'A', 'CONTROL PRENATAL', 0],
  [20, 13, 4, '02/12/2024 17:45', '09/12/2024 11:00', 'H', 'A', 'INSUFICIENCIA CARDIACA', 0],
  [21, 13, 4, '06/01/2025 10:00', '06/01/2025 10:40', 'C', 'A', 'CONTROL POST ALTA', 0],
  [22, 14, 1, '13/08/2024 16:00', '13/08/2024 16:20', 'C', 'A', 'CONTROL ADOLESCENTE', 0],
  [23, 15, 2, '01/04/2024 22:00', '02/04/2024 01:30', 'U', 'A', 'REACCION ALERGICA', 0],
  [24, 16, 1, '17/06/2024 09:30', '17/06/2024 10:00', 'C', 'A', 'CONTROL HTA', 0],
  // Registered twice; the copy was deleted.
  [25, 16, 1, '17/06/2024 09:30', '17/06/2024 10:00', 'C', 'A', 'CONTROL HTA', 1],
  [26, 17, 2, '21/03/2023 20:00', '21/03/2023 22:30', 'U', 'A', 'DOLOR ABDOMINAL', 0],
  [27, 18, 4, '07/10/2024 11:00', '07/10/2024 11:35', 'C', 'A', 'CONTROL DIABETES', 0],
  // Still in hospital.
  [28, 18, 4, '03/03/2025 08:00', '00/00/0000 00:00', 'H', 'E', 'PIE DIABETICO', 0],
  [29, 19, 1, '26/08/2024 15:00', '26/08/2024 15:20', 'C', 'A', 'ACNE', 0],
  [30, 20, 5, '11/11/2024 10:30', '11/11/2024 11:00', 'C', 'A', 'CONTROL', 0],
  [31, 21, 2, '19/12/2024 23:50', '20/12/2024 02:15', 'U', 'A', 'CRISIS HIPERTENSIVA', 0],
  [32, 22, 1, '15/05/2024 09:00', '15/05/2024 09:30', 'T', 'A', 'RESULTADOS DE EXAMENES', 0],
  [33, 23, 4, '28/02/2024 10:00', '28/02/2024 10:30', 'C', 'A', 'CONTROL EPOC', 0],
  [34, 23, 4, '29/08/2024 10:00', '29/08/2024 10:30', 'C', 'A', 'CONTROL EPOC', 0],
  [35, 24, 1, '04/04/2024 11:00', '04/04/2024 11:30', 'C', 'A', 'CONTROL HTA', 0],
  [36, 24, 7, '10/04/2024 15:00', '10/04/2024 15:45', 'C', 'A', 'KINESIOTERAPIA', 0],
  [37, 25, 3, '16/09/2024 09:00', '16/09/2024 09:15', 'C', 'A', 'CONTROL NINO SANO', 0],
  [38, 25, 2, '03/02/2025 18:30', '03/02/2025 19:30', 'U', 'A', 'FIEBRE', 0],
  [39, 4, 1, '19/08/2024 15:00', '19/08/2024 15:20', 'C', 'A', 'HIPOTIROIDISMO', 0],
];

// Vital signs, one wide row per session: id, visit, patient, taken at ('DD/MM/YYYY HH:mm'),
// height (in), weight (lb), blood pressure as 'systolic/diastolic' (split into two columns on
// seeding), heart rate (/min), deleted. NULL or '' means "not measured".
// biome-ignore format: one seed row per line reads as a table
const VITALS: readonly (readonly [number, number, number, string, number | null, number | null, string, number | null, 0 | 1])[] = [
  [1, 1, 1, '04/03/2024 08:35', 68.5, 187.4, '148/92', 78, 0],
  [2, 2, 1, '02/09/2024 08:35', null, 183.0, '136/86', 74, 0],
  [3, 3, 2, '15/01/2024 10:05', 63.0, 138.9, '112/70', 70, 0],
  [4, 4, 2, '28/07/2024 21:25', null, null, '152/96', 92, 0],
  [5, 5, 3, '11/04/2024 09:05', 66.1, 201.7, '132/84', 80, 0],
  [6, 7, 4, '20/02/2024 15:05', 64.2, 152.1, '118/74', 66, 0],
  [7, 8, 5, '03/05/2022 11:20', null, 143.3, '98/60', 118, 0],
  [8, 8, 5, '06/05/2022 08:00', null, null, '110/68', 96, 0],
  [9, 9, 6, '18/03/2024 11:35', 61.8, 165.3, '124/80', 72, 0],
  [10, 11, 7, '05/06/2024 02:20', null, null, '160/98', 108, 0],
  [11, 12, 7, '12/06/2024 10:05', 70.9, 198.4, '134/86', 70, 0],
  [12, 13, 8, '09/09/2024 09:20', 62.6, 127.9, '116/72', 88, 0],
  [13, 14, 9, '14/02/2025 19:10', 71.7, 163.1, '122/76', 84, 0],
  [14, 15, 10, '22/01/2024 08:05', 60.2, 176.4, '138/84', 76, 0],
  [15, 16, 10, '22/07/2024 08:05', null, 171.1, '130/80', 74, 0],
  [16, 18, 11, '30/11/2024 03:40', null, null, '128/82', 116, 0],
  [17, 19, 12, '08/05/2024 12:05', 64.6, 149.9, '108/66', 82, 0],
  [18, 20, 13, '02/12/2024 18:00', 65.0, 167.6, '156/90', 102, 0],
  [19, 20, 13, '05/12/2024 08:00', null, 160.9, '134/80', 86, 0],
  [20, 21, 13, '06/01/2025 10:05', null, 158.7, '128/78', 72, 0],
  // Adolescent check-up: no blood pressure.
  [21, 22, 14, '13/08/2024 16:05', 58.3, 97.0, '', 86, 0],
  [22, 23, 15, '01/04/2024 22:10', null, null, '102/60', 112, 0],
  [23, 24, 16, '17/06/2024 09:35', 61.0, 154.3, '142/88', 70, 0],
  // Taken on the deleted duplicate visit, deleted with it.
  [24, 25, 16, '17/06/2024 09:35', 61.0, 154.3, '142/88', 70, 1],
  [25, 26, 17, '21/03/2023 20:10', null, null, '126/80', 96, 0],
  [26, 27, 18, '07/10/2024 11:05', 59.1, 167.8, '146/86', 80, 0],
  [27, 28, 18, '03/03/2025 08:20', null, 163.6, '150/88', 98, 0],
  [28, 29, 19, '26/08/2024 15:05', 69.3, 145.5, '114/70', 68, 0],
  [29, 30, 20, '11/11/2024 10:35', 65.4, 136.7, '110/70', 64, 0],
  [30, 31, 21, '20/12/2024 00:05', null, null, '198/112', 94, 0],
  [31, 31, 21, '20/12/2024 01:45', null, null, '162/96', 84, 0],
  [32, 33, 23, '28/02/2024 10:05', 66.9, 174.2, '136/82', 88, 0],
  [33, 34, 23, '29/08/2024 10:05', null, 170.0, '132/80', 86, 0],
  [34, 35, 24, '04/04/2024 11:05', 59.4, 132.3, '150/84', 72, 0],
  [35, 37, 25, '16/09/2024 09:05', 50.4, 57.3, '', 98, 0],
  [36, 38, 25, '03/02/2025 18:40', null, 58.0, '', 132, 0],
  [37, 39, 4, '19/08/2024 15:05', 64.2, 149.9, '116/72', 64, 0],
];

// The `lists` table: id, patient, professional, type ('problem', 'allergy', 'medication', and
// 'surgery', which nothing maps), title, codes ('SYSTEM:code' pairs joined by ';'), begin and
// end (DATETIME), activity (1 active, 0 not), reactions (';'-separated) and severity
// (allergies only), comments, deleted.
// biome-ignore format: one seed row per line reads as a table
const LISTS: readonly (readonly SeedValue[])[] = [
  [1, 1, 1, 'problem', 'HIPERTENSION ARTERIAL', 'ICD10:I10;SNOMED-CT:59621000', '2015-06-10 00:00:00', null, 1, null, null, null, 0],
  [2, 2, 2, 'problem', 'MIGRANA', 'ICD10:G43.9', '2024-07-28 23:30:00', null, 1, null, null, 'CEFALEA HEMICRANEANA CON AURA', 0],
  [3, 3, 4, 'problem', 'DIABETES MELLITUS TIPO 2', 'ICD10:E11.9;SNOMED-CT:44054006', '2018-03-01 00:00:00', null, 1, null, null, null, 0],
  [4, 4, 1, 'problem', 'HIPOTIROIDISMO', 'ICD10:E03.9;SNOMED-CT:40930008', '2020-02-20 00:00:00', null, 1, null, null, null, 0],
  [5, 5, 4, 'problem', 'NEUMONIA', 'ICD10:J18.9;SNOMED-CT:233604007', '2022-05-03 11:00:00', '2022-05-10 12:00:00', 0, null, null, null, 0],
  [6, 6, 1, 'problem', 'ARTROSIS DE RODILLA', 'ICD10:M17.9;SNOMED-CT:239873007', '2024-03-18 11:45:00', null, 1, null, null, 'DERIVADA A KINESIOTERAPIA', 0],
  [7, 7, 4, 'problem', 'CARDIOPATIA CORONARIA', 'ICD10:I25.1;SNOMED-CT:53741008', '2024-06-12 10:20:00', null, 1, null, null, null, 0],
  [8, 8, 1, 'problem', 'TRASTORNO DE ANSIEDAD', 'ICD10:F41.9;SNOMED-CT:197480006', '2024-09-09 09:30:00', null, 1, null, null, null, 0],
  [9, 9, 2, 'problem', 'ESGUINCE DE RODILLA', 'ICD10:S83.6', '2025-02-14 19:30:00', '2025-03-14 00:00:00', 0, null, null, null, 0],
  [10, 10, 4, 'problem', 'DIABETES MELLITUS TIPO 2', 'ICD10:E11.9;SNOMED-CT:44054006', '2012-01-01 00:00:00', null, 1, null, null, null, 0],
  [11, 10, 4, 'problem', 'OBESIDAD', 'ICD10:E66.9;SNOMED-CT:414916001', '2024-01-22 08:20:00', null, 1, null, null, null, 0],
  [12, 11, 2, 'problem', 'ASMA', 'ICD10:J45.9;SNOMED-CT:195967001', '2024-11-30 04:00:00', null, 1, null, null, null, 0],
  [13, 13, 4, 'problem', 'INSUFICIENCIA CARDIACA', 'ICD10:I50.9;SNOMED-CT:84114007', '2024-12-02 18:30:00', null, 1, null, null, null, 0],
  [14, 13, 4, 'problem', 'FIBRILACION AURICULAR', 'ICD10:I48.9;SNOMED-CT:49436004', '2019-01-01 00:00:00', null, 1, null, null, null, 0],
  [15, 16, 1, 'problem', 'HIPERTENSION ARTERIAL', 'ICD10:I10;SNOMED-CT:59621000', '2010-01-01 00:00:00', null, 1, null, null, null, 0],
  [16, 18, 4, 'problem', 'DIABETES MELLITUS TIPO 2', 'ICD10:E11.9;SNOMED-CT:44054006', '2005-01-01 00:00:00', null, 1, null, null, null, 0],
  [17, 18, 4, 'problem', 'PIE DIABETICO', 'ICD10:E11.5', '2025-03-03 08:30:00', null, 1, null, null, null, 0],
  [18, 19, 1, 'problem', 'ACNE VULGAR', 'ICD10:L70.0;SNOMED-CT:88616000', '2024-08-26 15:10:00', null, 1, null, null, null, 0],
  [19, 21, 2, 'problem', 'HIPERTENSION ARTERIAL', 'ICD10:I10;SNOMED-CT:59621000', '2024-12-20 01:00:00', null, 1, null, null, null, 0],
  [20, 23, 4, 'problem', 'EPOC', 'ICD10:J44.9;SNOMED-CT:13645005', '2016-01-01 00:00:00', null, 1, null, null, null, 0],
  [21, 24, 1, 'problem', 'HIPERTENSION ARTERIAL', 'ICD10:I10;SNOMED-CT:59621000', '2000-01-01 00:00:00', null, 1, null, null, null, 0],
  [22, 24, 1, 'problem', 'OSTEOPOROSIS', 'ICD10:M81.0;SNOMED-CT:64859006', '2018-01-01 00:00:00', null, 1, null, null, null, 0],
  [23, 25, 2, 'problem', 'FIEBRE', 'ICD10:R50.9', '2025-02-03 19:00:00', '2025-02-06 00:00:00', 0, null, null, null, 0],
  [24, 12, 5, 'problem', 'EMBARAZO', 'ICD10:Z34.9', '2024-05-08 12:15:00', null, 1, null, null, null, 0],
  // A duplicate of 3 with a retired code; deleted.
  [25, 3, 4, 'problem', 'DIABETES', 'ICD10:E14', '2018-03-01 00:00:00', null, 1, null, null, null, 1],
  [26, 1, 1, 'allergy', 'PENICILINA', 'RXCUI:70618', '1990-01-01 00:00:00', null, 1, 'URTICARIA;PRURITO', 'moderate', null, 0],
  [27, 2, 2, 'allergy', 'ASPIRINA', 'RXCUI:1191', '2024-07-28 23:30:00', null, 1, 'ANGIOEDEMA;DISNEA', 'severe', null, 0],
  [28, 6, 1, 'allergy', 'LATEX', 'SNOMED-CT:111088007', '2015-01-01 00:00:00', null, 1, 'DERMATITIS', 'mild', null, 0],
  [29, 11, 2, 'allergy', 'MANI', 'SNOMED-CT:762952008', '2010-01-01 00:00:00', null, 1, 'ANAFILAXIA; URTICARIA;', 'severe', 'PORTA AUTOINYECTOR DE ADRENALINA', 0],
  [30, 15, 2, 'allergy', 'SULFAMETOXAZOL', 'RXCUI:10180', '2024-04-01 22:30:00', null, 1, 'EXANTEMA', 'moderate', null, 0],
  // No longer reacts.
  [31, 18, 4, 'allergy', 'CODEINA', 'RXCUI:2670', '2000-01-01 00:00:00', null, 0, 'NAUSEAS', 'mild', null, 0],
  [32, 24, 1, 'allergy', 'MARISCOS', null, '1980-01-01 00:00:00', null, 1, null, null, null, 0],
  [33, 9, 2, 'allergy', 'IBUPROFENO', 'RXCUI:5640', '2025-02-14 19:30:00', null, 1, 'PRURITO', 'mild', null, 1],
  [34, 1, 1, 'medication', 'LOSARTAN 50 MG', 'RXCUI:52175', '2015-06-10 00:00:00', null, 1, null, null, '1 COMPRIMIDO AL DIA', 0],
  [35, 3, 4, 'medication', 'METFORMINA 850 MG', 'RXCUI:6809', '2018-03-01 00:00:00', null, 1, null, null, '1 COMPRIMIDO CADA 12 HORAS', 0],
  [36, 3, 4, 'medication', 'INSULINA GLARGINA', 'RXCUI:274783', '2024-10-10 09:20:00', null, 1, null, null, '10 UI EN LA NOCHE', 0],
  [37, 4, 1, 'medication', 'LEVOTIROXINA 75 MCG', 'RXCUI:10582', '2020-02-20 00:00:00', null, 1, null, null, '1 COMPRIMIDO EN AYUNAS', 0],
  [38, 5, 4, 'medication', 'AMOXICILINA 1 G', 'RXCUI:723', '2022-05-03 12:00:00', '2022-05-10 12:00:00', 0, null, null, null, 0],
  [39, 7, 4, 'medication', 'ATORVASTATINA 40 MG', 'RXCUI:83367', '2024-06-12 10:25:00', null, 1, null, null, '1 COMPRIMIDO EN LA NOCHE', 0],
  [40, 7, 4, 'medication', 'ASPIRINA 100 MG', 'RXCUI:1191', '2024-06-12 10:25:00', null, 1, null, null, '1 COMPRIMIDO AL DIA', 0],
  [41, 8, 1, 'medication', 'SERTRALINA 50 MG', 'RXCUI:36437', '2024-09-09 09:35:00', null, 1, null, null, null, 0],
  [42, 10, 4, 'medication', 'METFORMINA 850 MG', 'RXCUI:6809', '2012-01-01 00:00:00', null, 1, null, null, null, 0],
  [43, 11, 2, 'medication', 'SALBUTAMOL INHALADOR', 'RXCUI:435', '2024-11-30 05:00:00', null, 1, null, null, '2 INHALACIONES SI HAY DISNEA', 0],
  [44, 13, 4, 'medication', 'FUROSEMIDA 40 MG', 'RXCUI:4603', '2024-12-09 10:30:00', null, 1, null, null, null, 0],
  [45, 13, 4, 'medication', 'WARFARINA 5 MG', 'RXCUI:11289', '2019-01-01 00:00:00', '2024-12-02 18:30:00', 0, null, null, null, 0],
  [46, 16, 1, 'medication', 'AMLODIPINO 10 MG', 'RXCUI:17767', '2010-01-01 00:00:00', null, 1, null, null, null, 0],
  [47, 18, 4, 'medication', 'METFORMINA 850 MG', 'RXCUI:6809', '2005-01-01 00:00:00', null, 1, null, null, null, 0],
  [48, 23, 4, 'medication', 'SALBUTAMOL INHALADOR', 'RXCUI:435', '2016-01-01 00:00:00', null, 1, null, null, null, 0],
  [49, 24, 1, 'medication', 'LOSARTAN 50 MG', 'RXCUI:52175', '2000-01-01 00:00:00', null, 1, null, null, null, 0],
  [50, 25, 2, 'medication', 'PARACETAMOL', 'RXCUI:161', '2025-02-03 19:10:00', '2025-02-06 00:00:00', 0, null, null, '500 MG CADA 8 HORAS SI HAY FIEBRE', 0],
  // Prescribed to an aspirin-allergic patient by mistake; deleted.
  [51, 2, 2, 'medication', 'IBUPROFENO 600 MG', 'RXCUI:5640', '2024-07-28 23:35:00', null, 1, null, null, null, 1],
  [52, 21, 2, 'medication', 'LOSARTAN 50 MG', 'RXCUI:52175', '2024-12-20 01:10:00', null, 1, null, null, null, 0],
  [53, 16, null, 'surgery', 'COLECISTECTOMIA', null, '2005-01-01 00:00:00', null, 0, null, null, null, 0],
];

/** Hospital B's tables and indexes, in creation order. */
export const HOSPITAL_B_DDL: readonly string[] = [
  `CREATE TABLE usuarios (
  id_usuario INTEGER PRIMARY KEY,
  rut_usr VARCHAR(12),
  nombre_usr VARCHAR(160),
  fecha_nacimiento VARCHAR(10),
  sexo CHAR(1),
  usr_activo TINYINT NOT NULL DEFAULT 1,
  fono_casa VARCHAR(20),
  fono_trabajo VARCHAR(20),
  celular VARCHAR(20)
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
  `CREATE TABLE profesionales (
  id_prof INTEGER PRIMARY KEY,
  rut VARCHAR(12),
  nombre VARCHAR(160),
  profesion VARCHAR(60),
  contacto_json VARCHAR(400),
  eliminado TINYINT NOT NULL DEFAULT 0
)`,
  `CREATE TABLE consultas (
  id_consulta INTEGER PRIMARY KEY,
  id_usuario INTEGER NOT NULL,
  id_prof INTEGER,
  fecha VARCHAR(16) NOT NULL,
  fecha_termino VARCHAR(16),
  modalidad CHAR(1) NOT NULL,
  estado CHAR(1) NOT NULL,
  motivo VARCHAR(120),
  eliminado TINYINT NOT NULL DEFAULT 0
)`,
  'CREATE INDEX ix_consultas_usuario ON consultas (id_usuario)',
  `CREATE TABLE signos (
  id_signo INTEGER PRIMARY KEY,
  id_consulta INTEGER,
  id_usuario INTEGER NOT NULL,
  fecha VARCHAR(16) NOT NULL,
  estatura_in DECIMAL(4,1),
  peso_lb DECIMAL(5,1),
  presion_sis INTEGER,
  presion_dia INTEGER,
  fc INTEGER,
  eliminado TINYINT NOT NULL DEFAULT 0
)`,
  'CREATE INDEX ix_signos_usuario ON signos (id_usuario)',
  `CREATE TABLE lists (
  id INTEGER PRIMARY KEY,
  id_usuario INTEGER NOT NULL,
  id_prof INTEGER,
  type VARCHAR(20) NOT NULL,
  title VARCHAR(200) NOT NULL,
  codes VARCHAR(255),
  begdate DATETIME,
  enddate DATETIME,
  activity TINYINT NOT NULL DEFAULT 1,
  reaction VARCHAR(120),
  severity VARCHAR(20),
  comments VARCHAR(255),
  eliminado TINYINT NOT NULL DEFAULT 0
)`,
  'CREATE INDEX ix_lists_usuario_type ON lists (id_usuario, type)',
  // The DBA's views for date search: the mapping language compares dates only on ISO text or
  // DATE/DATETIME columns, and these tables keep 'DD/MM/YYYY HH:mm'. CONCAT and SUBSTR work in
  // MariaDB and in SQLite 3.44+ alike; '00/00/0000 00:00' becomes '0000-00-00 00:00', which date
  // search keeps out of every range.
  `CREATE VIEW v_consultas AS
SELECT c.*, CONCAT(SUBSTR(c.fecha, 7, 4), '-', SUBSTR(c.fecha, 4, 2), '-', SUBSTR(c.fecha, 1, 2),
  ' ', SUBSTR(c.fecha, 12, 5)) AS fecha_iso
FROM consultas AS c`,
  `CREATE VIEW v_signos AS
SELECT s.*, CONCAT(SUBSTR(s.fecha, 7, 4), '-', SUBSTR(s.fecha, 4, 2), '-', SUBSTR(s.fecha, 1, 2),
  ' ', SUBSTR(s.fecha, 12, 5)) AS fecha_iso
FROM signos AS s`,
];

/** `'148/92'` -> `[148, 92]`; `''` -> `[null, null]`. */
function splitPressure(text: string): [number | null, number | null] {
  const [systolic, diastolic] = text.split('/');
  return systolic === undefined || diastolic === undefined || systolic === ''
    ? [null, null]
    : [Number(systolic), Number(diastolic)];
}

/**
 * Phones kept as three columns of `usuarios` (home, work, mobile), blank when unknown: every
 * patient has a mobile except every seventh, even ids a home phone, every third a work phone
 * (typed as `'  '` for patient 9, which the mapping drops like NULL). All numbers are invented.
 */
export function phones(id: number): [string | null, string | null, string | null] {
  const suffix = String(id).padStart(4, '0');
  const home = id % 2 === 0 ? `+5622000${suffix}` : null;
  const work = id === 9 ? '  ' : id % 3 === 0 ? `+5622100${suffix}` : null;
  const mobile = id % 7 === 0 ? null : `+5699000${suffix}`;
  return [home, work, mobile];
}

/**
 * Professionals' contacts as a JSON array in one text column, as the packaged system stores them:
 * `[{"tipo":"EMAIL","valor":...},{"tipo":"FONO","valor":...}]`; NULL or `[]` when none.
 */
export function contacts(id: number): string | null {
  if (id === 5) {
    return null;
  }
  if (id === 7) {
    return '[]';
  }
  const items = [{ tipo: 'EMAIL', valor: `profesional${id}@demo.fhirgate.invalid` }];
  if (id % 2 === 1) {
    items.push({ tipo: 'FONO', valor: `+5622300${String(id).padStart(4, '0')}` });
  }
  return JSON.stringify(items);
}

/** Hospital B's rows, parents before children. */
export const HOSPITAL_B_SEED: readonly SeedTable[] = [
  {
    table: 'usuarios',
    columns: [
      'id_usuario',
      'rut_usr',
      'nombre_usr',
      'fecha_nacimiento',
      'sexo',
      'usr_activo',
      'fono_casa',
      'fono_trabajo',
      'celular',
    ],
    rows: PATIENTS.map(([id, rut, ...rest]) => [id, formatRut(rut), ...rest, ...phones(id)]),
  },
  {
    table: 'usuarios_nombres',
    columns: ['id', 'id_usuario', 'tipo', 'nombres', 'apellidos', 'orden', 'eliminado'],
    rows: NAMES,
  },
  {
    table: 'profesionales',
    columns: ['id_prof', 'rut', 'nombre', 'profesion', 'eliminado', 'contacto_json'],
    rows: PROFESSIONALS.map(([id, rut, ...rest]) => [id, formatRut(rut), ...rest, contacts(id)]),
  },
  {
    table: 'consultas',
    columns: [
      'id_consulta',
      'id_usuario',
      'id_prof',
      'fecha',
      'fecha_termino',
      'modalidad',
      'estado',
      'motivo',
      'eliminado',
    ],
    rows: VISITS,
  },
  {
    table: 'signos',
    columns: [
      'id_signo',
      'id_consulta',
      'id_usuario',
      'fecha',
      'estatura_in',
      'peso_lb',
      'presion_sis',
      'presion_dia',
      'fc',
      'eliminado',
    ],
    rows: VITALS.map(([id, visit, patient, at, height, weight, pressure, rate, deleted]) => [
      id,
      visit,
      patient,
      at,
      height,
      weight,
      ...splitPressure(pressure),
      rate,
      deleted,
    ]),
  },
  {
    table: 'lists',
    columns: [
      'id',
      'id_usuario',
      'id_prof',
      'type',
      'title',
      'codes',
      'begdate',
      'enddate',
      'activity',
      'reaction',
      'severity',
      'comments',
      'eliminado',
    ],
    rows: LISTS,
  },
];
