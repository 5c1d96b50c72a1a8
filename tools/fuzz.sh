#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang, ASan and UBSan into
# ./build-fuzz and runs each for a bounded time from its seed corpus
# (tests/fuzz/corpus/TARGET; new inputs go to build-fuzz/corpus/TARGET, findings to
# build-fuzz/findings/). Prints, per target, the time it ran, its executions
# and its result; exits non-zero if any target found a crash.
# Usage: tools/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}

tools/install_packages.sh clang libclang-rt-14-dev
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DBLOTTER_FUZZ=ON -DBLOTTER_BUILD_TESTS=OFF >/dev/null
targets=(fuzz_csv_bars fuzz_csv_ticks fuzz_payload fuzz_journal)
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"

declare -A corpus=([fuzz_csv_bars]=csv_bars [fuzz_csv_ticks]=csv_ticks [fuzz_payload]=payload
                   [fuzz_journal]=journal)
declare -A dict=([fuzz_csv_bars]=csv.dict [fuzz_csv_ticks]=csv.dict [fuzz_payload]=payload.dict)
mkdir -p build-fuzz/findings
summary=()
failed=0
for t in "${targets[@]}"; do
  work=build-fuzz/corpus/$t
  mkdir -p "$work"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="build-fuzz/findings/$t-")
  [[ -n ${dict[$t]:-} ]] && options+=(-dict="tests/fuzz/${dict[$t]}")
  echo "== $t: ${seconds}s"
  start=$(date +%s)
  status=0
  nice -n 10 "build-fuzz/tests/fuzz/$t" "${options[@]}" "$work" "tests/fuzz/corpus/${corpus[$t]}" \
    >"build-fuzz/$t.log" 2>&1 || status=$?
  elapsed=$(($(date +%s) - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/$t.log" | tail -1)
  if ((status == 0)); then
    result="ok"
  else
    failed=1
    artifact=$(sed -n 's/.*Test unit written to *//p' "build-fuzz/$t.log" | tail -1)
    result="FOUND (exit $status): ${artifact:-see build-fuzz/$t.log}"
    grep -m1 -E "ERROR: |check failed|runtime error|deadly signal" "build-fuzz/$t.log" || true
  fi
  summary+=("$(printf '%-16s %6ss %12s executions  %s' "$t" "$elapsed" "${runs:-?}" "$result")")
done
echo
printf '%s\n' "${summary[@]}"
exit $failed
