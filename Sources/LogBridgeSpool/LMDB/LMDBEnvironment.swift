import CLMDB

/// Owns an LMDB environment handle (`MDB_env`) and closes it in `deinit`.
///
/// `@unchecked Sendable`: LMDB environments are thread-safe; write transactions are confined to the
/// spool writer thread and read transactions (opened with `MDB_NOTLS`) never outlive one call.
final class LMDBEnvironment: @unchecked Sendable {
    private let env: OpaquePointer
    let pageSize: Int

    /// Opens (creating if needed) the environment in `directory`.
    /// - Parameters:
    ///   - mapSize: the largest the data file may grow; LMDB only reserves address space for it,
    ///     the file grows as pages are used.
    /// - Parameter readOnly: open beside a running gateway, for inspection only.
    init(directory: String, mapSize: Int, maxDatabases: Int, readOnly: Bool = false) throws(SpoolError) {
        var handle: OpaquePointer?
        try lmdbCheck(mdb_env_create(&handle), "mdb_env_create")
        guard let handle else { throw .lmdb(code: -1, message: "no handle", operation: "mdb_env_create") }
        env = handle
        do {
            try lmdbCheck(mdb_env_set_maxdbs(env, MDB_dbi(maxDatabases)), "mdb_env_set_maxdbs")
            try lmdbCheck(mdb_env_set_mapsize(env, mapSize), "mdb_env_set_mapsize")
            // NOTLS: read transactions are not tied to a thread, so a reader may be resumed on any
            // thread. NORDAHEAD: the spool is read sequentially near its tail; OS read-ahead of
            // random pages only inflates resident memory.
            let flags = UInt32(MDB_NOTLS | MDB_NORDAHEAD | (readOnly ? MDB_RDONLY : 0))
            try lmdbCheck(mdb_env_open(env, directory, flags, 0o640), "mdb_env_open")
        } catch {
            mdb_env_close(env)
            throw error
        }
        var stat = MDB_stat()
        mdb_env_stat(env, &stat)
        pageSize = Int(stat.ms_psize)
    }

    deinit { mdb_env_close(env) }

    /// Runs `body` in a write transaction, committing when it returns and aborting when it throws.
    /// Only the spool writer thread calls this.
    func write<T>(_ body: (borrowing LMDBTransaction) throws(SpoolError) -> T) throws(SpoolError) -> T {
        try transaction(readOnly: false, commit: true, body)
    }

    /// Runs `body` in a read-only snapshot.
    /// - Parameter keepHandles: commit the read transaction instead of aborting it, so database
    ///   handles opened in it stay valid (LMDB closes them on abort).
    func read<T>(keepHandles: Bool = false, _ body: (borrowing LMDBTransaction) throws(SpoolError) -> T) throws(SpoolError) -> T {
        try transaction(readOnly: true, commit: keepHandles, body)
    }

    private func transaction<T>(
        readOnly: Bool, commit: Bool, _ body: (borrowing LMDBTransaction) throws(SpoolError) -> T
    ) throws(SpoolError) -> T {
        let txn = try LMDBTransaction(env: env, readOnly: readOnly)
        let result: T
        do {
            result = try body(txn)
        } catch {
            txn.abort()
            throw error
        }
        // A failed commit frees the transaction too.
        if commit { try txn.commit() } else { txn.abort() }
        return result
    }

    /// The largest the map may grow, in bytes.
    var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        return info.me_mapsize
    }
}

/// A transaction lent to a closure by ``LMDBEnvironment``; never stored. ``LMDBEnvironment`` begins
/// it and commits or aborts it around the closure.
struct LMDBTransaction {
    fileprivate let txn: OpaquePointer

    fileprivate init(env: OpaquePointer, readOnly: Bool) throws(SpoolError) {
        var handle: OpaquePointer?
        try lmdbCheck(mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &handle), "mdb_txn_begin")
        txn = handle!
    }

    fileprivate func commit() throws(SpoolError) {
        try lmdbCheck(mdb_txn_commit(txn), "mdb_txn_commit")
    }

    fileprivate func abort() {
        mdb_txn_abort(txn)
    }

    func openDatabase(_ name: String, create: Bool) throws(SpoolError) -> MDB_dbi {
        var dbi: MDB_dbi = 0
        try lmdbCheck(mdb_dbi_open(txn, name, create ? UInt32(MDB_CREATE) : 0, &dbi), "mdb_dbi_open")
        return dbi
    }

    /// The value stored under `key`, copied out, or `nil`.
    func get(_ dbi: MDB_dbi, key: [UInt8]) throws(SpoolError) -> [UInt8]? {
        var result: [UInt8]?
        let code = key.withUnsafeBytes { key -> Int32 in
            var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
            var v = MDB_val()
            let code = mdb_get(txn, dbi, &k, &v)
            if code == 0 { result = Array(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)) }
            return code
        }
        if code == MDB_NOTFOUND { return nil }
        try lmdbCheck(code, "mdb_get")
        return result
    }

    func put(_ dbi: MDB_dbi, key: [UInt8], value: [UInt8]) throws(SpoolError) {
        let code = key.withUnsafeBytes { key in
            value.withUnsafeBytes { value in
                var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
                var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
                return mdb_put(txn, dbi, &k, &v, 0)
            }
        }
        try lmdbCheck(code, "mdb_put")
    }

    /// Reserves `size` bytes under the big-endian `sequence` key and lets `fill` write them in place
    /// (one copy, into the transaction's dirty page). With `append`, the key must sort after every
    /// existing key (`MDB_APPEND`), which keeps appends at the right edge of the tree cheap.
    func reserve(
        _ dbi: MDB_dbi, sequence: UInt64, size: Int, append: Bool,
        _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) throws(SpoolError) {
        var key = sequence.bigEndian
        var v = MDB_val(mv_size: size, mv_data: nil)
        let flags = UInt32(MDB_RESERVE) | (append ? UInt32(MDB_APPEND) : 0)
        let code = withUnsafeMutableBytes(of: &key) { key in
            var k = MDB_val(mv_size: key.count, mv_data: key.baseAddress)
            return mdb_put(txn, dbi, &k, &v, flags)
        }
        try lmdbCheck(code, "mdb_put")
        fill(UnsafeMutableRawBufferPointer(start: v.mv_data, count: size))
    }

    func delete(_ dbi: MDB_dbi, key: [UInt8]) throws(SpoolError) {
        let code = key.withUnsafeBytes { key in
            var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
            return mdb_del(txn, dbi, &k, nil)
        }
        if code == MDB_NOTFOUND { return }
        try lmdbCheck(code, "mdb_del")
    }

    /// Visits entries in key order starting at the first key >= `from` (or the first key), until
    /// `body` returns false. Keys and values are only valid inside `body`.
    /// - Parameter floor: start at the last key <= `from` instead, when there is one (the spool
    ///   segment that holds a sequence is keyed by the segment's first sequence).
    func scan(
        _ dbi: MDB_dbi, from: [UInt8]?, floor: Bool = false,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws(SpoolError) -> Bool
    ) throws(SpoolError) {
        var cursor: OpaquePointer?
        try lmdbCheck(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val()
        var v = MDB_val()
        var code: Int32
        if let from {
            var exact = false
            code = from.withUnsafeBytes { from in
                k = MDB_val(mv_size: from.count, mv_data: UnsafeMutableRawPointer(mutating: from.baseAddress))
                let code = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
                exact = code == 0 && k.mv_size == from.count && (from.isEmpty || memcmp(k.mv_data, from.baseAddress!, from.count) == 0)
                return code
            }
            if floor {
                if code == MDB_NOTFOUND {
                    code = mdb_cursor_get(cursor, &k, &v, MDB_LAST)
                } else if code == 0 && !exact {
                    code = mdb_cursor_get(cursor, &k, &v, MDB_PREV)
                    if code == MDB_NOTFOUND { code = mdb_cursor_get(cursor, &k, &v, MDB_FIRST) }
                }
            }
        } else {
            code = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        }
        while code == 0 {
            let keep = try body(
                UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
            if !keep { return }
            code = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
        }
        if code != MDB_NOTFOUND { try lmdbCheck(code, "mdb_cursor_get") }
    }

    /// Deletes entries from the first key while `shouldDelete` says so, at most `limit` of them.
    /// Returns how many were deleted.
    func deleteFromStart(
        _ dbi: MDB_dbi, limit: Int, while shouldDelete: (UnsafeRawBufferPointer) -> Bool
    ) throws(SpoolError) -> Int {
        try deleteFromStart(dbi, limit: limit) { key, _ in shouldDelete(key) }
    }

    /// ``deleteFromStart(_:limit:while:)`` deciding on each entry's key and value.
    func deleteFromStart(
        _ dbi: MDB_dbi, limit: Int, while shouldDelete: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool
    ) throws(SpoolError) -> Int {
        var cursor: OpaquePointer?
        try lmdbCheck(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val()
        var v = MDB_val()
        var deleted = 0
        var code = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        while code == 0, deleted < limit,
            shouldDelete(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size), UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
        {
            try lmdbCheck(mdb_cursor_del(cursor, 0), "mdb_cursor_del")
            deleted += 1
            // After a delete, MDB_NEXT returns the entry that followed the deleted one.
            code = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
        }
        if code != 0 && code != MDB_NOTFOUND { try lmdbCheck(code, "mdb_cursor_get") }
        return deleted
    }

    /// The last key of a database, copied out.
    func lastKey(_ dbi: MDB_dbi) throws(SpoolError) -> [UInt8]? {
        var cursor: OpaquePointer?
        try lmdbCheck(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val()
        var v = MDB_val()
        let code = mdb_cursor_get(cursor, &k, &v, MDB_LAST)
        if code == MDB_NOTFOUND { return nil }
        try lmdbCheck(code, "mdb_cursor_get")
        return Array(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size))
    }

    /// Pages held by a database's tree (branch + leaf + overflow) and its entry count.
    func stat(_ dbi: MDB_dbi) throws(SpoolError) -> (pages: Int, entries: Int) {
        var s = MDB_stat()
        try lmdbCheck(mdb_stat(txn, dbi, &s), "mdb_stat")
        return (Int(s.ms_branch_pages + s.ms_leaf_pages + s.ms_overflow_pages), Int(s.ms_entries))
    }
}

#if canImport(Glibc)
import Glibc
#endif
