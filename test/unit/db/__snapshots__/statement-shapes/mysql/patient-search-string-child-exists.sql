-- patient-search-string-child-exists: 2 statement(s); line breaks added before JOIN, WHERE, ORDER BY, UNION ALL

-- [1]
SELECT t.`patient_id`, j_person.`gender` AS `person.gender`, j_person.`birthdate` AS `person.birthdate` FROM `patient` AS t
  JOIN `person` AS j_person ON j_person.`person_id` = t.`patient_id`
  WHERE t.`voided` = ? AND j_person.`voided` = ? AND EXISTS (SELECT 1 FROM `person_name` AS c
  WHERE c.`person_id` = t.`patient_id` AND c.`voided` = ? AND c.`family_name` LIKE ? ESCAPE '!')
  ORDER BY t.`patient_id` LIMIT 10 OFFSET 0
-- params: [0,0,0,"smi%"]

-- [2]
SELECT c.`person_id`, c.`family_name`, c.`given_name` FROM `person_name` AS c
  WHERE c.`voided` = ? AND c.`person_id` = ?
  ORDER BY c.`person_id`, c.`preferred` DESC, c.`person_name_id`
-- params: [0,"1"]
