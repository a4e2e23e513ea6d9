#if canImport(Glibc)
import Glibc
#endif

/// A byte string as a dictionary or set key, hashed and compared as one buffer.
///
/// `[UInt8]`'s own `Hashable` feeds the hasher one element at a time (`Hasher._combine(UInt8)`
/// per byte): 5.7% of the forwarder's CPU in the Loki bench profile (`make bench-profile
/// SCENARIO=loki`) before this type, where every record looks up its stream's label set. This
/// hashes the bytes with one `combine(bytes:)` and compares them with `memcmp`.
public struct ByteKey: Hashable, Sendable {
    public var bytes: [UInt8]

    @inlinable public init(_ bytes: [UInt8]) { self.bytes = bytes }

    @inlinable public static func == (a: ByteKey, b: ByteKey) -> Bool {
        a.bytes.withUnsafeBytes { x in b.bytes.withUnsafeBytes { y in ByteKey.equal(x, y) } }
    }

    /// Whether two byte strings are equal, with one `memcmp`. The generic `elementsEqual` on a
    /// slice of raw bytes compares a byte per iteration through its iterator; key comparisons in
    /// the JSON scanners run it for every member of every record.
    ///
    /// Length and first byte are compared before `memcmp` is called: most member names match no
    /// key, and the calls showed in the Elasticsearch profile once the event time fields joined
    /// the keys the validator notes (docs/cpu-profile.md).
    @inlinable public static func equal(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) -> Bool {
        x.count == y.count && (x.isEmpty || (x[0] == y[0] && memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0))
    }

    /// `equal(_:_:)` for a slice of a buffer and an array.
    ///
    /// Length and first byte are compared before the array's storage is handed to `memcmp`:
    /// handing it over retains and releases the array (it is an element of the caller's key list),
    /// and the JSON scanners compare every member name with every key they note.
    @inlinable public static func equal(_ x: Slice<UnsafeRawBufferPointer>, _ y: [UInt8]) -> Bool {
        guard x.count == y.count else { return false }
        guard let first = y.first else { return true }
        return x.first == first && y.withUnsafeBytes { equal(UnsafeRawBufferPointer(rebasing: x), $0) }
    }

    @inlinable public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
