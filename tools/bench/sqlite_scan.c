/* The floor under reading a journal back: steps every row of the events
 * table in seq order with SQLite's own API and touches each column replay
 * reads, decoding nothing. tools/bench.sh prints replay and a full state
 * rebuild as ratios to it. Usage: sqlite_scan JOURNAL */
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s JOURNAL\n", argv[0]);
    return 2;
  }
  sqlite3* db = NULL;
  /* As blotter opens a journal to read it: no mutexes, one thread. */
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", argv[1], sqlite3_errmsg(db));
    return 1;
  }
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  sqlite3_stmt* s = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT seq, ts_ns, type, symbol, payload, recorded_ns, hash "
                         "FROM events ORDER BY seq",
                         -1, &s, NULL) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", argv[1], sqlite3_errmsg(db));
    return 1;
  }
  long long rows = 0;
  unsigned long long touched = 0; /* keeps the reads from being optimized away */
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    touched += (unsigned long long)sqlite3_column_int64(s, 0);
    touched += (unsigned long long)sqlite3_column_int64(s, 1);
    for (int c = 2; c <= 4; ++c) {
      const unsigned char* text = sqlite3_column_text(s, c);
      touched += (unsigned long long)sqlite3_column_bytes(s, c) + (text ? text[0] : 0);
    }
    touched += (unsigned long long)sqlite3_column_int64(s, 5);
    const unsigned char* hash = sqlite3_column_blob(s, 6);
    touched += (unsigned long long)sqlite3_column_bytes(s, 6) + (hash ? hash[0] : 0);
    ++rows;
  }
  if (rc != SQLITE_DONE) {
    fprintf(stderr, "%s: %s\n", argv[1], sqlite3_errmsg(db));
    return 1;
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  clock_gettime(CLOCK_MONOTONIC, &end);
  const double seconds =
      (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
  printf("rows=%lld seconds=%.3f rows_per_s=%.0f check=%llu\n", rows, seconds, rows / seconds,
         touched % 1000);
  return 0;
}
