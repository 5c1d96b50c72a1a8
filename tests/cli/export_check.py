#!/usr/bin/env python3
"""Checks a `blotter export --format csv` file as a user's script would read it.

Reads the export with Python's csv module and the journal with its sqlite3
module, and compares them row for row and field for field.
Usage: export_check.py EXPORT.csv JOURNAL.db [SQL condition on the exported columns]
Prints "N rows match" and exits 0, or names the first difference and exits 1.
"""
import csv
import pathlib
import sqlite3
import sys

HEADER = ["seq", "time", "ts_ns", "type", "symbol", "payload", "recorded_ns", "hash"]


def main(export, journal, where="1"):
    with open(export, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, strict=True))
    if not rows or rows[0] != HEADER:
        print(f"header: {rows[:1]}")
        return 1
    uri = pathlib.Path(journal).absolute().as_uri() + "?mode=ro"
    db = sqlite3.connect(uri, uri=True)
    expected = [["" if v is None else str(v) for v in row] for row in db.execute(
        "SELECT * FROM (SELECT t.seq, t.time, t.ts_ns, t.type, t.symbol, t.payload, e.recorded_ns,"
        " t.hash FROM timeline t JOIN events e ON e.seq = t.seq)"
        f" WHERE {where} ORDER BY seq")]
    got = rows[1:]
    if len(got) != len(expected):
        print(f"{len(got)} rows exported, {len(expected)} in the journal")
        return 1
    for g, e in zip(got, expected):
        if g != e:
            print(f"seq {e[0]}: exported {g}, journal {e}")
            return 1
    print(f"{len(expected)} rows match")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
