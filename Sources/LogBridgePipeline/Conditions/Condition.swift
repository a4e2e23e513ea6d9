/// A test on an event's fields, for `filter`, `drop`, `route` and `metrics`:
///
/// ```yaml
/// when: {field: level, equals: error}
/// when: {field: level, in: [error, fatal]}
/// when: {field: message, matches: "timeout|refused"}   # PCRE2
/// when: {field: user.email, exists: true}
/// when: {field: status, gte: 500}                     # gt, gte, lt, lte: numeric
/// when: {and: [...]}   {or: [...]}   {not: {...}}
/// ```
public indirect enum ConditionConfiguration: Sendable, Equatable {
    case equals(FieldPath, String)
    case notEquals(FieldPath, String)
    case oneOf(FieldPath, [String])
    case matches(FieldPath, String)
    case contains(FieldPath, String)
    case exists(FieldPath, Bool)
    case compare(FieldPath, NumericComparison, Double)
    case and([ConditionConfiguration])
    case or([ConditionConfiguration])
    case not(ConditionConfiguration)
}

public enum NumericComparison: String, Sendable, CaseIterable {
    case gt, gte, lt, lte
}

/// A compiled condition: strings turned to bytes, patterns compiled once.
final class Condition {
    private enum Test {
        case equals(FieldPath, [UInt8], Bool)
        case oneOf(FieldPath, [[UInt8]])
        case matches(FieldPath, PCRE2Pattern)
        case contains(FieldPath, [UInt8])
        case exists(FieldPath, Bool)
        case compare(FieldPath, NumericComparison, Double)
        case and([Condition])
        case or([Condition])
        case not(Condition)
    }

    private let test: Test

    /// - Throws: ``PipelineError`` for a pattern PCRE2 refuses.
    init(_ configuration: ConditionConfiguration) throws(PipelineError) {
        switch configuration {
        case .equals(let path, let value): test = .equals(path, Array(value.utf8), true)
        case .notEquals(let path, let value): test = .equals(path, Array(value.utf8), false)
        case .oneOf(let path, let values): test = .oneOf(path, values.map { Array($0.utf8) })
        case .matches(let path, let pattern):
            do {
                test = .matches(path, try PCRE2Pattern(pattern))
            } catch {
                throw PipelineError("bad pattern for '\(path)': \(error.message)")
            }
        case .contains(let path, let value): test = .contains(path, Array(value.utf8))
        case .exists(let path, let flag): test = .exists(path, flag)
        case .compare(let path, let op, let value): test = .compare(path, op, value)
        case .and(let all): test = .and(try all.map { (c) throws(PipelineError) in try Condition(c) })
        case .or(let any): test = .or(try any.map { (c) throws(PipelineError) in try Condition(c) })
        case .not(let inner): test = .not(try Condition(inner))
        }
    }

    func evaluate(_ event: Event) -> Bool {
        switch test {
        case .equals(let path, let expected, let wanted):
            let equal = event.withText(at: path) { text in text.map { $0.elementsEqual(expected) } ?? false }
            return equal == wanted
        case .oneOf(let path, let values):
            // A short list compared in place: no array built per event.
            return event.withText(at: path) { text in text.map { text in values.contains { text.elementsEqual($0) } } ?? false }
        case .matches(let path, let pattern):
            return event.withText(at: path) { text in text.map { pattern.firstMatch(in: $0) != nil } ?? false }
        case .contains(let path, let needle):
            return event.withText(at: path) { text in text.map { Self.contains($0, needle) } ?? false }
        case .exists(let path, let wanted):
            return event.has(path) == wanted
        case .compare(let path, let op, let bound):
            guard let value = event.withText(at: path, { $0.flatMap(ValueConversion.parseDouble) }) else { return false }
            switch op {
            case .gt: return value > bound
            case .gte: return value >= bound
            case .lt: return value < bound
            case .lte: return value <= bound
            }
        case .and(let all): return all.allSatisfy { $0.evaluate(event) }
        case .or(let any): return any.contains { $0.evaluate(event) }
        case .not(let inner): return !inner.evaluate(event)
        }
    }

    private static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count, haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }
}
