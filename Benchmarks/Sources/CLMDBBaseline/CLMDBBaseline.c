#include "CLMDBBaseline.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>

struct lmdb_baseline {
    MDB_env *env;
    MDB_dbi dbi;
};

lmdb_baseline *lmdb_baseline_open(const char *path, size_t map_size, int *error) {
    lmdb_baseline *baseline = calloc(1, sizeof *baseline);
    if (baseline == NULL) { *error = ENOMEM; return NULL; }
    int rc = mdb_env_create(&baseline->env);
    if (rc == 0) rc = mdb_env_set_mapsize(baseline->env, map_size);
    /* Default flags: no MDB_NOSYNC / MDB_NOMETASYNC / MDB_WRITEMAP, so every commit fsyncs. */
    if (rc == 0) rc = mdb_env_open(baseline->env, path, 0, 0640);
    MDB_txn *txn = NULL;
    if (rc == 0) rc = mdb_txn_begin(baseline->env, NULL, 0, &txn);
    if (rc == 0) rc = mdb_dbi_open(txn, NULL, 0, &baseline->dbi);
    if (rc == 0) { rc = mdb_txn_commit(txn); txn = NULL; }
    if (rc != 0) {
        if (txn != NULL) mdb_txn_abort(txn);
        if (baseline->env != NULL) mdb_env_close(baseline->env);
        free(baseline);
        *error = rc;
        return NULL;
    }
    return baseline;
}

int lmdb_baseline_append(lmdb_baseline *baseline, const uint8_t *bytes, const size_t *ends, size_t count,
                         uint64_t first_key, size_t txn_max_bytes, size_t *transactions) {
    MDB_txn *txn = NULL;
    size_t txn_bytes = 0;
    size_t start = 0;
    int rc = 0;
    *transactions = 0;
    for (size_t i = 0; i < count; i++) {
        if (txn == NULL && (rc = mdb_txn_begin(baseline->env, NULL, 0, &txn)) != 0) return rc;
        uint64_t sequence = first_key + i;
        uint8_t key_bytes[8];
        for (int b = 0; b < 8; b++) key_bytes[b] = (uint8_t)(sequence >> (56 - 8 * b));
        MDB_val key = {.mv_size = sizeof key_bytes, .mv_data = key_bytes};
        MDB_val value = {.mv_size = ends[i] - start, .mv_data = (void *)(bytes + start)};
        if ((rc = mdb_put(txn, baseline->dbi, &key, &value, MDB_APPEND)) != 0) {
            mdb_txn_abort(txn);
            return rc;
        }
        txn_bytes += value.mv_size;
        start = ends[i];
        if (txn_bytes >= txn_max_bytes || i + 1 == count) {
            rc = mdb_txn_commit(txn);
            txn = NULL;
            if (rc != 0) return rc;
            *transactions += 1;
            txn_bytes = 0;
        }
    }
    return 0;
}

int64_t lmdb_baseline_count(lmdb_baseline *baseline) {
    MDB_txn *txn = NULL;
    MDB_stat stat;
    if (mdb_txn_begin(baseline->env, NULL, MDB_RDONLY, &txn) != 0) return -1;
    int rc = mdb_stat(txn, baseline->dbi, &stat);
    mdb_txn_abort(txn);
    return rc == 0 ? (int64_t)stat.ms_entries : -1;
}

void lmdb_baseline_close(lmdb_baseline *baseline) {
    if (baseline == NULL) return;
    mdb_env_close(baseline->env);
    free(baseline);
}

const char *lmdb_baseline_strerror(int error) { return mdb_strerror(error); }
