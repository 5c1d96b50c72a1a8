-- Runs: each `blotter run` journals a RUN_STARTED event (its configuration,
-- input file and SHA-256, blotter version) and a RUN_FINISHED with counts.
-- This view lists them, one row per RUN_STARTED; finished_seq is NULL for a
-- run that did not finish (killed, or still running).
CREATE VIEW runs AS
SELECT
  s.seq AS seq,
  s.time AS time,
  json_extract(s.payload, '$.input') AS input,
  json_extract(s.payload, '$.input_sha256') AS input_sha256,
  json_extract(s.payload, '$.version') AS version,
  json_extract(s.payload, '$.tz') AS tz,
  nullif(json_extract(s.payload, '$.resumes'), 0) AS resumes,
  f.seq AS finished_seq,
  json_extract(f.payload, '$.rows') AS rows,
  json_extract(f.payload, '$.events') AS events,
  s.payload AS config
FROM timeline s
LEFT JOIN events f ON f.type = 'RUN_FINISHED' AND json_extract(f.payload, '$.run_seq') = s.seq
WHERE s.type = 'RUN_STARTED';
