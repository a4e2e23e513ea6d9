import CPCRE2

/// Owns one compiled `pcre2_code` (and its JIT code). Matching only reads it, so PCRE2 allows
/// sharing it between threads (pcre2api "Multithreading"); each ``PCRE2Pattern`` copy shares
/// this box and owns its own match data.
final class PCRE2Code: @unchecked Sendable {
    let pointer: OpaquePointer
    let isJIT: Bool

    init(pointer: OpaquePointer, isJIT: Bool) {
        self.pointer = pointer
        self.isJIT = isJIT
    }

    deinit { pcre2_code_free_8(pointer) }
}

/// A PCRE2 pattern compiled with UTF support and (when available) JIT, for user-supplied
/// patterns: custom redaction detectors and the `regex` processor.
///
/// Matching is bounded: a match limit and a depth limit stop pathological patterns such as
/// `(a+)+$` on hostile input. ``firstMatch(in:from:)`` reports a call that hits a limit (or the
/// JIT stack limit) as no match and counts it in ``limitHits``; the redactor uses the internal
/// form, which tells the two apart, to fail closed. Invalid UTF-8 in the subject never matches
/// but is not an error (`PCRE2_MATCH_INVALID_UTF`).
///
/// JIT code keeps its backtracking frames on a JIT stack. PCRE2's default is 32 KiB of machine
/// stack, which a repeated group such as `((?:\\.|[^"\\])*)` exhausts on a string of about
/// 2 KiB (measured with PCRE2 10.42); each instance therefore owns a JIT stack that grows to
/// ``jitStackMaximum``, enough for that pattern over about 32 KiB.
///
/// - Important: Owns its match data, so one thread at a time uses an instance; that is why it is
///   `@unchecked Sendable` (it can move between threads, not be shared). Call ``copy()`` for
///   another thread: the compiled code is shared, the match data is not.
public final class PCRE2Pattern: @unchecked Sendable {
    /// Work allowed per `firstMatch` call (PCRE2's match limit). High enough for ordinary
    /// patterns over megabyte lines, low enough that exponential backtracking stops in milliseconds.
    public static let matchLimit: UInt32 = 2_000_000
    /// Backtracking depth allowed per call (interpreter only; JIT is bounded by its stack).
    public static let depthLimit: UInt32 = 10_000
    /// Size a JIT stack starts at; PCRE2 grows it on demand up to ``jitStackMaximum``.
    public static let jitStackStart = 32 * 1024
    /// Largest JIT stack per instance. The memory is reserved, and only the pages a match
    /// touched become resident.
    public static let jitStackMaximum = 1024 * 1024

    public let pattern: String
    public let caseInsensitive: Bool
    /// Named groups, in pattern order.
    public let groupNames: [(name: String, number: Int)]
    /// Capturing groups in the pattern (group 0, the whole match, not counted).
    public var groupCount: Int { captureCount }
    /// How many calls stopped at the match, depth or JIT stack limit.
    public private(set) var limitHits: Int = 0

    let code: PCRE2Code
    private let captureCount: Int
    private let matchData: OpaquePointer
    private let matchContext: OpaquePointer
    /// Nil without JIT (or when PCRE2 could not allocate one: matching then uses the default
    /// 32 KiB and fails closed sooner, which is safe).
    private let jitStack: OpaquePointer?
    private let ovector: UnsafeMutablePointer<Int>

    /// Compiles `pattern` with `PCRE2_UTF` and tries JIT compilation.
    /// - Throws: ``RedactionError`` with PCRE2's message and the offset of the error.
    public convenience init(_ pattern: String, caseInsensitive: Bool = false) throws(RedactionError) {
        var options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF
        if caseInsensitive { options |= PCRE2_CASELESS }
        var errorCode: Int32 = 0
        var errorOffset = 0
        var bytes = Array(pattern.utf8)
        bytes.append(0)
        let compiled = bytes.withUnsafeBufferPointer {
            pcre2_compile_8($0.baseAddress, $0.count - 1, options, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw RedactionError(message: "invalid pattern \(pattern.debugDescription): \(PCRE2Pattern.errorMessage(errorCode)) at offset \(errorOffset)")
        }
        let isJIT = pcre2_jit_compile_8(compiled, PCRE2_JIT_COMPLETE) == 0
        self.init(code: PCRE2Code(pointer: compiled, isJIT: isJIT), pattern: pattern, caseInsensitive: caseInsensitive)
    }

    private init(code: PCRE2Code, pattern: String, caseInsensitive: Bool) {
        self.code = code
        self.pattern = pattern
        self.caseInsensitive = caseInsensitive
        var captures: UInt32 = 0
        pcre2_pattern_info_8(code.pointer, UInt32(PCRE2_INFO_CAPTURECOUNT), &captures)
        self.captureCount = Int(captures)
        self.groupNames = PCRE2Pattern.readNames(code.pointer)
        self.matchData = pcre2_match_data_create_from_pattern_8(code.pointer, nil)
        self.matchContext = pcre2_match_context_create_8(nil)
        pcre2_set_match_limit_8(matchContext, PCRE2Pattern.matchLimit)
        pcre2_set_depth_limit_8(matchContext, PCRE2Pattern.depthLimit)
        // One stack per instance, like the match data: an instance is used by one thread at a time.
        if code.isJIT, let stack = pcre2_jit_stack_create_8(PCRE2Pattern.jitStackStart, PCRE2Pattern.jitStackMaximum, nil) {
            pcre2_jit_stack_assign_8(matchContext, nil, UnsafeMutableRawPointer(stack))
            self.jitStack = stack
        } else {
            self.jitStack = nil
        }
        self.ovector = pcre2_get_ovector_pointer_8(matchData)
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(matchContext)
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
    }

    /// Same compiled pattern, fresh match data: for use on another thread.
    public func copy() -> PCRE2Pattern {
        PCRE2Pattern(code: code, pattern: pattern, caseInsensitive: caseInsensitive)
    }

    /// First match at or after byte offset `start`.
    ///
    /// - Returns: One range per group, index 0 the whole match, nil for groups that did not take
    ///   part; byte offsets into `subject`. Nil when there is no match or a limit was hit.
    public func firstMatch(in subject: UnsafeRawBufferPointer, from start: Int = 0) -> [Range<Int>?]? {
        guard case .matched(let groups) = _match(subject, from: start) else { return nil }
        var result: [Range<Int>?] = []
        result.reserveCapacity(captureCount + 1)
        for group in 0...captureCount {
            result.append(group < groups ? _range(group) : nil)
        }
        return result
    }

    /// What one match call found.
    enum MatchResult {
        /// Matched; `groups` ovector pairs are set (read them with ``_range(_:)``).
        case matched(groups: Int)
        case noMatch
        /// PCRE2 stopped without an answer: a limit (match, depth, heap, JIT stack) or another
        /// error. The subject may hold a match.
        case failed(code: Int32)
    }

    /// Allocation-free match for hot paths. Read the ranges with ``_range(_:)`` before the next call.
    func _match(_ subject: UnsafeRawBufferPointer, from start: Int) -> MatchResult {
        guard start >= 0, start <= subject.count else { return .noMatch }
        let rc: Int32 = withSubjectPointer(subject) { base in
            if code.isJIT {
                return pcre2_jit_match_8(code.pointer, base, subject.count, start, 0, matchData, matchContext)
            }
            return pcre2_match_8(code.pointer, base, subject.count, start, 0, matchData, matchContext)
        }
        if rc > 0 { return .matched(groups: Int(rc)) }
        if rc == 0 { return .matched(groups: captureCount + 1) }  // ovector too small: cannot happen with from_pattern data
        switch rc {
        case PCRE2_ERROR_NOMATCH:
            return .noMatch
        case PCRE2_ERROR_MATCHLIMIT, PCRE2_ERROR_DEPTHLIMIT, PCRE2_ERROR_HEAPLIMIT, PCRE2_ERROR_JIT_STACKLIMIT:
            limitHits += 1
        default:
            break
        }
        return .failed(code: rc)
    }

    /// Range of `group` from the last successful ``_match(_:from:)``; nil when unset.
    func _range(_ group: Int) -> Range<Int>? {
        let lower = ovector[2 * group]
        let upper = ovector[2 * group + 1]
        if lower < 0 || upper < lower { return nil }  // PCRE2_UNSET is ~0, -1 as Int
        return lower..<upper
    }

    private func withSubjectPointer<R>(_ subject: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        if let base = subject.baseAddress {
            return body(base.assumingMemoryBound(to: UInt8.self))
        }
        var empty: UInt8 = 0
        return withUnsafePointer(to: &empty) { body($0) }
    }

    static func errorMessage(_ code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = pcre2_get_error_message_8(code, &buffer, buffer.count)
        guard length > 0 else { return "PCRE2 error \(code)" }
        return String(decoding: buffer[0..<Int(length)], as: UTF8.self)
    }

    private static func readNames(_ code: OpaquePointer) -> [(name: String, number: Int)] {
        var count: UInt32 = 0
        var entrySize: UInt32 = 0
        var table: UnsafePointer<UInt8>? = nil
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMECOUNT), &count)
        guard count > 0 else { return [] }
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMETABLE), &table)
        guard let table else { return [] }
        var names: [(name: String, number: Int)] = []
        for index in 0..<Int(count) {
            let entry = table + index * Int(entrySize)
            let number = Int(entry[0]) << 8 | Int(entry[1])
            var length = 0
            while length < Int(entrySize) - 2 && entry[2 + length] != 0 { length += 1 }
            names.append((String(decoding: UnsafeBufferPointer(start: entry + 2, count: length), as: UTF8.self), number))
        }
        return names.sorted { $0.number < $1.number }  // PCRE2 sorts the table by name
    }
}
