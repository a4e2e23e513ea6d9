import LogBridgeCore

/// The types `convert` turns a field into.
public enum ConversionType: String, Sendable, CaseIterable {
    case int, float, bool, string
}

/// `convert`: fields to int, float, bool or string. A value that does not convert is kept as it
/// was and the event marked (the value itself is not written to the mark: it may be personal).
final class ConvertProcessor: EventProcessor {
    let fields: [(FieldPath, ConversionType)]

    init(fields: [(FieldPath, ConversionType)]) { self.fields = fields }

    func process(_ event: Event, _ context: ProcessingContext) {
        for (path, type) in fields {
            guard let node = event.lookup(path) else { continue }
            let kind = event.kind(of: node)
            guard kind != .object, kind != .array, kind != .null else { continue }
            context.scratch.removeAll(keepingCapacity: true)
            event.appendText(of: node, to: &context.scratch)
            let converted: Bool = context.scratch.withUnsafeBytes { text in
                switch type {
                case .string:
                    if kind != .string { event.store(.string(text), in: node) }
                    return true
                case .int:
                    guard let value = ValueConversion.parseInteger(trimmed(text)) else { return false }
                    context.scratch2.removeAll(keepingCapacity: true)
                    JSONBytes.appendInteger(value, to: &context.scratch2)
                    context.scratch2.withUnsafeBytes { event.store(.number($0), in: node) }
                    return true
                case .float:
                    guard let value = ValueConversion.parseDouble(trimmed(text)), value.isFinite else { return false }
                    context.scratch2.removeAll(keepingCapacity: true)
                    ValueConversion.appendDouble(value, to: &context.scratch2)
                    context.scratch2.withUnsafeBytes { event.store(.number($0), in: node) }
                    return true
                case .bool:
                    guard let value = ValueConversion.parseBool(trimmed(text)) else { return false }
                    event.store(.bool(value), in: node)
                    return true
                }
            }
            if !converted { event.markFailure("convert: \(path) is not a valid \(type.rawValue)") }
        }
    }

    private func trimmed(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = text.count
        while start < end, text[start] == 0x20 || text[start] == 0x09 { start += 1 }
        while end > start, text[end - 1] == 0x20 || text[end - 1] == 0x09 { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: text[start..<end])
    }
}
