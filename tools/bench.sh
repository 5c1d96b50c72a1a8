#!/usr/bin/env bash
# Measures blotter on this machine, side by side with SQLite's own append
# ceiling and the seed's Python pipeline, all in one run so the ratios hold on
# a noisy machine. Prints a Markdown table (also written to
# build-bench/bench.md) for docs/PERFORMANCE.md.
# Usage: tools/bench.sh [ROWS (1000000)] [BIG_EVENTS (10000000)]
#        tools/bench.sh --read-back [ROWS]: only reading back against the raw
#        SQLite scan (section 4), on a journal of ROWS bars.
#        tools/bench.sh --latency: only a live session's latency (section 5).
# BLOTTER_BENCH_DIR (build-bench) is the Release build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
read_back_only=false
latency_only=false
if [[ ${1:-} == --read-back ]]; then
  read_back_only=true
  shift
elif [[ ${1:-} == --latency ]]; then
  latency_only=true
  shift
fi
rows=${1:-1000000}
big_events=${2:-10000000}
shared=../shared
out=${BLOTTER_BENCH_DIR:-build-bench}  # the Release build directory
BLOTTER_BUILD_DIR=$out tools/setup.sh -DCMAKE_BUILD_TYPE=Release -DBLOTTER_BUILD_TESTS=OFF >/dev/null
command -v /usr/bin/time >/dev/null || { echo "bench.sh needs /usr/bin/time (apt-get install time)"; exit 2; }
[[ -f $shared/bench/sqlite_limit.c && -f $shared/seed/seed_pipeline.py ]] ||
  { echo "bench.sh needs $shared/bench and $shared/seed for the baselines"; exit 2; }
cc -O2 -o $out/sqlite_limit $shared/bench/sqlite_limit.c -lsqlite3
cc -O2 -o $out/sqlite_scan tools/bench/sqlite_scan.c -lsqlite3
data=$(mktemp -d /tmp/blotter-bench.XXXXXX)
trap 'rm -rf "$data"' EXIT
blotter=$out/blotter

# Runs a command, prints "seconds max_rss_kib". Its output goes to $out_to.
out_to=$data/stdout
measure() {
  /usr/bin/time -f '%e %M' -o "$data/time" "$@" >"$out_to" 2>"$data/stderr" ||
    { cat "$data/stderr"; exit 1; }
  cat "$data/time"
}
rate() { python3 -c "print(f'{$1/$2:,.0f}')"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
mib() { python3 -c "print(f'{$1/1024:.0f}')"; }
events_of() { sqlite3 "$1" "SELECT max(seq) FROM events"; }

rows_md=()
row() { rows_md+=("| $1 | $2 | $3 | $4 |"); }


# 4. Reading back against SQLite's own floor: the raw scan steps the same rows
# in seq order and touches every column, decoding nothing
# (tools/bench/sqlite_scan.c). replay and a full state rebuild (no
# snapshots) are given as ratios of their rates to the scan's. CPU seconds
# (user + system), median of 3 runs of each, alternating: on a shared machine
# the wall clock also counts the time other processes hold the cores.
cpu_seconds() {
  /usr/bin/time -f '%U %S' -o "$data/cpu" "$@" >/dev/null 2>"$data/stderr" ||
    { cat "$data/stderr"; exit 1; }
  awk '{print $1 + $2}' "$data/cpu"
}
scan_ratios() {
  local db=$1 label=$2 n scans=() replays=() states=()
  n=$(events_of "$db")
  cp "$db" "$data/nosnap.db"
  sqlite3 "$data/nosnap.db" "DELETE FROM snapshots"
  sync
  for _ in 1 2 3; do
    scans+=("$(cpu_seconds $out/sqlite_scan "$db")")
    replays+=("$(cpu_seconds $blotter replay "$db" --format jsonl)")
    states+=("$(cpu_seconds $blotter state "$data/nosnap.db" --at "#$((n - 1))")")
  done
  rm -f "$data"/nosnap.db*
  echo "CPU seconds: raw scan ${scans[*]}; replay ${replays[*]}; state ${states[*]}" >&2
  local scan replay state
  scan=$(median "${scans[@]}") replay=$(median "${replays[@]}") state=$(median "${states[@]}")
  row "raw SQLite scan, $label ($n rows; rows per CPU second, median of 3)" "$(rate "$n" "$scan")" "" ""
  row "replay --format jsonl >/dev/null, $label (events per CPU second)" "$(rate "$n" "$replay")" "raw SQLite scan: $(rate "$n" "$scan")" "$(ratio "$scan" "$replay")×"
  row "state --at #$((n - 1)) full replay, $label (events per CPU second)" "$(rate "$n" "$state")" "raw SQLite scan: $(rate "$n" "$scan")" "$(ratio "$scan" "$state")×"
}
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
print_table() {
  {
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'),"
    echo "$(free -g | awk '/Mem:/ {print $2}') GiB, Debian $(cat /etc/debian_version), SQLite $(sqlite3 --version | cut -d' ' -f1)."
    echo
    echo "| measure | blotter | baseline | ratio |"
    echo "|---|---|---|---|"
    printf '%s\n' "${rows_md[@]}"
  } | tee $out/bench.md
}
# 5. A live session's latency: rows written one by one to `blotter run --bars -`
# at a steady rate, each timed from its write to the pipe until another
# connection sees its BAR committed (tools/bench/live_latency.cpp), with
# each durability; and the disk's own floor in the same run, appending a
# 4 KiB block and fdatasync-ing it at the same rate, in the directory the
# journals are in.
latency_rows=1000 latency_rate=100
live_latency() {
  local fsync normal full
  read -r -a fsync < <($out/blotter_live_latency fsync "$data" "$latency_rows" "$latency_rate")
  read -r -a normal < <($out/blotter_live_latency feed "$blotter" "$data/live_normal.db" \
    "$latency_rows" "$latency_rate")
  read -r -a full < <($out/blotter_live_latency feed "$blotter" "$data/live_full.db" \
    "$latency_rows" "$latency_rate" --durability full)
  [[ ${#fsync[@]} == 4 && ${#normal[@]} == 4 && ${#full[@]} == 4 ]] || exit 1
  local orders
  orders=$(sqlite3 "$data/live_full.db" "SELECT count(*) FROM events WHERE type = 'ORDER'")
  ms() { python3 -c "print(f'{$1/1000:.2f}')"; }
  row "fdatasync of a 4 KiB append, p50 / p99 / max ms (${fsync[3]} syncs at $latency_rate/s)" \
    "$(ms "${fsync[0]}") / $(ms "${fsync[1]}") / $(ms "${fsync[2]}")" "the disk's floor" ""
  row "live session, default durability: row written → committed, p50 / p99 / max ms ($latency_rows rows at $latency_rate/s, first 10 left out)" \
    "$(ms "${normal[0]}") / $(ms "${normal[1]}") / $(ms "${normal[2]}")" \
    "target p99 ≤ batch latency 10 ms + 2 ms" "$(python3 -c "print('met' if ${normal[1]} <= 12000 else 'NOT met')")"
  row "live session, --durability full ($orders ORDERs): row written → committed, p50 / p99 / max ms" \
    "$(ms "${full[0]}") / $(ms "${full[1]}") / $(ms "${full[2]}")" \
    "target p99 ≤ 2 × fdatasync p99 = $(ms $((2 * fsync[1]))) ms" "$(python3 -c "print('met' if ${full[1]} <= 2 * ${fsync[1]} else 'NOT met')")"
}
if $latency_only; then
  live_latency
  print_table
  exit 0
fi

echo "generating $rows bars over 10 symbols" >&2
$out/blotter_gen_bars "$rows" 10 >"$data/bars.csv"
if $read_back_only; then
  $blotter run --bars "$data/bars.csv" --journal "$data/j.db" >/dev/null
  scan_ratios "$data/j.db" "$rows bars"
  print_table
  exit 0
fi

# 1. The pipeline in memory: bus, strategy, risk, execution, portfolio, no
# store, against the seed's Python in memory. The machine's speed drifts,
# by a third at times, and in phases that can last a few seconds. So both
# are sampled at three points of the script, spread over its minutes: 7
# quarter-second runs of the pipeline and one of the seed each time. The
# figures are the median of the 21 runs and of the seed's 3.
pipeline_rates=() seed_mem_rates=()
sample_in_memory() {
  $out/blotter_bench --benchmark_filter=PipelineInMemory --benchmark_format=json \
    --benchmark_min_time=0.25 --benchmark_repetitions=7 >"$data/bench.json" 2>/dev/null
  pipeline_rates+=($(python3 -c "
import json
for b in json.load(open('$data/bench.json'))['benchmarks']:
    if b.get('run_type') == 'iteration': print(round(b['events_per_s']))"))
  seed_mem_rates+=("$(python3 $shared/seed/seed_pipeline.py "$rows" |
    sed -E 's/.*events=([0-9]+) seconds=([0-9.]+).*/\1 \2/' | awk '{printf "%.0f", $1 / $2}')")
}
sample_in_memory

# 2. blotter run end to end, journaled, against SQLite's ceiling and the seed
# persisting. Both sides are noisy on a shared machine: each is run three
# times, alternating, and the median taken.
run_times=() run_rsss=() limit_rates=()
for i in 1 2 3; do
  rm -f "$data"/j.db* "$data"/limit.db*
  # Each starts with nothing of the other's still being written to disk.
  sync
  read -r s rss < <(measure $blotter run --bars "$data/bars.csv" --journal "$data/j.db")
  run_times+=("$s") run_rsss+=("$rss")
  events=$(events_of "$data/j.db")
  sync
  limit_rates+=("$($out/sqlite_limit "$data/limit.db" "$events" 10000 | sed -E 's/.*rows_per_s=([0-9]+).*/\1/')")
done
run_s=$(median "${run_times[@]}")
run_rss=$(median "${run_rsss[@]}")
limit_rate=$(median "${limit_rates[@]}")
echo "blotter run seconds: ${run_times[*]}; SQLite ceiling rows/s: ${limit_rates[*]}" >&2
run_rate=$(python3 -c "print($events/$run_s)")
read -r seed_db_s seed_db_events < <(python3 $shared/seed/seed_pipeline.py "$rows" --sqlite "$data/seed.db" |
  sed -E 's/.*events=([0-9]+) seconds=([0-9.]+).*/\2 \1/')
seed_db_rate=$(python3 -c "print($seed_db_events/$seed_db_s)")
row "\`blotter run\`, $rows bars, $events events journaled (events/s, median of 3)" "$(rate "$run_rate" 1)" "SQLite ceiling, same rows (median of 3): $(rate "$limit_rate" 1)" "$(ratio "$run_rate" "$limit_rate")×"
row "\`blotter run\` (events/s)" "$(rate "$run_rate" 1)" "seed Python persisting: $(rate "$seed_db_rate" 1)" "$(ratio "$run_rate" "$seed_db_rate")×"
row "\`blotter run\` peak RSS" "$(mib "$run_rss") MiB" "" ""

sample_in_memory

sync
# 2b. --durability full: every ORDER committed (fsync) before it is executed.
# Slower by design, so on a smaller input; its journal must hold exactly the
# default's trading events.
full_rows=$((rows / 50))
head -n $((full_rows + 1)) "$data/bars.csv" >"$data/small.csv"
$blotter run --bars "$data/small.csv" --journal "$data/small_normal.db" >/dev/null
read -r full_s full_rss < <(measure $blotter run --bars "$data/small.csv" --journal "$data/small_full.db" --durability full)
full_n=$(events_of "$data/small_full.db")
full_orders=$(sqlite3 "$data/small_full.db" "SELECT count(*) FROM orders")
trading="SELECT seq, ts_ns, type, symbol, payload FROM events WHERE type IN ('BAR','TICK','SIGNAL','ORDER','FILL','RISK_REJECTED') ORDER BY seq"
if [[ $(sqlite3 "$data/small_full.db" "$trading" | sha256sum) == $(sqlite3 "$data/small_normal.db" "$trading" | sha256sum) ]]; then
  same="identical to the default's"
else
  same="DIFFERENT from the default's"
fi
row "\`blotter run --durability full\`, $full_rows bars, $full_orders ORDERs each committed first (events/s)" "$(rate "$full_n" "$full_s")" "trading events $same" ""

# 3. Reading back, at this size and at about $big_events events.
read_back() {
  local db=$1 label=$2 n
  n=$(events_of "$db")
  # The writes of the runs before are still being flushed to disk; reading
  # while they are would measure the flush.
  sync
  # To /dev/null: at 10 M events the JSON lines are about 3 GB, and writing
  # them to a file would measure the disk.
  read -r s rss < <(out_to=/dev/null measure $blotter replay "$db" --format jsonl)
  row "replay --format jsonl >/dev/null, $label ($n events)" "$(rate "$n" "$s") events/s" "peak RSS $(mib "$rss") MiB" ""
  # The worst case for snapshots: just before the end-of-run snapshot, the
  # nearest earlier one is a whole interval back.
  read -r s rss < <(measure $blotter state "$db" --at "#$((n - 1))")
  row "state --at #$((n - 1)) with snapshots, $label" "${s} s" "peak RSS $(mib "$rss") MiB" ""
  cp "$db" "$data/nosnap.db"
  sqlite3 "$data/nosnap.db" "DELETE FROM snapshots"
  sync  # the copy's writes, as above
  read -r s rss < <(measure $blotter state "$data/nosnap.db" --at "#$((n - 1))")
  row "state --at #$((n - 1)) full replay, $label" "${s} s ($(rate "$n" "$s") events/s)" "peak RSS $(mib "$rss") MiB" ""
  rm -f "$data"/nosnap.db*
}
read_back "$data/j.db" "$rows bars"
scan_ratios "$data/j.db" "$rows bars"

big_rows=$(python3 -c "print(int($big_events * $rows / $events))")
echo "generating $big_rows bars for about $big_events events" >&2
$out/blotter_gen_bars "$big_rows" 10 >"$data/big.csv"
read -r big_s big_rss < <(measure $blotter run --bars "$data/big.csv" --journal "$data/big.db")
big_n=$(events_of "$data/big.db")
row "\`blotter run\`, $big_n events (events/s)" "$(rate "$big_n" "$big_s")" "peak RSS $(mib "$big_rss") MiB" ""
rm -f "$data/big.csv"
read_back "$data/big.db" "big journal"

sample_in_memory
read -r mem_rate mem_low mem_high < <(printf '%s\n' "${pipeline_rates[@]}" | sort -g |
  awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)], v[1], v[NR]}')
seed_mem_rate=$(median "${seed_mem_rates[@]}")
echo "pipeline in memory, events/s: ${pipeline_rates[*]}; seed in memory: ${seed_mem_rates[*]}" >&2
live_latency

rows_md=("| pipeline in memory (events/s, median of ${#pipeline_rates[@]} runs in 3 groups; they ranged $(rate "$mem_low" 1)–$(rate "$mem_high" 1)) | $(rate "$mem_rate" 1) | seed Python in memory (median of 3): $(rate "$seed_mem_rate" 1) | $(ratio "$mem_rate" "$seed_mem_rate")× |" "${rows_md[@]}")

print_table
