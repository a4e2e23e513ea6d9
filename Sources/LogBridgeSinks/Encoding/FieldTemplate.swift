import LogBridgeCore

/// A string built per record from literal text, event fields and the event's date:
/// `logs-{kubernetes.namespace_name}-%Y.%m.%d`, `{kubernetes.host}`.
///
/// - `{a.b.c}`: the field at that path of the record's JSON value (strings without quotes);
///   `fallback` when missing.
/// - `{%kafka.topic}`, `{%kafka.headers.NAME}`…: the record's Kafka metadata
///   (``KafkaMetadataField``); `fallback` when the record has none (no key, no such header).
/// - `%Y`, `%m`, `%d`, `%H`: the record's event time in UTC, so a retry lands in the same place.
/// - `%%`, `{{`: literal `%` and `{`.
public struct FieldTemplate: Sendable, Equatable, CustomStringConvertible {
    /// A part of the template. Parts hold indexes into the template's arrays, not arrays: a
    /// template is rendered for every record, and iterating parts that carry arrays or strings
    /// retains and releases each of them every time (10% of the Loki bench profile, with the
    /// label loop that copied templates).
    enum Part: Sendable, Equatable {
        /// A range of `literals`.
        case literal(Range<Int>)
        /// The index of the path in `paths`, and the slot of its first key in `topLevelKeys`.
        case field(Int, slot: Int)
        /// The index of the field in `metadataFields`.
        case metadata(Int)
        case year, month, day, hour
    }

    /// What the template holds, behind one reference: sinks copy templates per record here and
    /// there (optional bindings, tuples), and a copy then costs one retain, not one per array and
    /// string. Immutable once made.
    ///
    /// `@unchecked Sendable`: besides immutable values it owns `bytes` and `keyTable`, written once
    /// in `init`, read only after, freed in `deinit`.
    fileprivate final class Storage: @unchecked Sendable {
        let parts: [Part]
        let paths: [[[UInt8]]]
        let metadataFields: [KafkaMetadataField]
        let topLevelKeys: [[UInt8]]
        let source: String
        let fallback: String
        /// What `render` appends and looks up, in memory of its own: the literals (`Part.literal`
        /// ranges), then the fallback, then every key. Appending from an array or passing one to a
        /// lookup retained and released it each time, several times per record (1.2% of the Loki
        /// bench profile in the key lookups alone); pointers are plain values.
        private let bytes: UnsafeMutableRawBufferPointer
        let literalBytes: UnsafeRawBufferPointer
        let fallbackBytes: UnsafeRawBufferPointer
        /// Every path's keys, end to end; `pathKeys[n]` is path `n`'s range.
        let keyTable: UnsafeMutableBufferPointer<UnsafeRawBufferPointer>
        let pathKeys: [Range<Int>]

        init(
            parts: [Part], literals: [UInt8], paths: [[[UInt8]]], metadataFields: [KafkaMetadataField], topLevelKeys: [[UInt8]],
            source: String, fallback: String
        ) {
            self.parts = parts
            self.paths = paths
            self.metadataFields = metadataFields
            self.topLevelKeys = topLevelKeys
            self.source = source
            self.fallback = fallback
            let keys = paths.flatMap { $0 }
            let stored = [literals, Array(fallback.utf8)] + keys
            bytes = .allocate(byteCount: max(1, stored.reduce(0) { $0 + $1.count }), alignment: 1)
            var kept: [UnsafeRawBufferPointer] = []
            var offset = 0
            for piece in stored {
                let target = UnsafeMutableRawBufferPointer(rebasing: bytes[offset..<(offset + piece.count)])
                piece.withUnsafeBytes { target.copyMemory(from: $0) }
                kept.append(UnsafeRawBufferPointer(target))
                offset += piece.count
            }
            literalBytes = kept[0]
            fallbackBytes = kept[1]
            keyTable = .allocate(capacity: max(1, keys.count))
            for n in keys.indices { keyTable[n] = kept[2 + n] }
            var start = 0
            pathKeys = paths.map { path in
                defer { start += path.count }
                return start..<(start + path.count)
            }
        }

        deinit {
            bytes.deallocate()
            keyTable.deallocate()
        }
    }

    private let storage: Storage

    var parts: [Part] { storage.parts }
    /// The Kafka metadata the template reads, in order.
    public var metadataFields: [KafkaMetadataField] { storage.metadataFields }
    /// The distinct first keys of the fields the template reads, for callers that find them in
    /// one pass of their own (`JSONBytes.isValidObject(_:noting:into:)`) and render with `found`.
    public var topLevelKeys: [[UInt8]] { storage.topLevelKeys }
    public var source: String { storage.source }
    public var fallback: String { storage.fallback }

    /// Two templates are the same when written the same: everything else is derived from that.
    public static func == (a: FieldTemplate, b: FieldTemplate) -> Bool {
        a.storage === b.storage || (a.source == b.source && a.fallback == b.fallback)
    }

    /// - Throws: a message naming what is wrong (for the configuration error).
    public init(_ source: String, fallback: String = "unknown") throws(TemplateError) {
        var parts: [Part] = []
        var topLevelKeys: [[UInt8]] = []
        var literals: [UInt8] = []
        var paths: [[[UInt8]]] = []
        var metadataFields: [KafkaMetadataField] = []
        var literal: [UInt8] = []
        var chars = Array(source.unicodeScalars)[...]
        func flush() {
            if !literal.isEmpty {
                parts.append(.literal(literals.count..<(literals.count + literal.count)))
                literals += literal
                literal = []
            }
        }
        while let c = chars.popFirst() {
            switch c {
            case "%":
                guard let spec = chars.popFirst() else { throw TemplateError(message: "'%' at the end of '\(source)'") }
                switch spec {
                case "Y": flush(); parts.append(.year)
                case "m": flush(); parts.append(.month)
                case "d": flush(); parts.append(.day)
                case "H": flush(); parts.append(.hour)
                case "%": literal.append(UInt8(ascii: "%"))
                default: throw TemplateError(message: "unknown date field %\(spec) in '\(source)' (use %Y, %m, %d, %H)")
                }
            case "{":
                if chars.first == "{" {
                    chars.removeFirst()
                    literal.append(UInt8(ascii: "{"))
                    continue
                }
                guard let end = chars.firstIndex(of: "}") else { throw TemplateError(message: "unclosed '{' in '\(source)'") }
                let name = String(String.UnicodeScalarView(chars[..<end]))
                chars = chars[chars.index(after: end)...]
                let metadata: KafkaMetadataField?
                do { metadata = try KafkaMetadataField.parse(name) } catch { throw TemplateError(message: "\(error.message) in '\(source)'") }
                if let metadata {
                    flush()
                    parts.append(.metadata(metadataFields.count))
                    metadataFields.append(metadata)
                    continue
                }
                let path = name.split(separator: ".").map(String.init)
                guard !path.isEmpty, !path.contains(where: \.isEmpty) else { throw TemplateError(message: "empty field name in '\(source)'") }
                flush()
                let keys = path.map { Array($0.utf8) }
                let slot = topLevelKeys.firstIndex(of: keys[0]) ?? topLevelKeys.count
                if slot == topLevelKeys.count { topLevelKeys.append(keys[0]) }
                parts.append(.field(paths.count, slot: slot))
                paths.append(keys)
            default:
                literal.append(contentsOf: Array(String(c).utf8))
            }
        }
        flush()
        storage = Storage(
            parts: parts, literals: literals, paths: paths, metadataFields: metadataFields, topLevelKeys: topLevelKeys, source: source,
            fallback: fallback)
    }

    public var description: String { source }

    /// Whether the result is the same for every record (no fields, no dates).
    public var isConstant: Bool { parts.allSatisfy { if case .literal = $0 { return true } else { return false } } }

    /// The fields the template reads.
    public var fieldPaths: [[String]] {
        storage.paths.map { keys in keys.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Renders for one record, appending to `out`; each field is looked up in `value`.
    public func render(value: UnsafeRawBufferPointer, timestampMs: Int64, metadata: KafkaRecordMetadata? = nil, into out: inout [UInt8]) {
        render(value: value, timestampMs: timestampMs, foundIn: nil, metadata: metadata, into: &out)
    }

    /// `render` for a record whose top-level members the caller has already found: slot `k` of
    /// `found` is the raw value range of `topLevelKeys[k]` in `value`, nil when absent (callers
    /// that render several templates per record pass each its part of one buffer, which retains
    /// nothing). Only the path below the first key is searched, inside that member. With `found`
    /// nil, each field is looked up in `value`.
    public func render(
        value: UnsafeRawBufferPointer, timestampMs: Int64, foundIn found: UnsafeBufferPointer<Range<Int>?>?,
        metadata: KafkaRecordMetadata? = nil, into out: inout [UInt8]
    ) {
        Self.render(storage, value: value, timestampMs: timestampMs, foundIn: found, metadata: metadata, into: &out)
    }

    /// The template without a reference of its own, for loops that render templates some owner
    /// keeps alive (a sink's configuration) once per record: reading a template out of an array
    /// retained and released its storage for every record and label (Loki's labels: that row's
    /// Swift pool went 1.40 -> 1.32 CPU s per 1M records without it, docs/cpu-profile.md). Valid
    /// only while the template it came from, or a copy, lives: hold that one with
    /// `withExtendedLifetime` around the loop. (`_withUnsafeGuaranteedRef` is the standard
    /// library's way to use an `Unmanaged` reference without retaining it; swift-nio uses it too.)
    struct Unretained {
        fileprivate let storage: Unmanaged<Storage>

        /// ``FieldTemplate/render(value:timestampMs:foundIn:metadata:into:)``.
        func render(
            value: UnsafeRawBufferPointer, timestampMs: Int64, foundIn found: UnsafeBufferPointer<Range<Int>?>?,
            metadata: KafkaRecordMetadata?, into out: inout [UInt8]
        ) {
            storage._withUnsafeGuaranteedRef {
                FieldTemplate.render($0, value: value, timestampMs: timestampMs, foundIn: found, metadata: metadata, into: &out)
            }
        }
    }

    /// This template as an ``Unretained`` handle; the caller keeps the template alive.
    var unretained: Unretained { Unretained(storage: .passUnretained(storage)) }

    private static func render(
        _ storage: Storage, value: UnsafeRawBufferPointer, timestampMs: Int64, foundIn found: UnsafeBufferPointer<Range<Int>?>?,
        metadata: KafkaRecordMetadata?, into out: inout [UInt8]
    ) {
        var civil: (Int, Int, Int, Int)?
        func date() -> (Int, Int, Int, Int) {
            if let civil { return civil }
            let millis = timestampMs >= 0 ? timestampMs : 0
            let days = Int(millis / 86_400_000)
            let (y, m, d) = CivilTime.civilFromDaysCached(days)
            let computed = (y, m, d, Int(millis / 3_600_000 % 24))
            civil = computed
            return computed
        }
        for i in storage.parts.indices {
            switch storage.parts[i] {
            case .literal(let range): out.append(contentsOf: UnsafeRawBufferPointer(rebasing: storage.literalBytes[range]))
            case .field(let path, let slot):
                let keys = UnsafeBufferPointer(rebasing: storage.keyTable[storage.pathKeys[path]])
                if let field = Self.field(keys, slot: slot, in: value, found: found), !field.isEmpty {
                    out.append(contentsOf: field)
                } else {
                    out.append(contentsOf: storage.fallbackBytes)
                }
            case .metadata(let field):
                let start = out.count
                if metadata?.append(storage.metadataFields[field], to: &out) != true || out.count == start {
                    out.append(contentsOf: storage.fallbackBytes)
                }
            case .year: Timestamp.appendPadded(date().0, width: 4, to: &out)
            case .month: Timestamp.appendPadded(date().1, width: 2, to: &out)
            case .day: Timestamp.appendPadded(date().2, width: 2, to: &out)
            case .hour: Timestamp.appendPadded(date().3, width: 2, to: &out)
            }
        }
    }

    private static func field(
        _ keys: UnsafeBufferPointer<UnsafeRawBufferPointer>, slot: Int, in value: UnsafeRawBufferPointer, found: UnsafeBufferPointer<Range<Int>?>?
    ) -> UnsafeRawBufferPointer? {
        guard let found else { return JSONBytes.lookup(keys: keys, from: 0, in: value) }
        guard let range = found[slot] else { return nil }
        let member = UnsafeRawBufferPointer(rebasing: value[range])
        return keys.count == 1 ? JSONBytes.unquoted(member) : JSONBytes.lookup(keys: keys, from: 1, in: member)
    }

    public func render(value: UnsafeRawBufferPointer, timestampMs: Int64, metadata: KafkaRecordMetadata? = nil) -> String {
        var out: [UInt8] = []
        render(value: value, timestampMs: timestampMs, metadata: metadata, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

public struct TemplateError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
