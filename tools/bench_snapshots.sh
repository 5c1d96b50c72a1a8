#!/usr/bin/env bash
# Measures what snapshots cost and save as the number of symbols grows:
# `blotter run`, `state` and `verify` on journals with snapshots (the default,
# one every 100000 events and one at the end) and without (--snapshot-every 0,
# so `state` replays every event). Input: N symbols x 6 one-minute bars, one
# CSV row per symbol per minute, generated here. Prints a Markdown table (also
# written to build-bench/bench_snapshots.md) for docs/PERFORMANCE.md.
# Usage: tools/bench_snapshots.sh [SYMBOL_COUNTS ("1 1000 10000 50000")]
# BLOTTER=path/to/blotter uses that binary instead of building a Release tree.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=${1:-1 1000 10000 50000}
out=build-bench
if [[ -z ${BLOTTER:-} ]]; then
  BLOTTER_BUILD_DIR=$out tools/setup.sh -DCMAKE_BUILD_TYPE=Release -DBLOTTER_BUILD_TESTS=OFF >/dev/null
  BLOTTER=$out/blotter
fi
mkdir -p $out
command -v /usr/bin/time >/dev/null || { echo "bench_snapshots.sh needs /usr/bin/time (apt-get install time)"; exit 2; }
data=$(mktemp -d /tmp/blotter-bench-snapshots.XXXXXX)
trap 'rm -rf "$data"' EXIT

# Runs a command, prints "seconds max_rss_mib".
measure() {
  /usr/bin/time -f '%e %M' -o "$data/time" "$@" >/dev/null 2>"$data/stderr" ||
    { cat "$data/stderr"; exit 1; }
  awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$data/time"
}

# N symbols, 6 minutes: each minute one bar per symbol, prices that cross a
# 5-bar average so that there are signals, orders, fills and open positions.
generate() {
  awk -v n="$1" 'BEGIN {
    print "timestamp,symbol,open,high,low,close,volume"
    for (m = 0; m < 6; ++m)
      for (s = 0; s < n; ++s) {
        c = 100 + (s % 7) + ((m * 5 + s) % 4) - (m == 5 ? 3 : 0)
        printf "%d,S%06d,%d,%d,%d,%d,100\n", 1704186000 + 60 * m, s, c, c + 1, c - 1, c
      }
  }'
}

table="| symbols | events | snapshots | run s (MiB) | run, --snapshot-every 0 s (MiB) | state s (MiB) | state, full replay s (MiB) | verify s (MiB) | verify, no snapshots s (MiB) |
|---|---|---|---|---|---|---|---|---|"
for n in $counts; do
  echo "$n symbols" >&2
  generate "$n" >"$data/bars.csv"
  rm -f "$data"/s.db* "$data"/n.db*
  read -r run_s run_m < <(measure "$BLOTTER" run --bars "$data/bars.csv" --window 5 --journal "$data/s.db")
  read -r run0_s run0_m < <(measure "$BLOTTER" run --bars "$data/bars.csv" --window 5 --journal "$data/n.db" --snapshot-every 0)
  read -r state_s state_m < <(measure "$BLOTTER" state "$data/s.db" --format json)
  read -r state0_s state0_m < <(measure "$BLOTTER" state "$data/n.db" --format json)
  # The two journals must give the same state: the snapshot is a shortcut, not another answer.
  cmp -s <("$BLOTTER" state "$data/s.db" --format json) <("$BLOTTER" state "$data/n.db" --format json) ||
    { echo "state differs with and without snapshots at $n symbols"; exit 1; }
  read -r verify_s verify_m < <(measure "$BLOTTER" verify "$data/s.db")
  read -r verify0_s verify0_m < <(measure "$BLOTTER" verify "$data/n.db")
  events=$(sqlite3 "$data/s.db" "SELECT max(seq) FROM events")
  snapshots=$(sqlite3 "$data/s.db" "SELECT count(*) FROM snapshots")
  table+="
| $n | $events | $snapshots | $run_s ($run_m) | $run0_s ($run0_m) | $state_s ($state_m) | $state0_s ($state0_m) | $verify_s ($verify_m) | $verify0_s ($verify0_m) |"
done
echo "$table" | tee $out/bench_snapshots.md
