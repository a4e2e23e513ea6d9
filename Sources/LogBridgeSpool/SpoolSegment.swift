import CLMDB
import CLZ4
import CZlib
import CZstd
import LogBridgeCore

/// A segment: consecutive spooled records stored as one LMDB value (format 3).
///
/// The spool used to store each ~320-byte record as its own B-tree entry, so every record cost a
/// put, a leaf-page split now and then, and a copy of its page into the page cache. A segment holds
/// up to ``SegmentBuilder/targetBytes`` of records: one put, pages written once, and room to
/// compress. Sinks, cursors and dead letters still work per record: record `i` of the segment
/// keyed `first` has sequence `first + i`, and the record-end index finds it without parsing its
/// neighbours. Each record inside is a ``RecordCodec`` record, as in format 2.
///
/// ```
/// u8 version (1) | u8 compression (0 none, 1 lz4, 2 zstd) | u16 reserved (0)
/// | u32 record count | u32 body length | u32 stored body length | u32 CRC-32
/// | record count x u32 end offset of each record in the body | stored body
/// ```
///
/// All integers little-endian. The index stays uncompressed; the body is compressed as a whole
/// (one lz4 block or one zstd frame), or stored as is when compressing would not make it smaller.
/// LMDB keeps no checksums of its own: the CRC-32 (zlib's) covers everything but itself (header,
/// index, stored body), so a reader tells a damaged segment, which it quarantines, from records,
/// which it would otherwise deliver as garbage, and never sizes a buffer by a damaged length.
/// See docs/spool-format.md.
enum SegmentCodec {
    static let version: UInt8 = 1
    static let headerSize = 20

    enum Compression: UInt8 {
        case none = 0
        case lz4 = 1
        case zstd = 2
    }

    struct Header {
        var compression: Compression
        var count: Int
        var bodyLength: Int
        var storedLength: Int
        var checksum: UInt32

        /// Where the stored body starts in the value.
        var bodyOffset: Int { SegmentCodec.headerSize + 4 * count }
    }

    /// The header of a stored segment, or nil when it is not one (corrupt or truncated).
    static func header(_ value: UnsafeRawBufferPointer) -> Header? {
        guard value.count >= headerSize, value[0] == version, let compression = Compression(rawValue: value[1]) else { return nil }
        let count = Int(UInt32(littleEndian: value.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        let body = Int(UInt32(littleEndian: value.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        let stored = Int(UInt32(littleEndian: value.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        let checksum = UInt32(littleEndian: value.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        let header = Header(compression: compression, count: count, bodyLength: body, storedLength: stored, checksum: checksum)
        guard count > 0, value.count == header.bodyOffset + stored else { return nil }
        guard compression != .none || stored == body else { return nil }
        return header
    }

    /// Whether the segment is the one written: its CRC-32 matches the header, index and body.
    static func isIntact(_ value: UnsafeRawBufferPointer, header: Header) -> Bool {
        checksum(value) == header.checksum
    }

    /// CRC-32 of a whole segment value but its checksum field (bytes 16-19).
    static func checksum(_ value: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = value.baseAddress, value.count >= headerSize else { return 0 }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        var crc = crc32(0, bytes, 16)
        crc = crc32(crc, bytes + headerSize, UInt32(value.count - headerSize))
        return UInt32(truncatingIfNeeded: crc)
    }

    /// The sequence after the segment's last record; nil when a damaged key and count would
    /// overflow (the segment is then treated as damaged).
    static func end(first: UInt64, count: Int) -> UInt64? {
        let (end, overflow) = first.addingReportingOverflow(UInt64(count))
        return overflow ? nil : end
    }

    /// The end of record `index` in the body (its start is the previous record's end).
    static func recordEnd(_ value: UnsafeRawBufferPointer, index: Int) -> Int {
        Int(UInt32(littleEndian: value.loadUnaligned(fromByteOffset: headerSize + 4 * index, as: UInt32.self)))
    }

    /// Decompresses a whole body; true when it filled `out` exactly.
    static func decompress(_ stored: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, _ compression: Compression) -> Bool {
        guard let source = stored.baseAddress, let destination = out.baseAddress else { return out.isEmpty }
        switch compression {
        case .none:
            guard stored.count == out.count else { return false }
            out.copyMemory(from: stored)
            return true
        case .lz4:
            let produced = LZ4_decompress_safe(
                source.assumingMemoryBound(to: CChar.self), destination.assumingMemoryBound(to: CChar.self),
                Int32(clamping: stored.count), Int32(clamping: out.count))
            return Int(produced) == out.count
        case .zstd:
            let produced = ZSTD_decompress(destination, out.count, source, stored.count)
            return ZSTD_isError(produced) == 0 && produced == out.count
        }
    }
}

/// The writer thread's segment under construction: records are encoded into one reused buffer and
/// written to LMDB as a segment when it reaches ``targetBytes`` or the transaction ends.
///
/// The buffers (body, index, compression output, the compressors' own state) are allocated once
/// and kept, so a busy writer does not fault in fresh zeroed pages for every batch.
final class SegmentBuilder {
    /// Body bytes at which a segment is written. 256 KiB: large enough that lz4 and zstd find the
    /// repetition between Fluent Bit records (field names, pod labels), small enough that a sink
    /// reading a few hundred records decompresses little it does not use (docs/spool-format.md).
    static let targetBytes = 256 << 10

    let compression: SpoolCompression
    // Unchecked: a builder belongs to the spool writer's thread, and the runtime's exclusivity
    // check on each of these class properties ran for every record appended
    // (docs/cpu-profile.md, "Exclusivity checks").
    @exclusivity(unchecked) private var body: UnsafeMutableRawBufferPointer
    @exclusivity(unchecked) private var length = 0
    @exclusivity(unchecked) private var ends: [UInt32] = []
    @exclusivity(unchecked) private(set) var firstSequence: UInt64 = 0
    private var output: UnsafeMutableRawBufferPointer
    private let lz4State: UnsafeMutableRawPointer?
    private let zstdContext: OpaquePointer?

    init(compression: SpoolCompression) {
        self.compression = compression
        body = .allocate(byteCount: Self.targetBytes * 2, alignment: 16)
        output = .allocate(byteCount: 0, alignment: 16)
        lz4State = compression == .lz4 ? UnsafeMutableRawPointer.allocate(byteCount: Int(LZ4_sizeofState()), alignment: 16) : nil
        zstdContext = compression == .zstd ? ZSTD_createCCtx() : nil
        ends.reserveCapacity(4096)
    }

    deinit {
        body.deallocate()
        output.deallocate()
        lz4State?.deallocate()
        if let zstdContext { ZSTD_freeCCtx(zstdContext) }
    }

    var isFull: Bool { length >= Self.targetBytes }

    /// Appends one record of `size` bytes, written by `fill`, as sequence `sequence` (which must
    /// follow the previous record's).
    func append(sequence: UInt64, size: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        if ends.isEmpty { firstSequence = sequence }
        precondition(sequence == firstSequence + UInt64(ends.count), "segment sequences are consecutive")
        if length + size > body.count {
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(body.count * 2, length + size), alignment: 16)
            if length > 0 { grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: body[0..<length])) }
            body.deallocate()
            body = grown
        }
        fill(UnsafeMutableRawBufferPointer(rebasing: body[length..<(length + size)]))
        length += size
        ends.append(UInt32(length))
    }

    /// Forgets what was appended (the transaction it was for was aborted).
    func reset() {
        length = 0
        ends.removeAll(keepingCapacity: true)
    }

    /// Writes the segment under its first sequence and starts a new one.
    /// - Returns: the bytes stored (header, index and body), 0 when there was nothing to write.
    @discardableResult
    func flush(into txn: borrowing LMDBTransaction, _ dbi: MDB_dbi) throws(SpoolError) -> Int {
        guard !ends.isEmpty else { return 0 }
        defer { reset() }
        let raw = UnsafeRawBufferPointer(rebasing: body[0..<length])
        var kind = SegmentCodec.Compression.none
        var stored = raw
        if let compressed = compress(raw), compressed.count < raw.count {
            kind = compression == .zstd ? .zstd : .lz4
            stored = compressed
        }
        let indexBytes = 4 * ends.count
        let size = SegmentCodec.headerSize + indexBytes + stored.count
        let count = ends.count
        try txn.reserve(dbi, sequence: firstSequence, size: size, append: true) { out in
            out.storeBytes(of: SegmentCodec.version, toByteOffset: 0, as: UInt8.self)
            out.storeBytes(of: kind.rawValue, toByteOffset: 1, as: UInt8.self)
            out.storeBytes(of: UInt16(0), toByteOffset: 2, as: UInt16.self)
            out.storeBytes(of: UInt32(count).littleEndian, toByteOffset: 4, as: UInt32.self)
            out.storeBytes(of: UInt32(raw.count).littleEndian, toByteOffset: 8, as: UInt32.self)
            out.storeBytes(of: UInt32(stored.count).littleEndian, toByteOffset: 12, as: UInt32.self)
            out.storeBytes(of: UInt32(0), toByteOffset: 16, as: UInt32.self)
            ends.withUnsafeBytes { index in
                // The index is already little-endian on the machines Swift runs on here; convert
                // anyway when it is not, so the format does not depend on the host.
                if UInt32(1).littleEndian == 1 {
                    UnsafeMutableRawBufferPointer(rebasing: out[SegmentCodec.headerSize..<(SegmentCodec.headerSize + indexBytes)])
                        .copyMemory(from: index)
                } else {
                    for (i, end) in ends.enumerated() {
                        out.storeBytes(of: end.littleEndian, toByteOffset: SegmentCodec.headerSize + 4 * i, as: UInt32.self)
                    }
                }
            }
            UnsafeMutableRawBufferPointer(rebasing: out[(SegmentCodec.headerSize + indexBytes)...]).copyMemory(from: stored)
            out.storeBytes(of: SegmentCodec.checksum(UnsafeRawBufferPointer(out)).littleEndian, toByteOffset: 16, as: UInt32.self)
        }
        return size
    }

    /// The compressed body in `output`, or nil for `none` or when the library failed.
    private func compress(_ raw: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let source = raw.baseAddress else { return nil }
        let bound: Int
        switch compression {
        case .none: return nil
        case .lz4: bound = Int(LZ4_compressBound(Int32(raw.count)))
        case .zstd: bound = ZSTD_compressBound(raw.count)
        }
        if output.count < bound {
            output.deallocate()
            output = .allocate(byteCount: bound, alignment: 16)
        }
        guard let destination = output.baseAddress else { return nil }
        let produced: Int
        switch compression {
        case .none:
            return nil
        case .lz4:
            produced = Int(LZ4_compress_fast_extState(
                lz4State, source.assumingMemoryBound(to: CChar.self), destination.assumingMemoryBound(to: CChar.self),
                Int32(raw.count), Int32(bound), 1))
            guard produced > 0 else { return nil }
        case .zstd:
            // Level 1: zstd's fastest standard level, still well ahead of lz4 in ratio on JSON.
            let result = ZSTD_compressCCtx(zstdContext, destination, bound, source, raw.count, 1)
            guard ZSTD_isError(result) == 0 else { return nil }
            produced = result
        }
        return UnsafeRawBufferPointer(rebasing: output[0..<produced])
    }
}
