/// `json`: parses a field holding JSON text into a target field, or merges an object into the
/// root. A value that looks like JSON (starts with `{` or `[`) but does not parse is kept and the
/// event marked; plain text is left alone, since most clusters mix JSON and text lines.
public struct ParseJSONOptions: Sendable, Equatable {
    public var field: FieldPath
    /// nil: merge the object's members into the root.
    public var target: FieldPath?
    /// Remove the source field after a successful parse.
    public var removeSource: Bool

    public init(field: FieldPath, target: FieldPath? = nil, removeSource: Bool = false) {
        self.field = field
        self.target = target
        self.removeSource = removeSource
    }
}

final class ParseJSONProcessor: EventProcessor {
    let options: ParseJSONOptions

    init(_ options: ParseJSONOptions) { self.options = options }

    func process(_ event: Event, _ context: ProcessingContext) {
        guard let node = event.lookup(options.field), event.kind(of: node) == .string else { return }
        context.scratch.removeAll(keepingCapacity: true)
        event.appendText(of: node, to: &context.scratch)
        guard let first = context.scratch.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }),
            first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
        else { return }
        let target = options.target ?? .root
        let parsed = context.scratch.withUnsafeBytes { event.setJSON(target, json: $0) }
        guard parsed else {
            event.markFailure(target.isRoot && first == UInt8(ascii: "[")
                ? "json: \(options.field) holds an array, which cannot be merged into the root"
                : "json: \(options.field) is not valid JSON")
            return
        }
        if options.removeSource, options.target != options.field { event.remove(options.field) }
    }
}
