-- fan-out-read-by-ids: 1 statement(s); line breaks added before JOIN, WHERE, ORDER BY, UNION ALL

-- [1]
SELECT t.`vitals_id`, t.`patient_id`, j_enc.`encounter_datetime` AS `enc.encounter_datetime`, t.`height_cm`, t.`weight_kg`, CASE WHEN NOT (t.`height_cm` IS NULL OR t.`height_cm` = ? OR t.`height_cm` = ?) THEN 1 ELSE 0 END AS `_fhirgate_present_0`, CASE WHEN t.`weight_kg` IS NOT NULL THEN 1 ELSE 0 END AS `_fhirgate_present_1` FROM `vitals` AS t
  LEFT JOIN `encounter` AS j_enc ON j_enc.`encounter_id` = t.`encounter_id`
  WHERE t.`voided` = ? AND t.`vitals_id` IN (?, ?, ?, ?)
-- params: [0,"",0,1,2,3,4]
