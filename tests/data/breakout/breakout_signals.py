#!/usr/bin/env python3
"""Reference signals of the Donchian-channel breakout, computed from the CSV
alone with Python's exact decimals (no blotter code), for the breakout tests.

The rule, per symbol, bar i (0-based) with high, low, close:
  above[i] = i >= entry and close[i] > max(high[i-entry .. i-1])
  below[i] = i >= exit  and close[i] < min(low[i-exit .. i-1])
  SIGNAL long on bar i when above[i] and not above[i-1] (above[-1] = false);
  else SIGNAL exit when below[i] and not below[i-1].
The current bar is never in its own channel.

usage:
  breakout_signals.py BARS.csv ENTRY EXIT            prints the signals
  breakout_signals.py --write DATA_DIR OUT_DIR       writes the reference files
  breakout_signals.py --check DATA_DIR OUT_DIR       exits 1 if they differ

Output: a header `date,signal,close,level`, then one row per signal: the bar's
date, `long` or `exit`, its close and the channel bound it crossed (the
highest high or the lowest low), decimals in their shortest exact text.
"""
import csv
import sys
from decimal import Decimal
from pathlib import Path

# (file in DATA_DIR, prefix of the reference files). Only GOOG's are kept in
# the repository: the MSFT series' licence (GPL) allows it in tests, not in
# the project, so its reference signals are computed when the test runs.
SERIES = [("goog_daily.csv", "goog")]
PAIRS = [(20, 10), (55, 20)]


def text(d):
    """The shortest exact text of a decimal: 100.34, 7, 0.5."""
    s = format(d.normalize(), "f")
    return s


def read_bars(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [(r["timestamp"][:10], Decimal(r["high"]), Decimal(r["low"]), Decimal(r["close"]))
            for r in rows]


def signals(bars, entry, exit_):
    out = []
    was_above = was_below = False
    for i, (date, _, _, close) in enumerate(bars):
        above = below = False
        upper = lower = None
        if i >= entry:
            upper = max(b[1] for b in bars[i - entry:i])
            above = close > upper
        if i >= exit_:
            lower = min(b[2] for b in bars[i - exit_:i])
            below = close < lower
        if above and not was_above:
            out.append((date, "long", close, upper))
        elif below and not was_below:
            out.append((date, "exit", close, lower))
        was_above, was_below = above, below
    return out


def render(rows):
    lines = ["date,signal,close,level"]
    lines += ["%s,%s,%s,%s" % (d, s, text(c), text(l)) for d, s, c, l in rows]
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) == 4 and argv[1] in ("--write", "--check"):
        data, out = Path(argv[2]), Path(argv[3])
        differ = False
        for csv_name, prefix in SERIES:
            if not (data / csv_name).exists():
                print("breakout_signals: skipped: %s is not here" % (data / csv_name))
                continue
            bars = read_bars(data / csv_name)
            for entry, exit_ in PAIRS:
                target = out / ("%s_%d_%d.csv" % (prefix, entry, exit_))
                expected = render(signals(bars, entry, exit_))
                if argv[1] == "--write":
                    target.write_text(expected)
                elif not target.exists() or target.read_text() != expected:
                    print("breakout_signals: %s differs from the script's output" % target)
                    differ = True
        return 1 if differ else 0
    if len(argv) == 4:
        sys.stdout.write(render(signals(read_bars(argv[1]), int(argv[2]), int(argv[3]))))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
