// commit-floor: what a durable LMDB commit of K scattered puts costs on this machine's disk, with
// LMDB's C API alone — the floor under any LMDB store's write throughput (Docs/benchmarks.md,
// "The write targets against LMDB's own floor").
//
//   gcc -O2 -o /tmp/commit-floor Benchmarks/commit-floor.c -llmdb
//   cp -r <a copy of the raw LMDB fixture> /tmp/store       # e.g. raw-lmdb-1000000-2026-v1
//   /tmp/commit-floor /tmp/store WRITEMAP COMMITS PUTS       # WRITEMAP: 0 or 1 (MDB_WRITEMAP)
//
// Each commit puts PUTS new entries into the store's "turns" database, each under the key prefix
// (16 bytes) of an existing session chosen at random and a new sequence, with a 200–999-byte
// value: the pages a batch of appends to different sessions dirties. Durable (no NOSYNC flags).
// It writes to the store it is given: run it on a copy.
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call) do { int rc_ = (call); if (rc_) { fprintf(stderr, "%s: %s\n", #call, mdb_strerror(rc_)); exit(1); } } while (0)

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: commit-floor STORE WRITEMAP(0|1) COMMITS PUTS\n");
        return 2;
    }
    const char *path = argv[1];
    int writemap = atoi(argv[2]), commits = atoi(argv[3]), puts = atoi(argv[4]);
    if (commits <= 0 || puts <= 0) { fprintf(stderr, "COMMITS and PUTS must be positive\n"); return 2; }
    MDB_env *env;
    CHECK(mdb_env_create(&env));
    CHECK(mdb_env_set_maxdbs(env, 16));
    CHECK(mdb_env_open(env, path, writemap ? MDB_WRITEMAP : 0, 0644));
    MDB_txn *txn;
    MDB_dbi turns;
    CHECK(mdb_txn_begin(env, NULL, 0, &txn));
    CHECK(mdb_dbi_open(txn, "turns", 0, &turns));

    // Up to 4,096 session prefixes from the start of the tree.
    static unsigned char prefixes[4096][16];
    int sessions = 0;
    unsigned char last[16] = {0};
    MDB_cursor *cursor;
    MDB_val key, value;
    CHECK(mdb_cursor_open(txn, turns, &cursor));
    for (int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0 && sessions < 4096;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size >= 16 && memcmp(last, key.mv_data, 16) != 0) {
            memcpy(last, key.mv_data, 16);
            memcpy(prefixes[sessions++], key.mv_data, 16);
        }
    }
    mdb_cursor_close(cursor);
    CHECK(mdb_txn_commit(txn));
    if (sessions == 0) { fprintf(stderr, "%s has no turns\n", path); return 1; }

    static char content[1024];
    memset(content, 'x', sizeof content);
    srand(7);
    unsigned long long sequence = 1ull << 40;   // past every real sequence: always a new entry
    double start = seconds();
    for (int commit = 0; commit < commits; commit++) {
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        for (int put = 0; put < puts; put++) {
            unsigned char bytes[24];
            memcpy(bytes, prefixes[rand() % sessions], 16);
            for (int b = 0; b < 8; b++) bytes[16 + b] = (unsigned char)(sequence >> (56 - 8 * b));
            sequence++;
            key.mv_size = sizeof bytes;
            key.mv_data = bytes;
            value.mv_size = 200 + rand() % 800;
            value.mv_data = content;
            CHECK(mdb_put(txn, turns, &key, &value, 0));
        }
        CHECK(mdb_txn_commit(txn));
    }
    double elapsed = seconds() - start;
    printf("writemap=%d puts=%d: %.0f us per commit, %.0f us per put, %.0f puts/s\n", writemap, puts,
           elapsed / commits * 1e6, elapsed / commits / puts * 1e6, commits * puts / elapsed);
    mdb_env_close(env);
    return 0;
}
