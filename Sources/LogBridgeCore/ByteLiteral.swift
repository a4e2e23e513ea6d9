extension Array where Element == UInt8 {
    /// Appends a literal's UTF-8 bytes, e.g. `out.append(literal: #","_id":"#)`.
    ///
    /// A `StaticString` lives in the binary's constant data, so appending one touches no reference
    /// count. Appending a `static let` byte array instead retains and releases its buffer on every
    /// call, through the generic `append(contentsOf:)`: ~2% of the Elasticsearch row's profile
    /// went to the bulk body's punctuation that way (docs/cpu-profile.md).
    @inlinable
    public mutating func append(literal: StaticString) {
        literal.withUTF8Buffer { append(contentsOf: $0) }
    }
}
