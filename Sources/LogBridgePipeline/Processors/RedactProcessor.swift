/// `redact`: replaces personal data and secrets found by the detectors (see ``Redactor``).
public struct RedactOptions: Sendable {
    public var rules: RedactionRules
    /// Fields to scan (objects: every string under them); nil: every string value of the event.
    public var fields: [FieldPath]?
    public init(rules: RedactionRules = RedactionRules(), fields: [FieldPath]? = nil) {
        self.rules = rules
        self.fields = fields
    }
}

/// Scans the record's bytes directly when nothing has parsed the event yet (the common case for
/// a pipeline that only redacts: JSON escapes act as boundaries, nothing is re-serialised);
/// otherwise scans each string value of the tree in place.
final class RedactProcessor: EventProcessor {
    let options: RedactOptions
    private let redactor: Redactor
    /// Replacements per detector since the last ``takeCounts()``.
    private var counts: [Int]
    private var output: [UInt8] = []

    init(_ options: RedactOptions) throws(PipelineError) {
        self.options = options
        do {
            redactor = try Redactor(rules: options.rules)
        } catch {
            throw PipelineError(error.message)
        }
        counts = Array(repeating: 0, count: redactor.detectorNames.count)
    }

    var detectorNames: [String] { redactor.detectorNames }

    func process(_ event: Event, _ context: ProcessingContext) {
        var local = counts
        defer { if context.counting { counts = local } }
        if options.fields == nil, event.isRaw {
            output.removeAll(keepingCapacity: true)
            let replaced = event.withRawBytes { raw -> Int in
                let context: RedactionContext = Self.looksLikeJSONObject(raw) ? .jsonText : .plain
                return redactor.redact(raw, context: context, into: &output, counts: &local)
            }
            if replaced > 0 { event.replaceRaw(with: output) }
            return
        }
        if let fields = options.fields {
            for field in fields {
                guard let node = event.lookup(field) else { continue }
                redact(under: node, event, &local)
            }
        } else {
            event.ensureTree()
            redact(under: 0, event, &local)
        }
    }

    private func redact(under node: Int32, _ event: Event, _ counts: inout [Int]) {
        event.forEachString(under: node) { leaf in
            let (range, _) = event.valueSpan(of: leaf)
            let isString = event.kind(of: leaf) == .string
            // Only long numbers can hold a card or phone number; skip the rest cheaply.
            if !isString && range.count < 9 { return }
            output.removeAll(keepingCapacity: true)
            let replaced = event.arena.withUnsafeBytes { arena in
                redactor.redact(
                    UnsafeRawBufferPointer(rebasing: arena[range]), context: isString ? .jsonString : .plain, into: &output,
                    counts: &counts)
            }
            guard replaced > 0 else { return }
            if isString {
                output.withUnsafeBytes { event.storeEscapedString($0, in: leaf) }
            } else {
                output.withUnsafeBytes { event.store(.string($0), in: leaf) }
            }
        }
    }

    /// The redactions counted since the last call, by detector name; resets them.
    func takeCounts() -> [(String, Int)] {
        defer { for i in counts.indices { counts[i] = 0 } }
        return zip(redactor.detectorNames, counts).filter { $0.1 > 0 }.map { ($0.0, $0.1) }
    }

    private static func looksLikeJSONObject(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes {
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { continue }
            return b == UInt8(ascii: "{")
        }
        return false
    }
}
