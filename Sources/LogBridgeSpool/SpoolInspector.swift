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
    /// offsets, meta.
    private let otherDBs: [MDB_dbi]
    private let path: String

    /// - Throws: ``SpoolError`` when there is no spool at `path`.
    public init(path: String) throws(SpoolError) {
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") else {
            throw .lmdb(code: ENOENT, message: "no spool at \(path) (check spool.path)", operation: "open")
        }
        self.path = path
        env = try LMDBEnvironment(directory: path, mapSize: 0, maxDatabases: SpoolDatabases.count + 2, readOnly: true)
        (deadLetterDB, recordsDB, cursorsDB, otherDBs) = try env.read(keepHandles: true) { (txn) throws(SpoolError) in
            (try txn.openDatabase("dead_letters", create: false), try txn.openDatabase("records", create: false),
             try txn.openDatabase("cursors", create: false),
             // `marks` came with format 2; a format-1 spool not opened by a newer gateway has none.
             [try txn.openDatabase("offsets", create: false), try txn.openDatabase("meta", create: false)]
                + ((try? txn.openDatabase("marks", create: false)).map { [$0] } ?? []))
        }
    }

    /// Dead letters, oldest first, optionally only those of one stage (a sink's name, or `source`).
    public func deadLetters(stage: String? = nil, limit: Int = .max) throws(SpoolError) -> [DeadLetter] {
        try env.read { (txn) throws(SpoolError) in try DeadLetter.scan(txn, deadLetterDB, stage: stage, limit: limit) }
    }

    /// Records waiting in the spool and each sink's position.
    public func backlog() throws(SpoolError) -> (records: Int, cursors: [String: UInt64]) {
        try env.read { (txn) throws(SpoolError) in
            var cursors: [String: UInt64] = [:]
            try txn.scan(cursorsDB, from: nil) { (key, value) throws(SpoolError) -> Bool in
                if let next = SpoolKey.decodeUInt64(value) { cursors[String(decoding: key, as: UTF8.self)] = next }
                return true
            }
            return (try txn.stat(recordsDB).entries, cursors)
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
            var first: UInt64?
            var oldestTimestampMs: Int64?
            try txn.scan(recordsDB, from: nil) { (key, value) throws(SpoolError) -> Bool in
                first = SpoolKey.decodeSequence(key)
                oldestTimestampMs = RecordCodec.decode(value)?.timestampMs
                return false
            }
            let persistedNext = try txn.get(otherDBs[1], key: SpoolKey.nextSequence).flatMap { bytes in
                bytes.withUnsafeBytes { SpoolKey.decodeUInt64($0) }
            }
            var cursors: [String: UInt64] = [:]
            try txn.scan(cursorsDB, from: nil) { (key, value) throws(SpoolError) -> Bool in
                if let next = SpoolKey.decodeUInt64(value) { cursors[String(decoding: key, as: UTF8.self)] = next }
                return true
            }
            let next = persistedNext ?? cursors.values.max() ?? 0
            let sinks = cursors.sorted { $0.key < $1.key }.map { name, cursor in
                SpoolStats.Sink(name: name, cursor: cursor, backlog: Int(next > cursor ? next - cursor : 0))
            }
            return SpoolStats(
                usedBytes: pages * env.pageSize, fileBytes: fileSize(), records: try txn.stat(recordsDB).entries,
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
