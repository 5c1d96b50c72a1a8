-- The events table without per-row work that the writer already guarantees,
-- so that appending costs little more than SQLite's own insert:
--  * events_by_time, an index entry per event, gives way to time_index, a
--    row per committed batch with its seq range and its range of event
--    times (a block-range index): a time range is found there first, then
--    read from the events in those seqs;
--  * the hash is NOT NULL in the table's definition, instead of the
--    BEFORE INSERT trigger events_hash_required (a trigger runs a
--    sub-program for every inserted row);
--  * the payload's CHECK (json_valid(payload) AND json_type(payload) =
--    'object') is gone: it parsed every payload twice on insert. blotter
--    writes only the canonical JSON of docs/JOURNAL_FORMAT.md, and `blotter
--    verify` decodes every payload and names any that is not.
-- The columns, their order and meaning, events_runs and the append-only
-- triggers are unchanged; the rows are copied as they are, hash included.
-- SQLite cannot change a column's constraints in place, so the table is
-- rebuilt: the views name `events` and are left as they are
-- (legacy_alter_table keeps the rename from re-checking them while the old
-- table is gone).
PRAGMA legacy_alter_table = ON;

CREATE TABLE events_v6 (
  seq INTEGER PRIMARY KEY,
  ts_ns INTEGER NOT NULL,
  type TEXT NOT NULL,
  symbol TEXT,
  payload TEXT NOT NULL,
  recorded_ns INTEGER NOT NULL,
  hash BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

INSERT INTO events_v6(seq, ts_ns, type, symbol, payload, recorded_ns, hash)
SELECT seq, ts_ns, type, symbol, payload, recorded_ns, hash FROM events ORDER BY seq;

-- Drops the old table's indexes and triggers with it.
DROP TABLE events;
ALTER TABLE events_v6 RENAME TO events;

PRAGMA legacy_alter_table = OFF;

CREATE INDEX events_runs ON events(seq) WHERE type IN ('RUN_STARTED', 'RUN_FINISHED');

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
  SELECT RAISE(ABORT, 'the events table is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
  SELECT RAISE(ABORT, 'the events table is append-only: DELETE is not allowed');
END;

-- Each committed batch of events: seqs first_seq..last_seq, whose ts_ns all
-- lie in min_ts..max_ts. The writer adds a row in the batch's own
-- transaction, so every committed event is in exactly one row. Events of a
-- time range: WHERE seq BETWEEN (SELECT min(first_seq) FROM time_index WHERE
-- max_ts >= :from) AND (SELECT max(last_seq) FROM time_index WHERE min_ts <=
-- :to) AND ts_ns BETWEEN :from AND :to.
CREATE TABLE time_index (
  first_seq INTEGER PRIMARY KEY,
  last_seq INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  CHECK (last_seq >= first_seq AND max_ts >= min_ts)
) STRICT;

-- The events journaled before this migration, in spans of 4096 seqs.
INSERT INTO time_index(first_seq, last_seq, min_ts, max_ts)
SELECT min(seq), max(seq), min(ts_ns), max(ts_ns) FROM events GROUP BY (seq - 1) / 4096;
