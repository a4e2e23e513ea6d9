import Foundation
import LogBridgeCore
import Yams

/// Walks a composed YAML tree strictly: unknown keys, wrong types and missing required values are
/// recorded as ``ConfigurationIssue``s with their key path and line, and decoding carries on so one
/// `check` run reports every problem.
///
/// Scalar strings may contain `${env:NAME}` and `${file:/path}` (the file's content, trimmed), so
/// secrets stay out of the file.
final class ConfigReader {
    private(set) var issues: [ConfigurationIssue] = []
    /// Key paths whose values are secrets, masked in `check` output.
    private(set) var secretPaths: Set<String> = []
    private let environment: [String: String]

    init(environment: [String: String]) {
        self.environment = environment
    }

    func report(_ path: String, _ node: Node?, _ message: String) {
        issues.append(ConfigurationIssue(path: path, line: node?.mark?.line, message: message))
    }

    func markSecret(_ path: String) { secretPaths.insert(path) }

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
    func string(_ node: Node?, _ path: String, secret: Bool = false) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            report(path, node, "expected a string, found \(kind(of: node))")
            return nil
        }
        if secret { markSecret(path) }
        return expand(scalar.string, path, node)
    }

    func int(_ node: Node?, _ path: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard let text = string(node, path) else { return nil }
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            report(path, node, "expected a whole number, found '\(text)'")
            return nil
        }
        if let range, !range.contains(value) {
            report(path, node, "must be between \(range.lowerBound) and \(range.upperBound), found \(value)")
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
            report(path, node, "expected a number between \(range.lowerBound) and \(range.upperBound) (or a percentage), found '\(text)'")
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
            report(path, node, "expected true or false, found '\(text)'")
            return nil
        }
    }

    func byteSize(_ node: Node?, _ path: String, minimum: Int = 1) -> Int? {
        guard let text = string(node, path) else { return nil }
        guard let value = ByteSize.parse(text), value >= minimum else {
            report(path, node, "expected a size of at least \(ByteSize.format(minimum)) such as 512MiB or 10GiB, found '\(text)'")
            return nil
        }
        return value
    }

    func duration(_ node: Node?, _ path: String) -> Duration? {
        guard let text = string(node, path) else { return nil }
        guard let value = DurationText.parse(text) else {
            report(path, node, "expected a duration such as 250ms, 30s or 5m, found '\(text)'")
            return nil
        }
        return value
    }

    func choice<T: RawRepresentable & CaseIterable>(_ node: Node?, _ path: String, as type: T.Type) -> T? where T.RawValue == String {
        guard let text = string(node, path) else { return nil }
        guard let value = T(rawValue: text) else {
            report(path, node, "expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), found '\(text)'")
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

    private func kind(of node: Node) -> String {
        switch node {
        case .scalar(let scalar): return "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Expands `${env:NAME}` and `${file:/path}` references.
    private func expand(_ text: String, _ path: String, _ node: Node) -> String? {
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
            if reference.hasPrefix("env:") {
                let name = String(reference.dropFirst(4))
                guard let value = environment[name] else {
                    report(path, node, "environment variable \(name) is not set")
                    return nil
                }
                result += value
                markSecret(path)
            } else if reference.hasPrefix("file:") {
                let file = String(reference.dropFirst(5))
                guard let data = FileManager.default.contents(atPath: file) else {
                    let reason = FileManager.default.fileExists(atPath: file) ? "permission denied" : "no such file"
                    report(path, node, "cannot read \(file) referenced by ${file:} (\(reason))")
                    return nil
                }
                result += String(decoding: data, as: UTF8.self).trimmingWhitespace()
                markSecret(path)
            } else {
                report(path, node, "unknown reference '${\(reference)}' (use ${env:NAME} or ${file:/path})")
                return nil
            }
            rest = rest[rest.index(after: end)...]
        }
        result += rest
        return result
    }
}
