-- views only
-- The runs view shows each run's strategy: its name, version, parameters
-- (canonical "key=value,..." text) and the SHA-256 of that configuration,
-- appended after the columns it had. Runs written before these manifest
-- fields existed read as they decode: ma_crossover, version 1, the
-- parameter window from `window`, and no hash.
-- A migration whose first line is "-- views only" changes nothing but views:
-- a read-only connection to a journal that lacks it gets its views as TEMP
-- views, so a journal of the previous release is read with today's views
-- without being changed.
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
LEFT JOIN events f ON f.type = 'RUN_FINISHED' AND json_extract(f.payload, '$.run_seq') = s.seq
WHERE s.type = 'RUN_STARTED';
