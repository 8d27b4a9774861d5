-- encounter-search-reference: 1 statement(s); line breaks added before JOIN, WHERE, ORDER BY, UNION ALL

-- [1]
SELECT t.`encounter_id`, t.`patient_id`, t.`encounter_datetime` FROM `encounter` AS t
  WHERE t.`voided` = ? AND t.`patient_id` = ?
  ORDER BY t.`encounter_id` LIMIT 10 OFFSET 0
-- params: [0,"1"]
