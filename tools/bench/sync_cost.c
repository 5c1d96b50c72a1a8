/* The cost of the two ways to make a WAL journal's commits durable with
 * synchronous=NORMAL, as the journal writer's timed sync would: the WAL
 * file's xSync (what blotter does), or a PASSIVE checkpoint. Each is timed
 * after a commit of ROWS rows of 250 bytes, 60 times, on 16 KiB pages.
 *   cc -O2 -o sync_cost tools/bench/sync_cost.c -lsqlite3
 *   ./sync_cost DIR/scratch.db [ROWS]   (DIR on the disk to measure) */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { kRounds = 60 };

static void exec(sqlite3* db, const char* sql) {
  char* error = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", sql, error);
    exit(1);
  }
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void commit_rows(sqlite3* db, sqlite3_stmt* insert, int rows) {
  static char payload[251];
  memset(payload, 'x', 250);
  exec(db, "BEGIN IMMEDIATE");
  for (int i = 0; i < rows; ++i) {
    sqlite3_bind_text(insert, 1, payload, -1, SQLITE_STATIC);
    if (sqlite3_step(insert) != SQLITE_DONE) exit(1);
    sqlite3_reset(insert);
  }
  exec(db, "COMMIT");
}

static int by_value(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: sync_cost DB [ROWS]\n");
    return 2;
  }
  const char* path = argv[1];
  const int rows = argc > 2 ? atoi(argv[2]) : 50;
  char name[4096];
  unlink(path);
  snprintf(name, sizeof name, "%s-wal", path);
  unlink(name);
  snprintf(name, sizeof name, "%s-shm", path);
  unlink(name);
  sqlite3* db = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK) return 1;
  exec(db, "PRAGMA page_size=16384");
  exec(db, "PRAGMA journal_mode=WAL");
  exec(db, "PRAGMA synchronous=NORMAL");
  exec(db, "CREATE TABLE events(seq INTEGER PRIMARY KEY, payload TEXT)");
  sqlite3_stmt* insert = NULL;
  sqlite3_prepare_v2(db, "INSERT INTO events(payload) VALUES(?)", -1, &insert, NULL);
  double wal[kRounds], checkpoint[kRounds];
  for (int k = 0; k < kRounds; ++k) {
    commit_rows(db, insert, rows);
    double t = now_us();
    sqlite3_file* file = NULL;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file);
    if (file->pMethods->xSync(file, SQLITE_SYNC_NORMAL) != SQLITE_OK) return 1;
    wal[k] = now_us() - t;
    commit_rows(db, insert, rows);
    t = now_us();
    exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
    checkpoint[k] = now_us() - t;
  }
  qsort(wal, kRounds, sizeof wal[0], by_value);
  qsort(checkpoint, kRounds, sizeof checkpoint[0], by_value);
  printf("%d rows a commit: WAL xSync p50 %.0f us, p90 %.0f us; wal_checkpoint(PASSIVE) p50 %.0f us, p90 %.0f us\n",
         rows, wal[kRounds / 2], wal[kRounds * 9 / 10], checkpoint[kRounds / 2],
         checkpoint[kRounds * 9 / 10]);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return 0;
}
