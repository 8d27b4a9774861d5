-- fan-out-reverse-reference: 1 statement(s); line breaks added before JOIN, WHERE, ORDER BY, UNION ALL

-- [1]
SELECT * FROM (SELECT f.`vitals_id`, f.`patient_id`, f.`enc.encounter_datetime`, f.`height_cm`, f.`weight_kg`, f.`_fhirgate_item`, ROW_NUMBER() OVER (PARTITION BY f.`patient_id`
  ORDER BY f.`vitals_id`, f.`_fhirgate_item`) AS `_fhirgate_rn` FROM (SELECT * FROM (SELECT t.`vitals_id`, t.`patient_id`, j_enc.`encounter_datetime` AS `enc.encounter_datetime`, t.`height_cm`, t.`weight_kg`, 0 AS `_fhirgate_item` FROM `vitals` AS t
  LEFT JOIN `encounter` AS j_enc ON j_enc.`encounter_id` = t.`encounter_id`
  WHERE t.`voided` = ? AND t.`patient_id` IN (?, ?) AND NOT (t.`height_cm` IS NULL OR t.`height_cm` = ? OR t.`height_cm` = ?)) AS b0
UNION ALL
SELECT * FROM (SELECT t.`vitals_id`, t.`patient_id`, j_enc.`encounter_datetime` AS `enc.encounter_datetime`, t.`height_cm`, t.`weight_kg`, 1 AS `_fhirgate_item` FROM `vitals` AS t
  LEFT JOIN `encounter` AS j_enc ON j_enc.`encounter_id` = t.`encounter_id`
  WHERE t.`voided` = ? AND t.`patient_id` IN (?, ?) AND t.`weight_kg` IS NOT NULL) AS b1) AS f) AS r
  WHERE r.`_fhirgate_rn` <= ?
  ORDER BY r.`patient_id`, r.`_fhirgate_rn`
-- params: [0,"1","2",0,"",0,"1","2",1]
