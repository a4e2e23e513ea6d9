/// A problem in the configuration file, located by key path and line.
public struct ConfigurationIssue: Sendable, Equatable, CustomStringConvertible {
    /// Dotted key path, e.g. `source.kafka.topics`.
    public var path: String
    /// 1-based line in the file, when known.
    public var line: Int?
    public var message: String

    public var description: String {
        let location = line.map { "line \($0): " } ?? ""
        return path.isEmpty ? "\(location)\(message)" : "\(location)\(path): \(message)"
    }
}

/// Every problem found in a configuration file; loading reports them all at once.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var issues: [ConfigurationIssue]

    public var description: String {
        (["\(file): invalid configuration (\(issues.count) problem\(issues.count == 1 ? "" : "s"))"]
            + issues.map { "  \($0)" }).joined(separator: "\n")
    }
}
