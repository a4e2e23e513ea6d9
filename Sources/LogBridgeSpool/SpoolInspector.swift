import CLMDB
import Foundation
import LogBridgeCore

/// Read-only access to a spool, safe beside the gateway that owns it (LMDB readers never block
/// the writer): what `logbridge dlq list` and, later, `spool stats` read.
public final class SpoolInspector: Sendable {
    private let env: LMDBEnvironment
    private let deadLetterDB: MDB_dbi
    private let recordsDB: MDB_dbi
    private let cursorsDB: MDB_dbi
    /// offsets, meta, and marks and segments when the spool has them.
    private let otherDBs: [MDB_dbi]
    /// The records in order; nil for a format-1 or 2 spool no gateway of this version has opened
    /// yet (it has no `segments`: its records are all in `records`).
    private let log: SpoolLogReader?
    private let path: String

    /// - Throws: ``SpoolError`` when there is no spool at `path`.
    public init(path: String) throws(SpoolError) {
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") else {
            throw .lmdb(code: ENOENT, message: "no spool at \(path) (check spool.path)", operation: "open")
        }
        self.path = path
        env = try LMDBEnvironment(directory: path, mapSize: 0, maxDatabases: SpoolDatabases.count + 2, readOnly: true)
        let opened = try env.read(keepHandles: true) { (txn) throws(SpoolError) in
            let records = try txn.openDatabase("records", create: false)
            let (offsets, meta) = (try txn.openDatabase("offsets", create: false), try txn.openDatabase("meta", create: false))
            let (cursors, deadLetters) = (try txn.openDatabase("cursors", create: false), try txn.openDatabase("dead_letters", create: false))
            // `marks` came with format 2 and `segments` with 3; a spool not opened by a newer
            // gateway yet has neither.
            let marks = try? txn.openDatabase("marks", create: false)
            let segments = try? txn.openDatabase("segments", create: false)
            var log: SpoolLogReader?
            if let segments {
                let legacyEnd = try txn.get(meta, key: SpoolKey.legacyEnd).flatMap { $0.withUnsafeBytes { SpoolKey.decodeUInt64($0) } } ?? 0
                let db = SpoolDatabases(
                    records: records, offsets: offsets, cursors: cursors, deadLetters: deadLetters, meta: meta,
                    marks: marks ?? meta, segments: segments)
                log = SpoolLogReader(db: db, legacyEnd: legacyEnd, cache: SegmentCache())
            }
            return (deadLetters, records, cursors, [offsets, meta] + [marks, segments].compactMap { $0 }, log)
        }
        (deadLetterDB, recordsDB, cursorsDB, otherDBs, log) = opened
    }

    /// The first record stored at or after `from` and its Kafka timestamp.
    private func firstRecord(_ txn: borrowing LMDBTransaction, from: UInt64) throws(SpoolError) -> (sequence: UInt64, timestampMs: Int64?)? {
        var found: (UInt64, Int64?)?
        if let log {
            try log.visit(txn, from: from) { (item) throws(SpoolError) -> Bool in
                switch item {
                case .record(let sequence, let bytes): found = (sequence, RecordCodec.decode(bytes)?.timestampMs)
                case .corrupt(let sequence, _, _): found = (sequence, nil)
                }
                return false
            }
        } else {
            try txn.scan(recordsDB, from: SpoolKey.sequence(from)) { (key, value) throws(SpoolError) -> Bool in
                found = (SpoolKey.decodeSequence(key), RecordCodec.decode(value)?.timestampMs)
                return false
            }
        }
        return found
    }

    /// The sinks' cursors, the next sequence, and the first record some sink still waits for.
    private func positions(_ txn: borrowing LMDBTransaction) throws(SpoolError) -> (
        cursors: [String: UInt64], next: UInt64, first: (sequence: UInt64, timestampMs: Int64?)?
    ) {
        var cursors: [String: UInt64] = [:]
        try txn.scan(cursorsDB, from: nil) { (key, value) throws(SpoolError) -> Bool in
            if let next = SpoolKey.decodeUInt64(value) { cursors[String(decoding: key, as: UTF8.self)] = next }
            return true
        }
        let persistedNext = try txn.get(otherDBs[1], key: SpoolKey.nextSequence).flatMap { bytes in
            bytes.withUnsafeBytes { SpoolKey.decodeUInt64($0) }
        }
        let next = persistedNext ?? cursors.values.max() ?? 0
        // A segment stays until every sink has passed all of its records: what is stored before
        // the slowest cursor is delivered everywhere and not counted.
        let first = try firstRecord(txn, from: cursors.values.min() ?? 0)
        return (cursors, next, first.flatMap { $0.sequence < next ? $0 : nil })
    }

    /// Dead letters, oldest first, optionally only those of one stage (a sink's name, or `source`).
    public func deadLetters(stage: String? = nil, limit: Int = .max) throws(SpoolError) -> [DeadLetter] {
        try env.read { (txn) throws(SpoolError) in try DeadLetter.scan(txn, deadLetterDB, stage: stage, limit: limit) }
    }

    /// Records waiting in the spool and each sink's position.
    public func backlog() throws(SpoolError) -> (records: Int, cursors: [String: UInt64]) {
        try env.read { (txn) throws(SpoolError) in
            let (cursors, next, first) = try positions(txn)
            return (first.map { Int(next - $0.sequence) } ?? 0, cursors)
        }
    }

    /// Usage and per-sink backlog, as `logbridge spool stats` prints them.
    public func stats() throws(SpoolError) -> SpoolStats {
        try env.read { (txn) throws(SpoolError) -> SpoolStats in
            // Live pages of every tree, as the gateway measures them (LMDB reuses freed pages, so
            // the file size says little).
            var pages = 2
            for dbi in [MDB_dbi(0), MDB_dbi(1), deadLetterDB, recordsDB, cursorsDB] + otherDBs { pages += try txn.stat(dbi).pages }
            let deadLetters = try txn.stat(deadLetterDB)
            let (cursors, next, firstRecord) = try positions(txn)
            let first = firstRecord?.sequence
            let oldestTimestampMs = firstRecord?.timestampMs
            let sinks = cursors.sorted { $0.key < $1.key }.map { name, cursor in
                SpoolStats.Sink(name: name, cursor: cursor, backlog: Int(next > cursor ? next - cursor : 0))
            }
            return SpoolStats(
                usedBytes: pages * env.pageSize, fileBytes: fileSize(), records: first.map { Int(next - $0) } ?? 0,
                deadLetters: deadLetters.entries, deadLetterBytes: deadLetters.pages * env.pageSize,
                firstSequence: first, nextSequence: next,
                oldestTimestampMs: oldestTimestampMs, sinks: sinks)
        }
    }

    private func fileSize() -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path + "/data.mdb")[.size] as? Int) ?? 0
    }
}

/// What `logbridge spool stats` reports.
public struct SpoolStats: Sendable {
    public struct Sink: Sendable {
        public var name: String
        /// The next sequence number the sink has not delivered.
        public var cursor: UInt64
        /// Spooled records the sink has not delivered.
        public var backlog: Int
    }
    /// Live pages (what `spool.max_bytes` limits).
    public var usedBytes: Int
    /// The size of `data.mdb` on disk (it only grows; freed pages are reused).
    public var fileBytes: Int
    public var records: Int
    public var deadLetters: Int
    /// Pages of the dead-letter store (what `spool.dead_letter_max_bytes` limits).
    public var deadLetterBytes: Int
    public var firstSequence: UInt64?
    public var nextSequence: UInt64
    /// The Kafka timestamp of the oldest spooled record.
    public var oldestTimestampMs: Int64?
    public var sinks: [Sink]
}
