#if canImport(Glibc)
import Glibc
#endif
import LogBridgeCore

/// A quick hash of bytes, eight at a time, for the fakes' own tables. It only spreads entries
/// (equality still compares the bytes); SipHash (`Hasher`) over every id or line was a sixth to a
/// fifth of a fake's CPU in the bench, where the fakes share two cores with the forwarder.
enum QuickHash {
    static func digest(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var i = 0
        while i + 8 <= bytes.count {
            hash = (hash ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x0000_0100_0000_01B3
            hash ^= hash >> 29
            i += 8
        }
        while i < bytes.count {
            hash = (hash ^ UInt64(bytes[i])) &* 0x0000_0100_0000_01B3
            i += 1
        }
        hash ^= hash >> 33
        hash &*= 0xFF51_AFD7_ED55_8CCD
        return hash ^ hash >> 33
    }

    static func digest(_ string: String) -> UInt64 {
        var string = string
        return string.withUTF8 { digest(UnsafeRawBufferPointer($0)) }
    }
}

/// The `_id`s of one Elasticsearch index: a set of byte strings kept end to end in one buffer,
/// with an open-addressing table of (digest, position) slots. The fake decides a `create`'s
/// conflict with one insert per document; a `Set<String>` made a `String` (a heap allocation
/// for ids over 15 bytes) and a SipHash per document, a fifth of the fake's CPU in the bench.
struct IDTable {
    private struct Slot {
        var digest: UInt64
        var start: UInt32
        /// `UInt32.max`: empty.
        var length: UInt32
    }

    private var bytes: [UInt8] = []
    private var slots: [Slot] = Array(repeating: Slot(digest: 0, start: 0, length: .max), count: 1024)
    private(set) var count = 0

    /// Adds `id`; false when it was there already.
    mutating func insert(_ id: UnsafeRawBufferPointer) -> Bool {
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let digest = QuickHash.digest(id)
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: digest) & mask
        while slots[index].length != .max {
            if slots[index].digest == digest, holds(slots[index], id) {
                return false
            }
            index = (index + 1) & mask
        }
        slots[index] = Slot(digest: digest, start: UInt32(bytes.count), length: UInt32(id.count))
        bytes.append(contentsOf: id)
        count += 1
        return true
    }

    /// Every id, in no particular order.
    var ids: [String] {
        slots.filter { $0.length != .max }.map { String(decoding: bytes[Int($0.start)..<Int($0.start + $0.length)], as: UTF8.self) }
    }

    private func holds(_ slot: Slot, _ id: UnsafeRawBufferPointer) -> Bool {
        bytes.withUnsafeBytes { all in
            ByteKey.equal(UnsafeRawBufferPointer(rebasing: all[Int(slot.start)..<Int(slot.start + slot.length)]), id)
        }
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(digest: 0, start: 0, length: .max), count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.length != .max {
            var index = Int(truncatingIfNeeded: slot.digest) & mask
            while slots[index].length != .max { index = (index + 1) & mask }
            slots[index] = slot
        }
    }
}
