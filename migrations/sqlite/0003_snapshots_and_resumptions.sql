-- Snapshots and resumed runs.
-- A snapshot is the state of the trading components (positions, PnL per day,
-- risk limits, strategy windows, pending orders) right after one event, so
-- `blotter state --at` and a resumed run replay only the events after it.
-- Snapshots are derived data: `blotter snapshot` rebuilds them from the
-- events, nothing requires them, and `state` ignores any it cannot read.
CREATE TABLE snapshots (
  seq INTEGER PRIMARY KEY,  -- the state right after this event
  run_seq INTEGER NOT NULL,  -- the RUN_STARTED of the run seq belongs to; 0 if none
  ts_ns INTEGER NOT NULL,  -- event time of seq
  format INTEGER NOT NULL,  -- the encoding of state
  state TEXT NOT NULL CHECK (json_valid(state) AND json_type(state) = 'object'),
  created_ns INTEGER NOT NULL  -- wall-clock time of writing
) STRICT;

-- A run killed before its RUN_FINISHED is resumed by running the same input
-- with the same options again: the resumed run skips the rows already
-- journaled and appends the rest, so the events are exactly those of an
-- uninterrupted run. Each resumption is recorded here (not as an event,
-- which would shift every later seq) and listed by the run's RUN_FINISHED.
CREATE TABLE run_resumptions (
  seq INTEGER PRIMARY KEY,  -- the first event the resumed run appended
  run_seq INTEGER NOT NULL,  -- the RUN_STARTED of the run it continues
  skipped_rows INTEGER NOT NULL,  -- input rows already journaled, not read again
  version TEXT NOT NULL,  -- the blotter that resumed
  recorded_ns INTEGER NOT NULL  -- wall-clock time of the resumption
) STRICT;

CREATE TRIGGER run_resumptions_no_update BEFORE UPDATE ON run_resumptions
BEGIN
  SELECT RAISE(ABORT, 'the run_resumptions table is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER run_resumptions_no_delete BEFORE DELETE ON run_resumptions
BEGIN
  SELECT RAISE(ABORT, 'the run_resumptions table is append-only: DELETE is not allowed');
END;

-- The runs view gains the number of times each run was resumed; its resumes
-- column (always NULL) is gone.
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
  s.payload AS config
FROM timeline s
LEFT JOIN events f ON f.type = 'RUN_FINISHED' AND json_extract(f.payload, '$.run_seq') = s.seq
WHERE s.type = 'RUN_STARTED';

-- Finding a journal's latest run (to resume it) reads this small index, not
-- every event. A scan for exactly these two types, in this order, uses it.
CREATE INDEX events_runs ON events(seq) WHERE type IN ('RUN_STARTED', 'RUN_FINISHED');
