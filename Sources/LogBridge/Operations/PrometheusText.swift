// A small parser for the Prometheus text exposition format 0.0.4, the format
// swift-prometheus writes on the admin endpoint. `logbridge status` scrapes that
// endpoint once per second, so the parser favours clear error reporting over
// speed; it works on UTF-8 bytes because every token boundary is ASCII.

/// One sample line of a Prometheus text exposition: `name{labels} value [timestamp]`.
///
/// The optional timestamp is validated but not kept: swift-prometheus does not
/// emit timestamps and the status view times scrapes with its own clock.
public struct PrometheusSample: Sendable, Equatable {
    /// Metric name, including suffixes such as `_bucket`, `_sum` or `_count`.
    public var name: String
    /// Label names to their unescaped values; empty when the line has no `{...}`.
    public var labels: [String: String]
    /// Sample value; may be NaN or ±infinity.
    public var value: Double

    public init(name: String, labels: [String: String] = [:], value: Double) {
        self.name = name
        self.labels = labels
        self.value = value
    }
}

/// A malformed line in a Prometheus text exposition.
public struct PrometheusParseError: Error, CustomStringConvertible, Equatable {
    /// 1-based line number in the parsed text.
    public var line: Int
    /// What was wrong, including the 1-based column where it was noticed.
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

/// Parser for the Prometheus text exposition format 0.0.4.
///
/// Comments (`# HELP`, `# TYPE` and any other `#` line) and blank lines are
/// skipped; metric types are not needed to read the values back, and histogram
/// or summary series (`_bucket`, `_sum`, `_count`) come out as plain samples.
public enum PrometheusText {
    /// Parses a whole exposition into its samples, in document order.
    ///
    /// - Throws: `PrometheusParseError` for the first malformed line.
    public static func parse(_ text: String) throws(PrometheusParseError) -> [PrometheusSample] {
        var samples: [PrometheusSample] = []
        var lineNumber = 0
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var bytes = Array(rawLine)
            // Tolerate CRLF: a proxy or a Windows-edited fixture may add the CR.
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            // Tolerate a UTF-8 byte order mark on the first line.
            if lineNumber == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
            var parser = LineParser(bytes: bytes, line: lineNumber)
            parser.skipBlanks()
            if parser.atEnd || parser.peek == UInt8(ascii: "#") { continue }
            samples.append(try parser.parseSample())
        }
        return samples
    }
}

extension Array where Element == PrometheusSample {
    /// The value of the first sample named `name` whose labels include all of
    /// `labels` (extra labels on the sample are allowed), or nil when none matches.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        first { $0.name == name && $0.labels.contains(all: labels) }?.value
    }

    /// The sum of the values of every sample named `name` whose labels include all
    /// of `labels`; 0 when none matches. Use it to total a per-partition counter.
    public func sum(_ name: String, where labels: [String: String] = [:]) -> Double {
        var total = 0.0
        for sample in self where sample.name == name && sample.labels.contains(all: labels) {
            total += sample.value
        }
        return total
    }

    /// The distinct values of label `label` among samples named `name`, sorted.
    public func labelValues(_ name: String, label: String) -> [String] {
        var seen = Set<String>()
        for sample in self where sample.name == name {
            if let value = sample.labels[label] { seen.insert(value) }
        }
        return seen.sorted()
    }
}

extension Dictionary where Key == String, Value == String {
    /// True when every pair of `subset` is present in `self` with the same value.
    /// File-private so it cannot clash with a helper of the same name in LogBridge.
    fileprivate func contains(all subset: [String: String]) -> Bool {
        for (key, value) in subset where self[key] != value { return false }
        return true
    }
}

/// Parses one non-blank, non-comment line. Grammar (blanks are spaces or tabs):
///
///     line   = name [blanks] ["{" [label {"," label} [","]] "}"] blanks value [blanks timestamp] [blanks]
///     label  = [blanks] labelname [blanks] "=" [blanks] '"' escaped-value '"' [blanks]
private struct LineParser {
    let bytes: [UInt8]
    let line: Int
    var index = 0

    init(bytes: [UInt8], line: Int) {
        self.bytes = bytes
        self.line = line
    }

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8? { atEnd ? nil : bytes[index] }

    func error(_ message: String) -> PrometheusParseError {
        PrometheusParseError(line: line, message: "\(message) at column \(index + 1)")
    }

    mutating func skipBlanks() {
        while let byte = peek, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { index += 1 }
    }

    mutating func parseSample() throws(PrometheusParseError) -> PrometheusSample {
        let name = try parseName(allowColon: true, what: "metric name")
        let afterName = index
        skipBlanks()
        var labels: [String: String] = [:]
        if peek == UInt8(ascii: "{") {
            index += 1
            labels = try parseLabels()
            let afterLabels = index
            skipBlanks()
            if atEnd { throw error("missing value") }
            if index == afterLabels { throw error("expected blank after '}'") }
        } else {
            if atEnd { throw error("missing value") }
            // `name` stopped at a byte that is not a name character; unless blanks
            // follow, the name itself is malformed (e.g. `foo-bar 1`).
            if index == afterName { throw error("invalid character in metric name") }
        }

        let valueToken = takeToken()
        guard let value = Self.parseValue(valueToken) else {
            throw error("invalid value '\(String(decoding: valueToken, as: UTF8.self))'")
        }

        skipBlanks()
        if !atEnd {
            let timestampToken = takeToken()
            guard Self.isInteger(timestampToken) else {
                throw error("invalid timestamp '\(String(decoding: timestampToken, as: UTF8.self))'")
            }
            skipBlanks()
            if !atEnd { throw error("unexpected text after timestamp") }
        }
        return PrometheusSample(name: name, labels: labels, value: value)
    }

    /// Metric names are `[a-zA-Z_:][a-zA-Z0-9_:]*`; label names the same without `:`.
    mutating func parseName(allowColon: Bool, what: String) throws(PrometheusParseError) -> String {
        let start = index
        while let byte = peek {
            let isLetter = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "_")
                || (allowColon && byte == UInt8(ascii: ":"))
            let isDigit = byte >= 0x30 && byte <= 0x39
            if isLetter || (isDigit && index > start) {
                index += 1
            } else {
                break
            }
        }
        if index == start { throw error("expected \(what)") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// Parses after the opening `{` up to and including the closing `}`.
    mutating func parseLabels() throws(PrometheusParseError) -> [String: String] {
        var labels: [String: String] = [:]
        while true {
            skipBlanks()
            // Reached first for `{}` or after a trailing comma: both are allowed.
            if peek == UInt8(ascii: "}") {
                index += 1
                return labels
            }
            if atEnd { throw error("unterminated label set") }
            let nameStart = index
            let name = try parseName(allowColon: false, what: "label name")
            skipBlanks()
            guard peek == UInt8(ascii: "=") else { throw error("expected '=' after label name") }
            index += 1
            skipBlanks()
            guard peek == UInt8(ascii: "\"") else { throw error("expected '\"' to open label value") }
            index += 1
            let value = try parseQuotedValue()
            if labels[name] != nil {
                index = nameStart
                throw error("duplicate label '\(name)'")
            }
            labels[name] = value
            skipBlanks()
            switch peek {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "}"):
                index += 1
                return labels
            case nil:
                throw error("unterminated label set")
            default:
                throw error("expected ',' or '}' after label value")
            }
        }
    }

    /// Parses after the opening quote up to and including the closing quote.
    /// The format defines exactly three escapes: `\\`, `\"` and `\n`.
    mutating func parseQuotedValue() throws(PrometheusParseError) -> String {
        var value: [UInt8] = []
        while let byte = peek {
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: value, as: UTF8.self)
            case UInt8(ascii: "\\"):
                switch peek {
                case UInt8(ascii: "\\"): value.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "\""): value.append(UInt8(ascii: "\""))
                case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                case nil: throw error("unterminated label value")
                default:
                    index -= 1
                    throw error("invalid escape sequence in label value")
                }
                index += 1
            default:
                value.append(byte)
            }
        }
        throw error("unterminated label value")
    }

    /// Takes bytes up to the next blank or the end of the line.
    mutating func takeToken() -> ArraySlice<UInt8> {
        let start = index
        while let byte = peek, byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t") { index += 1 }
        return bytes[start..<index]
    }

    /// Go-style float syntax as Prometheus writes it, plus the spellings
    /// `NaN`, `+Inf`, `-Inf` and `Inf`. Swift's `Double(String)` accepts all of
    /// them (case-insensitively) as well as hex floats, which is harmless here.
    static func parseValue(_ token: ArraySlice<UInt8>) -> Double? {
        if token.isEmpty { return nil }
        return Double(String(decoding: token, as: UTF8.self))
    }

    /// Timestamps are milliseconds since the epoch as an int64, optionally signed.
    static func isInteger(_ token: ArraySlice<UInt8>) -> Bool {
        var digits = token[...]
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        return Int64(String(decoding: token, as: UTF8.self)) != nil
    }
}
