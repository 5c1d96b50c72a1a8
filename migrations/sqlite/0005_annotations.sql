-- Annotations: notes added to a journal after the fact (`blotter annotate`),
-- each an ANNOTATION event about one recorded event or one trading day. The
-- journal stays append-only: a correction is a new annotation. No other view
-- or component reads them; they do not change replay, state or resim.
CREATE VIEW annotations AS
SELECT seq, time,
  nullif(json_extract(payload, '$.refers_to_seq'), 0) AS refers_to_seq,
  nullif(json_extract(payload, '$.day'), '') AS day,
  nullif(json_extract(payload, '$.tag'), '') AS tag,
  json_extract(payload, '$.text') AS text
FROM timeline WHERE type = 'ANNOTATION';
