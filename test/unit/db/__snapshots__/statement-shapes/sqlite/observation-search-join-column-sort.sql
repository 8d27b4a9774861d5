-- observation-search-join-column-sort: 2 statement(s); line breaks added before JOIN, WHERE, ORDER BY, UNION ALL

-- [1]
SELECT t."obs_id", j_fsn."name" AS "fsn.name", j_short."name" AS "short.name", t."person_id", t."encounter_id", t."obs_datetime", t."value_numeric", t."concept_id" FROM "obs" AS t
  JOIN "concept" AS j_concept ON j_concept."concept_id" = t."concept_id"
  JOIN "concept_datatype" AS j_dt ON j_dt."concept_datatype_id" = j_concept."datatype_id"
  LEFT JOIN "concept_name" AS j_fsn ON j_fsn."concept_id" = t."concept_id" AND j_fsn."locale" = ? AND j_fsn."concept_name_type" = ? AND j_fsn."voided" = ?
  LEFT JOIN "concept_name" AS j_short ON j_short."concept_id" = t."concept_id" AND j_short."locale" = ? AND j_short."concept_name_type" = ? AND j_short."voided" = ?
  LEFT JOIN "encounter" AS j_enc ON j_enc."encounter_id" = t."encounter_id"
  WHERE t."voided" = ? AND NOT (EXISTS (SELECT 1 FROM "encounter" AS e1
  WHERE e1."encounter_id" = t."encounter_id" AND e1."voided" = ?)) AND EXISTS (SELECT 1 FROM "patient" AS e2
  WHERE e2."patient_id" = t."person_id" AND e2."voided" = ?) AND (t."value_numeric" IS NOT NULL OR (t."value_text" IS NOT NULL AND j_dt."name" IN (?, ?))) AND t."obs_datetime" <= ? AND (j_dt."name" = ? OR j_dt."name" = ?)
  ORDER BY j_dt."name" DESC, t."obs_datetime" DESC, t."obs_id" LIMIT 2 OFFSET 1
-- params: ["en","FULLY_SPECIFIED",0,"en","SHORT",0,0,1,0,"Text","N/A","2026-03-15","Numeric","Text"]

-- [2]
SELECT c."concept_id", k_src."name" AS "src.name", k_term."code" AS "term.code" FROM "concept_reference_map" AS c
  JOIN "concept_reference_term" AS k_term ON k_term."concept_reference_term_id" = c."concept_reference_term_id"
  JOIN "concept_reference_source" AS k_src ON k_src."concept_source_id" = k_term."concept_source_id"
  JOIN "concept_map_type" AS k_mt ON k_mt."concept_map_type_id" = c."concept_map_type_id"
  WHERE c."concept_id" IN (?, ?)
  ORDER BY c."concept_id", CASE WHEN k_mt."name" = ? THEN 1 ELSE 0 END DESC, k_mt."name", c."concept_map_id"
-- params: ["5089","5090","SAME-AS"]
