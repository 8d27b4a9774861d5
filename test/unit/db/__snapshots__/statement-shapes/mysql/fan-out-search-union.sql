-- fan-out-search-union: 1 statement(s); line breaks added before JOIN, WHERE, ORDER BY, UNION ALL

-- [1]
SELECT * FROM (SELECT * FROM (SELECT t.`vitals_id`, t.`patient_id`, j_enc.`encounter_datetime` AS `enc.encounter_datetime`, t.`height_cm`, t.`weight_kg`, 0 AS `_fhirgate_item` FROM `vitals` AS t
  LEFT JOIN `encounter` AS j_enc ON j_enc.`encounter_id` = t.`encounter_id`
  WHERE t.`voided` = ? AND t.`patient_id` IN (?, ?) AND j_enc.`encounter_datetime` >= ? AND NOT (t.`height_cm` IS NULL OR t.`height_cm` = ? OR t.`height_cm` = ?)
  ORDER BY j_enc.`encounter_datetime` DESC, t.`vitals_id` LIMIT 3 OFFSET 0) AS b0
UNION ALL
SELECT * FROM (SELECT t.`vitals_id`, t.`patient_id`, j_enc.`encounter_datetime` AS `enc.encounter_datetime`, t.`height_cm`, t.`weight_kg`, 1 AS `_fhirgate_item` FROM `vitals` AS t
  LEFT JOIN `encounter` AS j_enc ON j_enc.`encounter_id` = t.`encounter_id`
  WHERE t.`voided` = ? AND t.`patient_id` IN (?, ?) AND j_enc.`encounter_datetime` >= ? AND t.`weight_kg` IS NOT NULL
  ORDER BY j_enc.`encounter_datetime` DESC, t.`vitals_id` LIMIT 3 OFFSET 0) AS b1) AS f
  ORDER BY f.`enc.encounter_datetime` DESC, f.`vitals_id`, f.`_fhirgate_item` LIMIT 2 OFFSET 1
-- params: [0,"1","2","2024-01-01",0,"",0,"1","2","2024-01-01"]
