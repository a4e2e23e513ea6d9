import Foundation
import LogBridgeCore
import Yams

/// Walks a composed YAML tree strictly: unknown keys, wrong types and missing required values are
/// recorded as ``ConfigurationIssue``s with their key path and line, and decoding carries on so one
/// `check` run reports every problem.
///
/// Scalar strings may contain `${env:NAME}` and `${file:/path}` (the file's content, trimmed), so
/// secrets stay out of the file. What a reference expanded to never appears in an issue: messages
/// quote values as the file writes them (``written(_:)``), and ``report(_:_:_:)`` also replaces any
/// expanded value that a message would still carry (from a parser's own error text) with its
/// reference.
final class ConfigReader {
    private(set) var issues: [ConfigurationIssue] = []
    /// Not errors, but worth an operator's attention (a world-readable secret file); `check`
    /// prints them and `run` logs them.
    private(set) var warnings: [ConfigurationIssue] = []
    /// Key paths whose values are secrets, masked in `check` output.
    private(set) var secretPaths: Set<String> = []
    private let environment: [String: String]
    /// Set when `logbridge pipeline test` loads the file (see ``DryRunLoading``).
    let dryRun: DryRunLoading?
    /// Above zero while a pipeline section (top-level or a sink's) is decoded: in a dry run, the
    /// references there must still resolve, everywhere else they may not.
    var pipelineDepth = 0
    /// What a dry run did instead of reading a reference (placeholders), for `pipeline test` to say.
    private(set) var dryRunNotes: [ConfigurationIssue] = []
    /// Key paths whose value is a dry run's placeholder: problems reported about them are about
    /// the placeholder, not about the file, and are dropped.
    private var placeholderPaths: Set<String> = []

    /// One `${env:}`/`${file:}` reference and what it expanded to, located by its scalar's mark.
    private struct Expansion {
        var line: Int?
        var column: Int?
        var reference: String
        var value: String
    }
    private var expansions: [Expansion] = []
    /// Files already warned about, so a file referenced twice is reported once.
    private var warnedFiles: Set<String> = []

    /// Expanded values at least this long are scrubbed from every message, not only from messages
    /// about their own key: a message about a parent key (a list, a sink) may quote a child's value.
    /// Shorter ones (`x`, `80`) would mangle unrelated words and are scrubbed at their own key only.
    private static let scrubEverywhereLength = 6

    init(environment: [String: String], dryRun: DryRunLoading? = nil) {
        self.environment = environment
        self.dryRun = dryRun
    }

    func report(_ path: String, _ node: Node?, _ message: String) {
        if !placeholderPaths.isEmpty, placeholderPaths.contains(where: { path == $0 || path.hasPrefix($0 + ".") || path.hasPrefix($0 + "[") }) {
            return
        }
        issues.append(ConfigurationIssue(path: path, line: node?.mark?.line, message: scrubbed(message, about: node)))
    }

    func warn(_ path: String, _ node: Node?, _ message: String) {
        warnings.append(ConfigurationIssue(path: path, line: node?.mark?.line, message: scrubbed(message, about: node)))
    }

    /// A value as the file writes it, quoted, for messages. A `${env:}` or `${file:}` reference
    /// shows as the reference, never as its value; long values are cut.
    func written(_ node: Node?) -> String {
        guard let node else { return "nothing" }
        return kind(of: node)
    }

    func markSecret(_ path: String) { secretPaths.insert(path) }

    /// Whether `path` holds a dry run's placeholder instead of its reference's value.
    func isPlaceholder(_ path: String) -> Bool { placeholderPaths.contains(path) }

    /// The environment `${env:}` reads, for defaults taken from it (AKS workload identity).
    var environmentValues: [String: String] { environment }

    /// The entries of a mapping, in file order. Keys outside `allowed` are reported.
    func mapping(_ node: Node?, _ path: String, allowed: [String]? = nil) -> [(key: String, value: Node, keyNode: Node)]? {
        guard let node else { return nil }
        guard case .mapping(let mapping) = node else {
            report(path, node, "expected a mapping (key: value pairs), found \(kind(of: node))")
            return nil
        }
        var entries: [(key: String, value: Node, keyNode: Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                report(path, keyNode, "keys must be plain strings")
                continue
            }
            if let allowed, !allowed.contains(key) {
                report(join(path, key), keyNode, "unknown key '\(key)' (expected one of: \(allowed.joined(separator: ", ")))")
                continue
            }
            entries.append((key, value, keyNode))
        }
        return entries
    }

    /// A string scalar, with `${env:}` and `${file:}` expanded.
    /// - Parameter dryRunPlaceholder: inside a pipeline section, what a dry run uses (and says it
    ///   uses) when a reference cannot be resolved; without it such a reference is an error there.
    func string(_ node: Node?, _ path: String, secret: Bool = false, dryRunPlaceholder: DryRunPlaceholder? = nil) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            report(path, node, "expected a string, found \(kind(of: node))")
            return nil
        }
        if secret { markSecret(path) }
        let value = expand(scalar.string, path, node, dryRunPlaceholder: dryRunPlaceholder)
        // A header read can come from an `${env:}` or `${file:}` expansion, which the scan of the
        // file's own text (``namesKafkaHeader(_:)``) does not see.
        if let value, value.contains(Self.headerPrefix) { readsKafkaHeaders = true }
        return value
    }

    /// Set when any string read names a Kafka header (`%kafka.headers.NAME`).
    private(set) var readsKafkaHeaders = false
    static let headerPrefix = "%kafka.headers."

    /// Whether any scalar of the document, key or value, names a Kafka header. Together with the
    /// strings ``string(_:_:secret:dryRunPlaceholder:)`` reads, this decides whether the source
    /// reads headers at all (``KafkaSourceConfiguration/keepsHeaders``): a false positive only
    /// keeps headers nobody reads.
    static func namesKafkaHeader(_ node: Node) -> Bool {
        switch node {
        case .scalar(let scalar): return scalar.string.contains(headerPrefix)
        case .mapping(let mapping): return mapping.contains { namesKafkaHeader($0.key) || namesKafkaHeader($0.value) }
        case .sequence(let sequence): return sequence.contains { namesKafkaHeader($0) }
        case .alias: return false
        }
    }

    /// A whole number within `range` (every count has one: see ``ConfigurationLimits``).
    func int(_ node: Node?, _ path: String, range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, path) else { return nil }
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            report(path, node, "expected a whole number, found \(written(node))")
            return nil
        }
        guard range.contains(value) else {
            report(path, node, "must be between \(range.lowerBound) and \(range.upperBound), found \(written(node))")
            return nil
        }
        return value
    }

    func double(_ node: Node?, _ path: String, range: ClosedRange<Double>) -> Double? {
        guard let text = string(node, path) else { return nil }
        var value: Double?
        if text.hasSuffix("%") {
            value = Double(text.dropLast()).map { $0 / 100 }
        } else {
            value = Double(text)
        }
        guard let value, range.contains(value) else {
            report(path, node, "expected a number between \(range.lowerBound) and \(range.upperBound) (or a percentage), found \(written(node))")
            return nil
        }
        return value
    }

    func bool(_ node: Node?, _ path: String) -> Bool? {
        guard let text = string(node, path) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report(path, node, "expected true or false, found \(written(node))")
            return nil
        }
    }

    /// A size within `range` (every size key has one: see ``ConfigurationLimits``).
    func byteSize(_ node: Node?, _ path: String, range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, path) else { return nil }
        let bounds = "between \(ByteSize.format(range.lowerBound)) and \(ByteSize.format(range.upperBound))"
        guard let value = ByteSize.parse(text) else {
            report(path, node, "expected a size \(bounds) such as 512MiB or 10GiB, found \(written(node))")
            return nil
        }
        guard range.contains(value) else {
            report(path, node, "must be \(bounds), found \(written(node))")
            return nil
        }
        return value
    }

    /// A duration within `range` (every duration key has one: see ``ConfigurationLimits``).
    func duration(_ node: Node?, _ path: String, range: ClosedRange<Duration>) -> Duration? {
        guard let text = string(node, path) else { return nil }
        let bounds = "between \(DurationText.format(range.lowerBound)) and \(DurationText.format(range.upperBound))"
        guard let value = DurationText.parse(text) else {
            report(path, node, "expected a duration \(bounds) such as 250ms, 30s or 5m, found \(written(node))")
            return nil
        }
        guard range.contains(value) else {
            report(path, node, "must be \(bounds), found \(written(node))")
            return nil
        }
        return value
    }

    func choice<T: RawRepresentable & CaseIterable>(_ node: Node?, _ path: String, as type: T.Type) -> T? where T.RawValue == String {
        guard let text = string(node, path) else { return nil }
        guard let value = T(rawValue: text) else {
            report(path, node, "expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), found \(written(node))")
            return nil
        }
        return value
    }

    /// A list of strings; a single string is accepted as a one-element list.
    func stringList(_ node: Node?, _ path: String) -> [String]? {
        guard let node else { return nil }
        switch node {
        case .scalar:
            return string(node, path).map { [$0] }
        case .sequence(let sequence):
            var result: [String] = []
            for (index, element) in sequence.enumerated() {
                if let value = string(element, "\(path)[\(index)]") { result.append(value) }
            }
            return result
        default:
            report(path, node, "expected a list of strings, found \(kind(of: node))")
            return nil
        }
    }

    func require<T>(_ value: T?, _ node: Node?, _ path: String, parent: Node?) -> T? {
        if node == nil { report(path, parent, "required key is missing") }
        return value
    }

    /// The node's type, or a scalar as written in the file (never expanded), cut to 64
    /// characters. Text with an '@' is not shown: `user:password@host` is a credential even when
    /// written inline.
    private func kind(of node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            let text = scalar.string
            if text.contains("@") { return "a value containing '@' (not shown)" }
            return text.count > 64 ? "'\(text.prefix(61))...'" : "'\(text)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// `message` with every expanded value it could carry replaced by its reference: all values
    /// of references at `node` or below, and long values of references anywhere.
    private func scrubbed(_ message: String, about node: Node?) -> String {
        guard !expansions.isEmpty else { return message }
        var marks: Set<[Int]> = []
        if let node { collectMarks(node, into: &marks) }
        var result = message
        // Longest first, so a value containing another is replaced whole.
        for expansion in expansions.sorted(by: { $0.value.count > $1.value.count }) where !expansion.value.isEmpty {
            let own = expansion.line.map { marks.contains([$0, expansion.column ?? 0]) } ?? false
            guard own || expansion.value.count >= Self.scrubEverywhereLength else { continue }
            result = result.replacingOccurrences(of: expansion.value, with: expansion.reference)
        }
        return result
    }

    private func collectMarks(_ node: Node, into marks: inout Set<[Int]>) {
        if let mark = node.mark { marks.insert([mark.line, mark.column]) }
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                collectMarks(key, into: &marks)
                collectMarks(value, into: &marks)
            }
        case .sequence(let sequence):
            for element in sequence { collectMarks(element, into: &marks) }
        case .scalar, .alias:
            break
        }
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Expands `${env:NAME}` and `${file:/path}` references.
    private func expand(_ text: String, _ path: String, _ node: Node, dryRunPlaceholder: DryRunPlaceholder? = nil) -> String? {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                report(path, node, "unterminated '${' reference (use ${env:NAME} or ${file:/path})")
                return nil
            }
            let reference = rest[start.upperBound..<end]
            var resolved: String?
            var problem = ""
            if reference.hasPrefix("env:") {
                let name = String(reference.dropFirst(4))
                resolved = environment[name]
                problem = "environment variable \(name) is not set"
            } else if reference.hasPrefix("file:") {
                let file = String(reference.dropFirst(5))
                switch SecretFile.read(file) {
                case .success(let contents):
                    if contents.worldReadable, warnedFiles.insert(file).inserted {
                        warn(path, node, "\(file) referenced by ${file:} is readable by every user (mode \(contents.modeText)); "
                            + "make it readable by logbridge only (chmod o-r, or mode 0440 on the secret's mount)")
                    }
                    resolved = String(decoding: contents.bytes, as: UTF8.self).trimmingWhitespace()
                case .failure(let failure):
                    problem = "cannot read \(file) referenced by ${file:}: \(failure.description)"
                }
            } else {
                report(path, node, "unknown reference '${\(reference)}' (use ${env:NAME} or ${file:/path})")
                return nil
            }
            if let resolved {
                result += resolved
                remember("${\(reference)}", resolved, node)
                markSecret(path)
            } else if let placeholder = placeholder(for: path, node, problem: problem, dryRunPlaceholder) {
                result += placeholder
            } else {
                report(path, node, problem)
                return nil
            }
            rest = rest[rest.index(after: end)...]
        }
        result += rest
        return result
    }

    /// In a dry run, what stands in for a reference that cannot be resolved, or nil when it must
    /// resolve: outside the pipeline sections any value does (the source, spool and sinks are not
    /// used), inside them only where the caller offers a placeholder.
    private func placeholder(for path: String, _ node: Node, problem: String, _ offered: DryRunPlaceholder?) -> String? {
        guard dryRun != nil else { return nil }
        if pipelineDepth == 0 {
            placeholderPaths.insert(path)
            markSecret(path)
            dryRunNotes.append(ConfigurationIssue(path: path, line: node.mark?.line, message: "not resolved, not needed for a dry run (\(problem))"))
            return DryRunLoading.unresolvedValue
        }
        guard let offered else { return nil }
        dryRunNotes.append(ConfigurationIssue(path: path, line: node.mark?.line, message: "\(problem); \(offered.notice)"))
        return offered.value
    }

    private func remember(_ reference: String, _ value: String, _ node: Node) {
        expansions.append(Expansion(line: node.mark?.line, column: node.mark?.column, reference: reference, value: value))
    }
}
