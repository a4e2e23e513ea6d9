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

    /// - Throws: ``SpoolError`` when there is no spool at `path`.
    public init(path: String) throws(SpoolError) {
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") else {
            throw .lmdb(code: ENOENT, message: "no spool at \(path) (check spool.path)", operation: "open")
        }
        env = try LMDBEnvironment(directory: path, mapSize: 0, maxDatabases: SpoolDatabases.count + 2, readOnly: true)
        (deadLetterDB, recordsDB, cursorsDB) = try env.read(keepHandles: true) { (txn) throws(SpoolError) in
            (try txn.openDatabase("dead_letters", create: false), try txn.openDatabase("records", create: false),
             try txn.openDatabase("cursors", create: false))
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
}
