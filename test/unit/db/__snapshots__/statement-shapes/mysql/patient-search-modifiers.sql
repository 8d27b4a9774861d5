-- patient-search-modifiers: 3 statement(s); line breaks added before JOIN, WHERE, ORDER BY, UNION ALL

-- [1]
SELECT t.`patient_id`, j_person.`gender` AS `person.gender`, j_person.`birthdate` AS `person.birthdate` FROM `patient` AS t
  JOIN `person` AS j_person ON j_person.`person_id` = t.`patient_id`
  WHERE t.`voided` = ? AND j_person.`voided` = ? AND t.`patient_id` IN (?, ?, ?) AND EXISTS (SELECT 1 FROM `person_name` AS c
  WHERE c.`person_id` = t.`patient_id` AND c.`voided` = ? AND (c.`family_name` = ? OR c.`family_name` = ?)) AND j_person.`birthdate` IS NOT NULL AND EXISTS (SELECT 1 FROM `patient_identifier` AS c
  JOIN `patient_identifier_type` AS k_idtype ON k_idtype.`patient_identifier_type_id` = c.`identifier_type`
  WHERE c.`patient_id` = t.`patient_id` AND c.`voided` = ? AND c.`identifier` IS NOT NULL)
  ORDER BY t.`patient_id` LIMIT 10 OFFSET 0
-- params: [0,0,1,2,3,0,"DOE","SMITH",0]

-- [2]
SELECT c.`person_id`, c.`family_name`, c.`given_name` FROM `person_name` AS c
  WHERE c.`voided` = ? AND c.`person_id` IN (?, ?)
  ORDER BY c.`person_id`, c.`preferred` DESC, c.`person_name_id`
-- params: [0,"1","2"]

-- [3]
SELECT c.`patient_id`, c.`identifier`, k_idtype.`name` AS `idtype.name` FROM `patient_identifier` AS c
  JOIN `patient_identifier_type` AS k_idtype ON k_idtype.`patient_identifier_type_id` = c.`identifier_type`
  WHERE c.`voided` = ? AND c.`patient_id` IN (?, ?)
  ORDER BY c.`patient_id`
-- params: [0,"1","2"]
