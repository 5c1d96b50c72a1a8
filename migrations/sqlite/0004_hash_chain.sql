-- The hash chain: each event carries hash = SHA-256(previous event's hash ||
-- canonical bytes of this event), the first chaining from 32 zero bytes, so
-- any change, removal or reordering of recorded events is detected by
-- `blotter verify` (docs/HASH_CHAIN.md). Events journaled before this
-- migration get their hashes here, in seq order.
--
-- blotter_chain_hash(previous, seq, ts_ns, type, symbol, payload, recorded_ns)
-- is a C++ function that blotter registers on its writing connection; this
-- migration can only be applied by blotter (`blotter migrate`).

-- The backfill is the one UPDATE events will ever see: lift the append-only
-- guard for it, within this migration's transaction, and put it back after.
DROP TRIGGER events_no_update;

ALTER TABLE events ADD COLUMN hash BLOB CHECK (length(hash) = 32);

-- The chain in seq order: each step hashes the next row onto the previous hash.
WITH RECURSIVE chain(seq, hash) AS (
  SELECT 0, zeroblob(32)
  UNION ALL
  SELECT e.seq,
         blotter_chain_hash(chain.hash, e.seq, e.ts_ns, e.type, e.symbol, e.payload, e.recorded_ns)
  FROM chain JOIN events e ON e.seq = (SELECT min(seq) FROM events WHERE seq > chain.seq)
)
UPDATE events SET hash = chain.hash FROM chain WHERE events.seq = chain.seq;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
  SELECT RAISE(ABORT, 'the events table is append-only: UPDATE is not allowed');
END;

-- ALTER TABLE cannot add a NOT NULL column without a default; this does its job.
CREATE TRIGGER events_hash_required BEFORE INSERT ON events WHEN NEW.hash IS NULL
BEGIN
  SELECT RAISE(ABORT, 'every event must carry its hash (docs/HASH_CHAIN.md)');
END;

-- timeline gains the hash as hex text, last so that existing queries keep
-- their columns; the views built on timeline name their columns and are unaffected.
DROP VIEW timeline;
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
  strftime('%Y-%m-%dT%H:%M:%f', recorded_ns / 1000000000.0, 'unixepoch') || 'Z' AS recorded_at,
  lower(hex(hash)) AS hash
FROM events;
