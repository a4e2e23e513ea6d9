import LogBridgeCore
import Testing

@Suite struct ByteKeyTests {
    @Test func keysAreEqualExactlyWhenTheirBytesAre() {
        let a = ByteKey(Array(#"{"app":"checkout","namespace":"shop"}"#.utf8))
        var copy = a.bytes
        copy.reserveCapacity(256)  // another buffer, same bytes
        #expect(a == ByteKey(copy))
        #expect(a.hashValue == ByteKey(copy).hashValue)
        #expect(a != ByteKey(Array(#"{"app":"checkout","namespace":"shoq"}"#.utf8)))
        #expect(a != ByteKey(Array(a.bytes.dropLast())), "a prefix is another key")
        #expect(ByteKey([]) == ByteKey([]))
        #expect(ByteKey([]) != ByteKey([0]))
    }

    /// A slice of a record against a key array, as the JSON scanners compare member names: the
    /// length and first byte decide most of them before any `memcmp`.
    @Test func aSliceEqualsAKeyExactlyWhenTheirBytesAre() {
        let record = Array(#"{"time":"t","tame":"u","":"v","timestamp":"w"}"#.utf8)
        record.withUnsafeBytes { bytes in
            func name(_ text: String) -> Slice<UnsafeRawBufferPointer> {
                let needle = Array("\"\(text)\"".utf8)
                let at = (0...(bytes.count - needle.count)).first { i in needle.indices.allSatisfy { bytes[i + $0] == needle[$0] } }!
                return bytes[(at + 1)..<(at + needle.count - 1)]
            }
            #expect(ByteKey.equal(name("time"), Array("time".utf8)))
            #expect(!ByteKey.equal(name("tame"), Array("time".utf8)), "same length and first byte, another key")
            #expect(!ByteKey.equal(name("time"), Array("lime".utf8)), "same length, another first byte")
            #expect(!ByteKey.equal(name("timestamp"), Array("time".utf8)), "a longer name")
            #expect(!ByteKey.equal(name("time"), Array("timestamp".utf8)), "a shorter name")
            #expect(ByteKey.equal(name(""), []))
            #expect(!ByteKey.equal(name(""), Array("t".utf8)))
            #expect(!ByteKey.equal(name("time"), []))
        }
    }

    /// Literals land byte for byte, whatever the buffer already holds and whether it must grow.
    @Test func literalsAreAppendedByteForByte() {
        var out: [UInt8] = Array("x".utf8)
        out.append(literal: #"{"create":{"_index":"#)
        out.append(literal: "")
        out.append(literal: "\"")
        out.append(literal: "é—")
        #expect(out == Array(#"x{"create":{"_index":"é—"#.utf8))
        var grown: [UInt8] = []
        for _ in 0..<1_000 { grown.append(literal: "0123456789abcdef") }
        #expect(grown.count == 16_000)
        #expect(grown.suffix(16) == Array("0123456789abcdef".utf8)[...])
    }

    @Test func asADictionaryKeyEveryByteStringFindsItsOwnSlot() {
        var slots: [ByteKey: Int] = [:]
        let keys = (0..<2_000).map { Array("stream-\($0 * 7919 % 2_000)".utf8) }
        for (i, key) in keys.enumerated() { slots[ByteKey(key)] = i }
        #expect(slots.count == 2_000)
        for (i, key) in keys.enumerated() { #expect(slots[ByteKey(key)] == i) }
        #expect(slots[ByteKey(Array("stream-2000".utf8))] == nil)
    }
}
