import CLMDB
import LogBridgeCore
import Synchronization

/// Reads the spooled log in sequence order: records a format-2 spool stored one per entry in
/// `records` (below `legacyEnd`, read until the sinks have delivered them), then format-3
/// segments in `segments` (``SegmentCodec``).
struct SpoolLogReader {
    let db: SpoolDatabases
    /// Sequences below this are format-2 entries in `records`; 0 when there are none.
    let legacyEnd: UInt64
    let cache: SegmentCache

    enum Item {
        /// One record's ``RecordCodec`` bytes, valid only inside the visit.
        case record(sequence: UInt64, bytes: UnsafeRawBufferPointer)
        /// A segment that cannot be read (its checksum, header or body is damaged): `sequence` is
        /// where it starts, `end` the next segment's first sequence (nil when it is the last one:
        /// the log's next sequence is then its end).
        case corrupt(sequence: UInt64, end: UInt64?, stored: UnsafeRawBufferPointer)
    }

    /// Visits the records from the first one with sequence >= `from` until `body` returns false.
    /// - Parameter mapped: each stored value read from the map, so the caller can release its
    ///   pages afterwards (``TouchedPages``).
    func visit(
        _ txn: borrowing LMDBTransaction, from: UInt64, mapped: (UnsafeRawBufferPointer) -> Void = { _ in },
        _ body: (Item) throws(SpoolError) -> Bool
    ) throws(SpoolError) {
        var going = true
        if from < legacyEnd {
            try txn.scan(db.records, from: SpoolKey.sequence(from)) { (key, value) throws(SpoolError) -> Bool in
                mapped(value)
                going = try body(.record(sequence: SpoolKey.decodeSequence(key), bytes: value))
                return going
            }
            guard going else { return }
        }
        /// A damaged segment's own length cannot be trusted: it is reported once the next segment's
        /// key says where it ends (its bytes stay valid for the whole transaction).
        var damaged: (first: UInt64, stored: UnsafeRawBufferPointer)?
        try txn.scan(db.segments, from: SpoolKey.sequence(from), floor: true) { (key, value) throws(SpoolError) -> Bool in
            let first = SpoolKey.decodeSequence(key)
            if let previous = damaged {
                damaged = nil
                going = try body(.corrupt(sequence: previous.first, end: first, stored: previous.stored))
                guard going else { return false }
            }
            mapped(value)
            guard let header = SegmentCodec.header(value), let end = SegmentCodec.end(first: first, count: header.count) else {
                damaged = (first, value)
                return true
            }
            guard end > from else { return true }  // the floor segment ended before `from`
            let start = from > first ? Int(from - first) : 0
            let visited: Bool? = try cache.body(of: value, first: first, header: header) { (raw) throws(SpoolError) -> Bool in
                var previous = start == 0 ? 0 : SegmentCodec.recordEnd(value, index: start - 1)
                for index in start..<header.count {
                    let recordEnd = SegmentCodec.recordEnd(value, index: index)
                    // The checksum covered the index: this is a writer's bug, not a disk's.
                    guard previous <= recordEnd, recordEnd <= raw.count else {
                        return try body(.corrupt(sequence: first + UInt64(index), end: end, stored: value))
                    }
                    let bytes = UnsafeRawBufferPointer(rebasing: raw[previous..<recordEnd])
                    guard try body(.record(sequence: first + UInt64(index), bytes: bytes)) else { return false }
                    previous = recordEnd
                }
                return true
            }
            guard let visited else {
                damaged = (first, value)
                return true
            }
            going = visited
            return going
        }
        if let last = damaged { _ = try body(.corrupt(sequence: last.first, end: nil, stored: last.stored)) }
    }

    /// One record's bytes, handed to `body`, or nil when it is not in the spool.
    func record<T>(_ txn: borrowing LMDBTransaction, sequence: UInt64, _ body: (UnsafeRawBufferPointer) -> T?) throws(SpoolError) -> T? {
        var result: T?
        try visit(txn, from: sequence) { (item) throws(SpoolError) -> Bool in
            if case .record(let found, let bytes) = item, found == sequence { result = body(bytes) }
            return false
        }
        return result
    }

    /// The first stored sequence and the sequence after the last one, over both tables.
    func bounds(_ txn: borrowing LMDBTransaction) throws(SpoolError) -> (first: UInt64?, next: UInt64?) {
        var first: UInt64?
        var next: UInt64?
        try txn.scan(db.records, from: nil) { (key, _) throws(SpoolError) -> Bool in
            first = SpoolKey.decodeSequence(key)
            return false
        }
        if let last = try txn.lastKey(db.records) { next = last.withUnsafeBytes { SpoolKey.decodeSequence($0) } + 1 }
        try txn.scan(db.segments, from: nil) { (key, _) throws(SpoolError) -> Bool in
            first = min(first ?? .max, SpoolKey.decodeSequence(key))
            return false
        }
        if let last = try txn.lastKey(db.segments) {
            let key = SpoolKey.sequence(last.withUnsafeBytes { SpoolKey.decodeSequence($0) })
            try txn.scan(db.segments, from: key) { (key, value) throws(SpoolError) -> Bool in
                // A damaged last segment counts as one record: the sequence counter in `meta` is
                // the other authority, and the larger of the two wins.
                let first = SpoolKey.decodeSequence(key)
                let end = SegmentCodec.end(first: first, count: SegmentCodec.header(value)?.count ?? 1) ?? first
                next = max(next ?? 0, end)
                return false
            }
        }
        return (first, next)
    }
}

/// The bodies of the last few compressed segments read, decompressed.
///
/// Sinks read the same segment in turn (each at its own cursor), and a sink whose batch is smaller
/// than a segment reads it several times: each body is decompressed once, not once per read.
/// A stored segment never changes (sequences are never reused once committed), so its key is
/// enough to name its body.
final class SegmentCache: Sendable {
    private static let capacity = 8
    /// Keyed by first sequence and checksum: a sequence can be written again after a write
    /// transaction that read its segment failed, never with the same checksum by chance alone.
    private let entries = Mutex<[(first: UInt64, checksum: UInt32, body: [UInt8])]>([])

    /// Runs `use` on the segment's body: the stored bytes when uncompressed, else the cached or
    /// newly decompressed body. Nil when the body is damaged (its checksum does not match, or it
    /// does not decompress).
    func body<T>(
        of value: UnsafeRawBufferPointer, first: UInt64, header: SegmentCodec.Header,
        _ use: (UnsafeRawBufferPointer) throws(SpoolError) -> T
    ) throws(SpoolError) -> T? {
        if header.compression == .none {
            guard SegmentCodec.isIntact(value, header: header) else { return nil }
            return try use(UnsafeRawBufferPointer(rebasing: value[header.bodyOffset...]))
        }
        let cached = entries.withLock { entries in
            entries.first { $0.first == first && $0.checksum == header.checksum }?.body
        }
        let body: [UInt8]
        if let cached, cached.count == header.bodyLength {
            body = cached
        } else {
            guard SegmentCodec.isIntact(value, header: header) else { return nil }
            let decompressed = [UInt8](unsafeUninitializedCapacity: header.bodyLength) { buffer, initialized in
                let stored = UnsafeRawBufferPointer(rebasing: value[header.bodyOffset...])
                if SegmentCodec.decompress(stored, into: UnsafeMutableRawBufferPointer(buffer), header.compression) {
                    initialized = header.bodyLength
                } else {
                    initialized = 0
                }
            }
            guard decompressed.count == header.bodyLength else { return nil }
            body = decompressed
            entries.withLock { entries in
                entries.append((first, header.checksum, body))
                if entries.count > Self.capacity { entries.removeFirst() }
            }
        }
        // Array's withUnsafeBytes is untyped `rethrows`: carry the typed error out in a Result.
        let result = body.withUnsafeBytes { raw in Result { () throws(SpoolError) -> T in try use(raw) } }
        return try result.get()
    }
}
