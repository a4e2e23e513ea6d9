import CLMDB
#if canImport(Glibc)
import Glibc
#endif

/// A return code from an LMDB call, with LMDB's own description.
struct LMDBCode: Equatable, CustomStringConvertible {
    let rawValue: Int32

    static let success = LMDBCode(rawValue: 0)
    static let notFound = LMDBCode(rawValue: MDB_NOTFOUND)
    static let mapFull = LMDBCode(rawValue: MDB_MAP_FULL)
    static let keyExists = LMDBCode(rawValue: MDB_KEYEXIST)

    var description: String { String(cString: mdb_strerror(rawValue)) }

    /// Disk-space and map-size failures: the spool is full, not broken.
    var isOutOfSpace: Bool {
        self == .mapFull || rawValue == ENOSPC || rawValue == EDQUOT
    }
}

/// Throws a ``SpoolError`` for any code but success.
@inline(__always)
func lmdbCheck(_ code: Int32, _ operation: StaticString) throws(SpoolError) {
    if code != 0 { throw SpoolError.lmdb(LMDBCode(rawValue: code), operation: "\(operation)") }
}
