#!/usr/bin/env bash
# Measures this tree against an earlier revision, side by side in one run:
# builds both (Release), then times the same commands on the same input,
# alternating between the two builds so that the machine's drift falls on
# both alike. Prints a Markdown table, after/before, median of ROUNDS.
# Usage: tools/bench_compare.sh REV [ROWS (1000000)] [ROUNDS (5)]
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: tools/bench_compare.sh REV [ROWS] [ROUNDS]}
rows=${2:-1000000}
rounds=${3:-5}
command -v /usr/bin/time >/dev/null || { echo "bench_compare.sh needs /usr/bin/time (apt-get install time)"; exit 2; }

after=build-bench
before=build-bench-base
flags=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DBLOTTER_BUILD_TESTS=OFF -DBLOTTER_BUILD_BENCHMARKS=ON)
cmake -S . -B $after "${flags[@]}" >/dev/null
cmake --build $after -j"$(nproc)" >/dev/null
# The earlier revision's source, kept between runs so its build is incremental.
src=/tmp/blotter-bench-base
if [[ -d $src ]]; then
  git -C "$src" checkout -q --detach "$rev"
else
  git worktree add -q --detach "$src" "$rev"
fi
data=$(mktemp -d /tmp/blotter-compare.XXXXXX)
trap 'rm -rf "$data"' EXIT
cmake -S "$src" -B $before "${flags[@]}" >/dev/null
cmake --build $before -j"$(nproc)" >/dev/null

$after/blotter_gen_bars "$rows" 10 >"$data/bars.csv"
seconds() { /usr/bin/time -f '%e' -o "$data/time" "$@" >/dev/null 2>"$data/stderr" || { cat "$data/stderr"; exit 1; }; cat "$data/time"; }
pipeline() {
  "$1/blotter_bench" --benchmark_filter=PipelineInMemory --benchmark_format=json \
    --benchmark_min_time=0.5 2>/dev/null |
    python3 -c "import json,sys; print(round([b for b in json.load(sys.stdin)['benchmarks'] if b.get('run_type','iteration')=='iteration'][0]['events_per_s']))"
}

declare -A samples
for ((i = 1; i <= rounds; i++)); do
  for side in before after; do
    dir=${!side}
    db=$data/$side.db
    rm -f "$db"*
    sync
    samples[$side,run]+=" $(seconds "$dir/blotter" run --bars "$data/bars.csv" --journal "$db")"
    sync
    samples[$side,replay]+=" $(seconds "$dir/blotter" replay "$db" --format jsonl)"
    n=$(sqlite3 "$db" "SELECT max(seq) FROM events")
    cp "$db" "$data/nosnap.db"
    sqlite3 "$data/nosnap.db" "DELETE FROM snapshots"
    sync
    samples[$side,state]+=" $(seconds "$dir/blotter" state "$data/nosnap.db" --at "#$((n - 1))")"
    samples[$side,pipeline]+=" $(pipeline "$dir")"
    echo "round $i $side: run ${samples[$side,run]##* } s, replay ${samples[$side,replay]##* } s, state ${samples[$side,state]##* } s, pipeline ${samples[$side,pipeline]##* } events/s" >&2
  done
done

median() { printf '%s\n' $1 | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'):"
  echo "$(git rev-parse --short "$rev") (before) against $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' with local changes') (after),"
  echo "$rows bars over 10 symbols ($n events), median of $rounds alternating rounds."
  echo
  echo "| measure | before | after | after/before |"
  echo "|---|---|---|---|"
  for m in run replay state; do
    b=$(median "${samples[before,$m]}") a=$(median "${samples[after,$m]}")
    label=$(case $m in run) echo "\`blotter run\` (s)";; replay) echo "\`replay --format jsonl\` (s)";; state) echo "\`state --at #$((n - 1))\`, no snapshots (s)";; esac)
    echo "| $label | $b | $a | $(python3 -c "print(f'{$a/$b:.3f}')") |"
  done
  b=$(median "${samples[before,pipeline]}") a=$(median "${samples[after,pipeline]}")
  echo "| pipeline in memory (events/s) | $b | $a | $(python3 -c "print(f'{$a/$b:.3f}')") |"
} | tee $after/compare.md
