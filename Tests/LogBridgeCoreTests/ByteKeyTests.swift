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

    @Test func asADictionaryKeyEveryByteStringFindsItsOwnSlot() {
        var slots: [ByteKey: Int] = [:]
        let keys = (0..<2_000).map { Array("stream-\($0 * 7919 % 2_000)".utf8) }
        for (i, key) in keys.enumerated() { slots[ByteKey(key)] = i }
        #expect(slots.count == 2_000)
        for (i, key) in keys.enumerated() { #expect(slots[ByteKey(key)] == i) }
        #expect(slots[ByteKey(Array("stream-2000".utf8))] == nil)
    }
}
