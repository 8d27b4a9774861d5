-- patient-count-token-child-exists: 1 statement(s); line breaks added before JOIN, WHERE, ORDER BY, UNION ALL

-- [1]
SELECT COUNT(*) AS "_fhirgate_n" FROM "patient" AS t
  JOIN "person" AS j_person ON j_person."person_id" = t."patient_id"
  WHERE t."voided" = ? AND j_person."voided" = ? AND EXISTS (SELECT 1 FROM "patient_identifier" AS c
  JOIN "patient_identifier_type" AS k_idtype ON k_idtype."patient_identifier_type_id" = c."identifier_type"
  WHERE c."patient_id" = t."patient_id" AND c."voided" = ? AND (c."identifier" = ? OR c."identifier" = ?))
-- params: [0,0,0,"100-1","999-9"]
