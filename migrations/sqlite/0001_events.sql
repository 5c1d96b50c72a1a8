-- The journal: one append-only table of events and the typed views users query.
-- Every event published on the bus becomes one row; seq is gap-free and assigned
-- by blotter, ts_ns is the event's market time (ns since the Unix epoch, UTC).
PRAGMA application_id = 1112297300;  -- 'BLOT': marks the file as a blotter journal

CREATE TABLE schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_ns INTEGER NOT NULL
) STRICT;

CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  ts_ns INTEGER NOT NULL,
  type TEXT NOT NULL,
  symbol TEXT,
  payload TEXT NOT NULL CHECK (json_valid(payload) AND json_type(payload) = 'object'),
  recorded_ns INTEGER NOT NULL
) STRICT;

CREATE INDEX events_by_time ON events(ts_ns);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
  SELECT RAISE(ABORT, 'the events table is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
  SELECT RAISE(ABORT, 'the events table is append-only: DELETE is not allowed');
END;

-- Every event with its times as ISO-8601 UTC text. The other views read from it.
CREATE VIEW timeline AS
SELECT
  seq,
  strftime('%Y-%m-%dT%H:%M:%S', ts_ns / 1000000000 - (ts_ns % 1000000000 < 0), 'unixepoch')
    || CASE WHEN ts_ns % 1000000000 = 0 THEN 'Z'
            ELSE printf('.%09dZ', (ts_ns % 1000000000 + 1000000000) % 1000000000) END AS time,
  ts_ns,
  type,
  symbol,
  payload,
  strftime('%Y-%m-%dT%H:%M:%f', recorded_ns / 1000000000.0, 'unixepoch') || 'Z' AS recorded_at
FROM events;

-- Decimals are exact text in the payload; the views give them as SQL numbers
-- (REAL for prices and money, NUMERIC for quantities) for convenience.
CREATE VIEW bars AS
SELECT seq, time, symbol,
  CAST(json_extract(payload, '$.open') AS REAL) AS open,
  CAST(json_extract(payload, '$.high') AS REAL) AS high,
  CAST(json_extract(payload, '$.low') AS REAL) AS low,
  CAST(json_extract(payload, '$.close') AS REAL) AS close,
  CAST(json_extract(payload, '$.volume') AS NUMERIC) AS volume
FROM timeline WHERE type = 'BAR';

CREATE VIEW ticks AS
SELECT seq, time, symbol,
  CAST(json_extract(payload, '$.price') AS REAL) AS price,
  CAST(json_extract(payload, '$.volume') AS NUMERIC) AS volume
FROM timeline WHERE type = 'TICK';

CREATE VIEW signals AS
SELECT seq, time, symbol,
  json_extract(payload, '$.direction') AS direction,
  CAST(json_extract(payload, '$.price') AS REAL) AS price,
  json_extract(payload, '$.reason') AS reason
FROM timeline WHERE type = 'SIGNAL';

CREATE VIEW orders AS
SELECT seq, time, symbol,
  json_extract(payload, '$.side') AS side,
  CAST(json_extract(payload, '$.quantity') AS NUMERIC) AS quantity,
  CAST(json_extract(payload, '$.price') AS REAL) AS price,
  json_extract(payload, '$.signal_seq') AS signal_seq
FROM timeline WHERE type = 'ORDER';

CREATE VIEW fills AS
SELECT seq, time, symbol,
  json_extract(payload, '$.side') AS side,
  CAST(json_extract(payload, '$.quantity') AS NUMERIC) AS quantity,
  CAST(json_extract(payload, '$.price') AS REAL) AS price,
  CAST(json_extract(payload, '$.commission') AS REAL) AS commission,
  json_extract(payload, '$.order_seq') AS order_seq
FROM timeline WHERE type = 'FILL';

CREATE VIEW rejections AS
SELECT seq, time, symbol,
  json_extract(payload, '$.reason') AS reason,
  json_extract(payload, '$.direction') AS direction,
  json_extract(payload, '$.signal_seq') AS signal_seq
FROM timeline WHERE type = 'RISK_REJECTED';

CREATE VIEW handler_errors AS
SELECT seq, time, symbol,
  json_extract(payload, '$.handler') AS handler,
  json_extract(payload, '$.event_seq') AS event_seq,
  json_extract(payload, '$.error') AS error
FROM timeline WHERE type = 'HANDLER_ERROR';
