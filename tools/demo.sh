#!/usr/bin/env bash
# Installs what is missing, builds, paper-trades the GOOG daily series into
# blotter.db and shows a few queries to try.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
rm -f blotter.db blotter.db-wal blotter.db-shm
./build/blotter run --bars tests/data/goog_daily.csv --symbol GOOG --journal blotter.db --quantity 1

show() {
  echo
  echo "\$ ./build/blotter query blotter.db \"$1\""
  ./build/blotter query blotter.db "$1"
}
echo
echo "=== The journal is plain SQLite: a few queries to try ==="
show "SELECT direction, count(*) AS signals FROM signals GROUP BY direction"
show "SELECT seq, time, side, quantity, price FROM fills ORDER BY seq DESC LIMIT 4"
show "SELECT type, count(*) AS events FROM events GROUP BY type ORDER BY 2 DESC"
show "SELECT time, symbol, reason FROM rejections"
echo
echo "Or open it in any SQLite client: sqlite3 blotter.db 'SELECT * FROM signals LIMIT 5'"
echo "Rebuild the books at a past date:  ./build/blotter state blotter.db --at 2006-09-11"
echo "Re-simulate and compare:           ./build/blotter resim blotter.db --window 21"
echo "Compare with a run of window 10:   ./build/blotter run --bars tests/data/goog_daily.csv --symbol GOOG --journal blotter.db --quantity 1 --window 10 && ./build/blotter diff blotter.db blotter.db"
echo "Replay a quarter as JSON lines:    ./build/blotter replay blotter.db --from 2006-01-01 --to 2006-03-31 --format jsonl"
echo "Check the hash chain:              ./build/blotter verify blotter.db"
echo "Export for pandas:                 ./build/blotter export blotter.db --type FILL --format csv"
echo "Audit a day, with an HTML page:    ./build/blotter audit blotter.db --day 2007-05-03 --html audit.html"
