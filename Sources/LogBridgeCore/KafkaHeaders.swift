/// A record's Kafka headers as one block of bytes, the way the spool stores them and
/// ``RecordBatch/Record/headers`` points at them: one entry per header, in the producer's order,
///
/// ```
/// u16 name length | name | u32 value length (0xFFFFFFFF: null value) | value     (little-endian)
/// ```
///
/// A block rather than a table of ranges so a record's headers cost one range in the batch and
/// one copy in the spool; lookups by name scan it (records carry a handful of headers at most).
public enum KafkaHeaders {
    /// Headers past this many bytes in one record are not kept (the spool keeps the record):
    /// Event Hubs caps a whole event at 1 MB, and templates need a few short values.
    public static let maxBlockBytes = 64 << 10

    /// Appends one header to a block being built. Returns false (appending nothing) when the
    /// name is longer than 65,535 bytes.
    @discardableResult
    public static func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?, to block: inout [UInt8]) -> Bool {
        guard name.count <= Int(UInt16.max) else { return false }
        withUnsafeBytes(of: UInt16(name.count).littleEndian) { block.append(contentsOf: $0) }
        block.append(contentsOf: name)
        let length = value.map { UInt32($0.count) } ?? UInt32.max
        withUnsafeBytes(of: length.littleEndian) { block.append(contentsOf: $0) }
        if let value { block.append(contentsOf: value) }
        return true
    }

    /// Calls `body` with each header's name and value (nil for a null value) until it returns
    /// false. A truncated block ends the walk.
    public static func forEach(in block: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) -> Bool) {
        var i = block.startIndex
        while i + 2 <= block.endIndex {
            let nameLength = Int(UInt16(littleEndian: block.loadUnaligned(fromByteOffset: i - block.startIndex, as: UInt16.self)))
            let nameStart = i + 2
            guard nameStart + nameLength + 4 <= block.endIndex else { return }
            let name = UnsafeRawBufferPointer(rebasing: block[nameStart..<(nameStart + nameLength)])
            let raw = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: nameStart + nameLength - block.startIndex, as: UInt32.self))
            let valueStart = nameStart + nameLength + 4
            var value: UnsafeRawBufferPointer?
            if raw != UInt32.max {
                guard valueStart + Int(raw) <= block.endIndex else { return }
                value = UnsafeRawBufferPointer(rebasing: block[valueStart..<(valueStart + Int(raw))])
                i = valueStart + Int(raw)
            } else {
                i = valueStart
            }
            if !body(name, value) { return }
        }
    }

    /// The value of the first header called `name` (Kafka allows repeats), nil when absent or null.
    public static func value(named name: [UInt8], in block: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var found: UnsafeRawBufferPointer?
        forEach(in: block) { key, value in
            guard key.count == name.count, key.elementsEqual(name) else { return true }
            found = value
            return false
        }
        return found
    }
}
