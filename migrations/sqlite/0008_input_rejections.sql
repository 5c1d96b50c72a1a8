-- views only
-- A live session journals an input row it could not read as an
-- INPUT_REJECTED event and goes on; this view lists them: the input line,
-- the field that was wrong (NULL for the row as a whole), the message a file
-- run gives for the row, and the row as read, escaped and cut short.
-- Journals without such events show an empty view.
CREATE VIEW input_rejections AS
SELECT seq, time,
  json_extract(payload, '$.line') AS line,
  nullif(json_extract(payload, '$.field'), '') AS field,
  json_extract(payload, '$.message') AS message,
  json_extract(payload, '$.row') AS row
FROM timeline WHERE type = 'INPUT_REJECTED';
