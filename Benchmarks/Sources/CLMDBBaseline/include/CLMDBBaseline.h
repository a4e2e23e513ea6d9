#ifndef CLMDB_BASELINE_H
#define CLMDB_BASELINE_H

#include <stddef.h>
#include <stdint.h>

/// The raw liblmdb floor for the spool: append values with mdb_put(MDB_APPEND) under big-endian
/// 8-byte sequence keys, one write transaction per `txn_max_bytes` of payload, committed with
/// LMDB's default durability (fsync of data and meta page on every commit).
typedef struct lmdb_baseline lmdb_baseline;

/// Creates (or opens) an environment in the existing directory `path`. Returns NULL and sets
/// `*error` (an LMDB or errno code) on failure.
lmdb_baseline *lmdb_baseline_open(const char *path, size_t map_size, int *error);

/// Appends `count` values; value `i` is bytes[ends[i-1] ..< ends[i]] (ends[-1] = 0), keyed by
/// `first_key + i`. Returns 0 or an LMDB error code; `*transactions` gets the commits made.
int lmdb_baseline_append(lmdb_baseline *baseline, const uint8_t *bytes, const size_t *ends, size_t count,
                         uint64_t first_key, size_t txn_max_bytes, size_t *transactions);

/// The number of records in the environment's main database (for checking a run), or -1 on error.
int64_t lmdb_baseline_count(lmdb_baseline *baseline);

void lmdb_baseline_close(lmdb_baseline *baseline);

/// LMDB's message for an error code (also covers errno values).
const char *lmdb_baseline_strerror(int error);

#endif
