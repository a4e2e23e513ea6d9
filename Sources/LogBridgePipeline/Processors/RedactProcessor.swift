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

/// Without `fields`, scans the event's JSON text in one pass (the record's bytes when nothing
/// changed them, else the tree written out): escapes act as boundaries, keys are covered, and the
/// event stays bytes until a later processor needs fields. With `fields`, scans each string
/// under those fields in the tree.
final class RedactProcessor: EventProcessor {
    let options: RedactOptions
    private let redactor: Redactor
    /// Replacements per detector since the last ``takeCounts()``.
    private var counts: [Int]
    /// Where replacements go when the event is not counted (a replayed window).
    private var uncounted: [Int]
    /// Custom detector failures per detector (values masked whole) since the last
    /// ``takeFailedClosed()``, and where they go when the event is not counted.
    private var failedClosed: [Int]
    private var uncountedFailedClosed: [Int]
    private var output: [UInt8] = []
    private var leaves: [Event.Scalar] = []
    private var changes: [(node: Int32, role: Event.Scalar.Role, range: Range<Int>)] = []

    init(_ options: RedactOptions) throws(PipelineError) {
        self.options = options
        do {
            redactor = try Redactor(rules: options.rules)
        } catch {
            throw PipelineError(error.message)
        }
        counts = Array(repeating: 0, count: redactor.detectorNames.count)
        uncounted = counts
        failedClosed = counts
        uncountedFailedClosed = counts
    }

    var detectorNames: [String] { redactor.detectorNames }

    func process(_ event: Event, _ context: ProcessingContext) {
        if context.counting {
            redact(event, &counts, &failedClosed)
        } else {
            redact(event, &uncounted, &uncountedFailedClosed)
        }
    }

    private func redact(_ event: Event, _ local: inout [Int], _ failures: inout [Int]) {
        if options.fields == nil {
            // One scan over the whole JSON text beats one scan per value (measured 113 vs
            // ~200 MB/s on the PII corpus): write the tree out first.
            event.flattenToRaw()
            output.removeAll(keepingCapacity: true)
            let replaced = event.withRawBytes { raw -> Int in
                let context: RedactionContext = Self.looksLikeJSONObject(raw) ? .jsonText : .plain
                return redactor.redact(raw, context: context, into: &output, counts: &local, failedClosed: &failures)
            }
            if replaced > 0 { event.replaceRaw(with: output) }
            return
        }
        for field in options.fields ?? [] {
            guard let node = event.lookup(field) else { continue }
            redact(under: node, event, &local, &failures)
        }
    }

    /// Scans every string (and long number) under `node`. Two passes so the scan touches no
    /// class state per value: first all values are scanned inside one borrow of the arena, with
    /// replacements collected in `output`; then the changed values are stored.
    private func redact(under node: Int32, _ event: Event, _ counts: inout [Int], _ failures: inout [Int]) {
        leaves.removeAll(keepingCapacity: true)
        event.collectScalars(under: node, into: &leaves)
        guard !leaves.isEmpty else { return }
        output.removeAll(keepingCapacity: true)
        changes.removeAll(keepingCapacity: true)
        event.arena.withUnsafeBytes { arena in
            for leaf in leaves {
                // Only long numbers can hold a card or phone number; skip the rest cheaply.
                if leaf.role == .number && leaf.range.count < 9 { continue }
                let start = output.count
                let replaced = redactor.redact(
                    UnsafeRawBufferPointer(rebasing: arena[leaf.range]), context: leaf.role == .number ? .plain : .jsonString,
                    into: &output, counts: &counts, failedClosed: &failures)
                if replaced > 0 {
                    changes.append((leaf.node, leaf.role, start..<output.count))
                } else {
                    output.removeSubrange(start...)
                }
            }
        }
        for change in changes {
            output.withUnsafeBytes { bytes in
                let text = UnsafeRawBufferPointer(rebasing: bytes[change.range])
                switch change.role {
                case .string: event.storeEscapedString(text, in: change.node)
                case .number: event.store(.string(text), in: change.node)
                case .key: event.storeEscapedKey(text, of: change.node)
                }
            }
        }
    }

    /// The redactions counted since the last call, by detector name; resets them.
    func takeCounts() -> [(String, Int)] {
        defer { for i in counts.indices { counts[i] = 0 } }
        return zip(redactor.detectorNames, counts).filter { $0.1 > 0 }.map { ($0.0, $0.1) }
    }

    /// Custom detector failures counted since the last call, by detector name; resets them.
    func takeFailedClosed() -> [(String, Int)] {
        defer { for i in failedClosed.indices { failedClosed[i] = 0 } }
        return zip(redactor.detectorNames, failedClosed).filter { $0.1 > 0 }.map { ($0.0, $0.1) }
    }

    private static func looksLikeJSONObject(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes {
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { continue }
            return b == UInt8(ascii: "{")
        }
        return false
    }
}
