-- fan-out-count: 1 statement(s); line breaks added before JOIN, WHERE, ORDER BY, UNION ALL

-- [1]
SELECT COUNT(*) AS "_fhirgate_n" FROM (SELECT * FROM (SELECT t."vitals_id", 0 AS "_fhirgate_item" FROM "vitals" AS t
  LEFT JOIN "encounter" AS j_enc ON j_enc."encounter_id" = t."encounter_id"
  WHERE t."voided" = ? AND t."vitals_id" IN (?, ?) AND NOT (t."height_cm" IS NULL OR t."height_cm" = ? OR t."height_cm" = ?)) AS b0
UNION ALL
SELECT * FROM (SELECT t."vitals_id", 1 AS "_fhirgate_item" FROM "vitals" AS t
  LEFT JOIN "encounter" AS j_enc ON j_enc."encounter_id" = t."encounter_id"
  WHERE t."voided" = ? AND t."vitals_id" = ? AND t."weight_kg" IS NOT NULL) AS b1) AS f
-- params: [0,1,2,0,"",0,2]
