-- views only
-- A run whose input file has grown is continued: it goes on past its
-- RUN_FINISHED and finishes again, so it has one RUN_FINISHED for each time
-- it finished (the continuation is a row of run_resumptions). The runs view
-- shows each run once, with its last RUN_FINISHED: the rows and events of
-- the whole run. finished_seq is NULL while a continuation has not finished
-- (rows after the last RUN_FINISHED), as for any run that did not finish.
DROP VIEW runs;
CREATE VIEW runs AS
SELECT
  s.seq AS seq,
  s.time AS time,
  json_extract(s.payload, '$.input') AS input,
  json_extract(s.payload, '$.input_sha256') AS input_sha256,
  json_extract(s.payload, '$.version') AS version,
  json_extract(s.payload, '$.tz') AS tz,
  (SELECT count(*) FROM run_resumptions r WHERE r.run_seq = s.seq) AS resumptions,
  f.seq AS finished_seq,
  json_extract(f.payload, '$.rows') AS rows,
  json_extract(f.payload, '$.events') AS events,
  s.payload AS config,
  coalesce(json_extract(s.payload, '$.strategy'), 'ma_crossover') AS strategy,
  coalesce(json_extract(s.payload, '$.strategy_version'), 1) AS strategy_version,
  coalesce(json_extract(s.payload, '$.params'),
           CASE WHEN coalesce(json_extract(s.payload, '$.strategy'), 'ma_crossover') = 'ma_crossover'
                THEN 'window=' || json_extract(s.payload, '$.window') END) AS params,
  json_extract(s.payload, '$.strategy_sha256') AS strategy_sha256
FROM timeline s
LEFT JOIN events f ON f.seq = (
  -- The IN term lets the scan read the events_runs index alone.
  SELECT max(g.seq) FROM events g
  WHERE g.type IN ('RUN_STARTED', 'RUN_FINISHED') AND g.type = 'RUN_FINISHED'
    AND json_extract(g.payload, '$.run_seq') = s.seq)
  AND NOT EXISTS (
    SELECT 1 FROM events m
    WHERE m.type IN ('BAR', 'TICK') AND m.seq > f.seq
      AND m.seq < coalesce((SELECT min(n.seq) FROM events n
                            WHERE n.type IN ('RUN_STARTED', 'RUN_FINISHED')
                              AND n.type = 'RUN_STARTED' AND n.seq > s.seq), 1 << 62))
WHERE s.type = 'RUN_STARTED';
