import CCrypto

/// One pipeline's redactor: immutable rules plus scratch state.
///
/// Built-in detectors run as one byte scan (``RedactionScanner``); each custom detector is one
/// PCRE2 pass. A line without findings costs the scan and one copy, and allocates nothing.
///
/// Custom detectors fail closed: when PCRE2 stops without an answer (match, depth or JIT stack
/// limit, or any other error but "no match"), the input may hold a value the pattern would have
/// found, so the whole value is replaced as that detector's finding (see
/// ``redact(_:context:into:counts:failedClosed:)`` for what "whole" means per context) and the
/// failure is counted in `failedClosed`.
///
/// - Important: The scratch state (match list, digit-group buffer, PCRE2 match data) makes an
///   instance usable by one thread at a time. It is `@unchecked Sendable` so it can be handed to
///   the thread or task that owns a pipeline; call ``copy()`` to get one per concurrent worker.
public final class Redactor: @unchecked Sendable {
    public let rules: RedactionRules
    /// Built-in detectors (in ``RedactionRules/detectors`` order), then custom ones; the index is
    /// the counter slot used by ``redact(_:context:into:counts:)``.
    public let detectorNames: [String]

    /// Counter slot per built-in kind (`BuiltInDetector.allCases` order), -1 when disabled.
    private let builtInSlots: UnsafeMutablePointer<Int>
    private let slotModes: [RedactionMode]
    /// Built-in kind per slot, -1 for custom detectors.
    private let slotKinds: [Int]
    private let maskTokens: [[UInt8]]
    private let nameBytes: [[UInt8]]
    private let patterns: [PCRE2Pattern]
    /// Group number of `value` per custom detector, 0 (the whole match) when absent.
    private let valueGroups: [Int]
    private let hashKey: [UInt8]
    private let hashLength: Int

    private var matches: [RedactionMatch] = []
    /// Failure counters for callers of the variant without `failedClosed`.
    private var unreportedFailures: [Int]
    private let scratch: UnsafeMutablePointer<Int>

    /// Calls that stopped at a PCRE2 limit, over all custom detectors (the input was then
    /// masked whole: the limits bound time, and failing closed keeps recall).
    public var customLimitHits: Int { patterns.reduce(0) { $0 + $1.limitHits } }

    /// - Throws: ``RedactionError`` for an invalid custom pattern or name, an override naming no
    ///   detector, a missing hash key where a detector uses `.hash`, or a hash length outside 4...64.
    public convenience init(rules: RedactionRules) throws(RedactionError) {
        var patterns: [PCRE2Pattern] = []
        var valueGroups: [Int] = []
        for detector in rules.custom {
            do {
                let pattern = try PCRE2Pattern(detector.pattern)
                patterns.append(pattern)
                valueGroups.append(pattern.groupNames.first { $0.name == "value" }?.number ?? 0)
            } catch {
                throw RedactionError(message: "custom detector \"\(detector.name)\": \(error.message)")
            }
        }
        try self.init(rules: rules, patterns: patterns, valueGroups: valueGroups)
    }

    private init(rules: RedactionRules, patterns: [PCRE2Pattern], valueGroups: [Int]) throws(RedactionError) {
        guard (4...64).contains(rules.hashLength) else {
            throw RedactionError(message: "hash length \(rules.hashLength) is outside 4...64; choose a number of hex characters in that range")
        }
        var names: [String] = []
        var kinds: [Int] = []
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: RedactionKind.count)
        slots.initialize(repeating: -1, count: RedactionKind.count)
        for detector in rules.detectors {
            let kind = BuiltInDetector.allCases.firstIndex(of: detector)!
            guard slots[kind] < 0 else { continue }
            slots[kind] = names.count
            names.append(detector.rawValue)
            kinds.append(kind)
        }
        let builtInNames = Set(BuiltInDetector.allCases.map(\.rawValue))
        for detector in rules.custom {
            let valid = !detector.name.isEmpty && detector.name.utf8.allSatisfy {
                RedactionBytes.isAlnum($0) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E
            }
            guard valid, !builtInNames.contains(detector.name), !names.contains(detector.name) else {
                slots.deallocate()
                throw RedactionError(message: "custom detector name \"\(detector.name)\" must be unique, differ from the built-in names and use only letters, digits, '_', '-', '.'")
            }
            names.append(detector.name)
            kinds.append(-1)
        }
        for name in rules.modeOverrides.keys where !names.contains(name) {
            slots.deallocate()
            throw RedactionError(message: "mode override for \"\(name)\" names no enabled detector; enabled: \(names.joined(separator: ", "))")
        }
        let modes = names.map { rules.modeOverrides[$0] ?? rules.mode }
        if modes.contains(.hash) && (rules.hashKey?.isEmpty ?? true) {
            slots.deallocate()
            throw RedactionError(message: "hash mode needs a hash key; set hashKey (a secret of 32 random bytes is a good choice)")
        }
        self.rules = rules
        self.detectorNames = names
        self.builtInSlots = slots
        self.slotModes = modes
        self.slotKinds = kinds
        self.nameBytes = names.map { Array($0.utf8) }
        self.maskTokens = names.map { Array("[REDACTED:\($0)]".utf8) }
        self.patterns = patterns
        self.valueGroups = valueGroups
        self.hashKey = rules.hashKey ?? []
        self.hashLength = rules.hashLength
        self.scratch = .allocate(capacity: RedactionScanner.scratchCapacity)
        self.scratch.initialize(repeating: 0, count: RedactionScanner.scratchCapacity)
        self.matches.reserveCapacity(16)
        self.unreportedFailures = Array(repeating: 0, count: names.count)
    }

    deinit {
        builtInSlots.deallocate()
        scratch.deallocate()
    }

    /// Same rules, fresh scratch state (compiled patterns are shared), for another thread.
    public func copy() -> Redactor {
        // The rules were accepted once; they cannot fail now.
        try! Redactor(rules: rules, patterns: patterns.map { $0.copy() }, valueGroups: valueGroups)
    }

    /// Appends `input` to `output` with every detected value replaced; custom detectors that
    /// fail are not reported (see ``redact(_:context:into:counts:failedClosed:)``).
    public func redact(
        _ input: UnsafeRawBufferPointer,
        context: RedactionContext,
        into output: inout [UInt8],
        counts: inout [Int]
    ) -> Int {
        var failures: [Int] = []
        swap(&failures, &unreportedFailures)
        defer { swap(&failures, &unreportedFailures) }
        return redact(input, context: context, into: &output, counts: &counts, failedClosed: &failures)
    }

    /// Appends `input` to `output` with every detected value replaced.
    ///
    /// When a custom detector's pattern fails on `input` (see ``Redactor``), the value is
    /// replaced whole, as a finding of that detector in its mode:
    /// - `.plain` and `.jsonString`: the whole input.
    /// - `.jsonText`: every string value and every number (or other bare word) of the document,
    ///   each on its own; keys, `true`, `false`, `null` and the structure stay, so a JSON
    ///   document stays JSON and keeps its shape. Values are not told apart, because a pattern
    ///   written against the JSON text may span a key and its value.
    ///
    /// - Parameters:
    ///   - input: The bytes to scan.
    ///   - context: How the bytes are framed; decides how replacements are written.
    ///   - output: Receives the redacted bytes (appended; not cleared).
    ///   - counts: One counter per ``detectorNames`` entry; each replacement adds one to its
    ///     detector's counter (values masked by failing closed included). Must have
    ///     `detectorNames.count` elements.
    ///   - failedClosed: One counter per ``detectorNames`` entry; each custom detector whose
    ///     pattern failed on `input` adds one. Must have `detectorNames.count` elements.
    /// - Returns: The number of replacements.
    public func redact(
        _ input: UnsafeRawBufferPointer,
        context: RedactionContext,
        into output: inout [UInt8],
        counts: inout [Int],
        failedClosed: inout [Int]
    ) -> Int {
        precondition(counts.count == detectorNames.count, "counts must have one slot per detector")
        precondition(failedClosed.count == detectorNames.count, "failedClosed must have one slot per detector")
        guard let raw = input.baseAddress, input.count > 0 else { return 0 }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        var scanner = RedactionScanner(
            base: base, count: input.count, json: context != .plain,
            slots: builtInSlots, scratch: scratch, matches: takeMatches()
        )
        scanner.scan()
        // Take the buffer out of the scanner, so it has one owner and is reused, not copied.
        var list: [RedactionMatch] = []
        swap(&list, &scanner.matches)
        var unordered = scanner.unordered
        if !patterns.isEmpty {
            let firstCustomSlot = detectorNames.count - patterns.count
            var failedSlot = -1
            for (index, pattern) in patterns.enumerated() {
                var start = 0
                matching: while start < input.count {
                    switch pattern._match(input, from: start) {
                    case .noMatch:
                        break matching
                    case .failed:
                        failedClosed[firstCustomSlot + index] += 1
                        if failedSlot < 0 { failedSlot = firstCustomSlot + index }
                        break matching
                    case .matched(let groups):
                        guard let whole = pattern._range(0) else { break matching }
                        let group = valueGroups[index]
                        let range = (group > 0 && group < groups ? pattern._range(group) : nil) ?? whole
                        if !range.isEmpty {
                            list.append(RedactionMatch(start: range.lowerBound, end: range.upperBound, slot: firstCustomSlot + index))
                            unordered = true
                        }
                        start = whole.isEmpty ? Self.nextCharacter(base, input.count, after: whole.upperBound) : whole.upperBound
                    }
                }
            }
            if failedSlot >= 0 {
                // The masks cover every value; a finding inside one is dropped when written (overlap).
                if context == .jsonText {
                    Self.appendJSONValues(base, input.count, slot: failedSlot, to: &list)
                } else {
                    list.append(RedactionMatch(start: 0, end: input.count, slot: failedSlot))
                }
                unordered = true
            }
        }
        defer { returnMatches(&list) }
        if list.isEmpty {
            output.append(contentsOf: input)
            return 0
        }
        if unordered {
            list.sort { $0.start != $1.start ? $0.start < $1.start : $0.end > $1.end }
        }
        return write(base, input.count, context, list, &output, &counts)
    }

    /// Where to retry after an empty match at `p`: the next UTF-8 character, not the next byte,
    /// so a retry never starts inside a character.
    private static func nextCharacter(_ base: UnsafePointer<UInt8>, _ count: Int, after p: Int) -> Int {
        var q = p + 1
        while q < count && base[q] & 0xC0 == 0x80 { q += 1 }
        return q
    }

    /// Failing closed in `.jsonText`: one match per string value body and per bare word outside
    /// strings other than `true`, `false` and `null` (numbers, and anything that is not JSON).
    /// Keys (a string followed by `:`) are kept. Escapes are skipped as the writer skips them,
    /// so both agree on where strings are.
    static func appendJSONValues(_ base: UnsafePointer<UInt8>, _ count: Int, slot: Int, to list: inout [RedactionMatch]) {
        @inline(__always) func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        @inline(__always) func isStructural(_ b: UInt8) -> Bool {
            b == 0x7B || b == 0x7D || b == 0x5B || b == 0x5D || b == 0x2C || b == 0x3A || b == 0x22
        }
        func isLiteral(_ s: Int, _ e: Int) -> Bool {
            let length = e - s
            guard length == 4 || length == 5 else { return false }
            let word = UnsafeBufferPointer(start: base + s, count: length)
            return word.elementsEqual("true".utf8) || word.elementsEqual("null".utf8) || word.elementsEqual("false".utf8)
        }
        var i = 0
        while i < count {
            let b = base[i]
            if b == 0x22 {
                let s = i + 1
                var j = s
                while j < count && base[j] != 0x22 { j += base[j] == 0x5C ? 2 : 1 }
                let e = min(j, count)
                var k = j + 1
                while k < count && isSpace(base[k]) { k += 1 }
                let isKey = k < count && base[k] == 0x3A
                if !isKey && e > s { list.append(RedactionMatch(start: s, end: e, slot: slot)) }
                i = j + 1
            } else if isSpace(b) || isStructural(b) {
                i += 1
            } else {
                let s = i
                while i < count && !isSpace(base[i]) && !isStructural(base[i]) { i += 1 }
                if !isLiteral(s, i) { list.append(RedactionMatch(start: s, end: i, slot: slot)) }
            }
        }
    }

    private func takeMatches() -> [RedactionMatch] {
        var list: [RedactionMatch] = []
        swap(&list, &matches)
        return list
    }

    private func returnMatches(_ list: inout [RedactionMatch]) {
        list.removeAll(keepingCapacity: true)
        swap(&list, &matches)
    }

    private func write(
        _ base: UnsafePointer<UInt8>, _ count: Int, _ context: RedactionContext,
        _ list: [RedactionMatch], _ output: inout [UInt8], _ counts: inout [Int]
    ) -> Int {
        output.reserveCapacity(output.count + count + 32 * list.count)
        var cursor = 0
        var replaced = 0
        // JSON string state, advanced lazily up to each match (`.jsonText` only).
        var jsonPosition = 0
        var inString = false
        for match in list where match.start >= cursor && match.end > match.start && match.end <= count {
            output.append(contentsOf: UnsafeBufferPointer(start: base + cursor, count: match.start - cursor))
            var quote = false
            if context == .jsonText {
                var j = jsonPosition
                while j < match.start {
                    let b = base[j]
                    if inString {
                        if b == 0x5C { j += 2; continue }
                        if b == 0x22 { inString = false }
                    } else if b == 0x22 {
                        inString = true
                    }
                    j += 1
                }
                jsonPosition = max(j, match.end)
                quote = !inString
                // A negative JSON number: the sign goes with the number.
                if quote && output.last == 0x2D && match.start > 0 && base[match.start - 1] == 0x2D { output.removeLast() }
            }
            if quote { output.append(0x22) }
            appendReplacement(UnsafeBufferPointer(start: base + match.start, count: match.end - match.start), slot: match.slot, to: &output)
            if quote { output.append(0x22) }
            counts[match.slot] += 1
            replaced += 1
            cursor = match.end
        }
        output.append(contentsOf: UnsafeBufferPointer(start: base + cursor, count: count - cursor))
        return replaced
    }

    private func appendReplacement(_ value: UnsafeBufferPointer<UInt8>, slot: Int, to output: inout [UInt8]) {
        switch slotModes[slot] {
        case .mask:
            output.append(contentsOf: maskTokens[slot])
        case .hash:
            output.append(0x5B)
            output.append(contentsOf: nameBytes[slot])
            output.append(0x3A)
            RedactionHMAC.appendHex(key: hashKey, value: value, hexCharacters: hashLength, to: &output)
            output.append(0x5D)
        case .partial:
            appendPartial(value, slot: slot, to: &output)
        }
    }

    /// The `.partial` forms documented on ``RedactionMode/partial``.
    private func appendPartial(_ value: UnsafeBufferPointer<UInt8>, slot: Int, to output: inout [UInt8]) {
        let kind = slotKinds[slot]
        func keptSuffix(_ n: Int, where keep: (UInt8) -> Bool) {
            var kept: [UInt8] = []
            for b in value.reversed() where keep(b) {
                kept.append(b)
                if kept.count == n { break }
            }
            output.append(contentsOf: maskTokens[slot].dropLast())
            output.append(0x3A)
            output.append(contentsOf: kept.reversed())
            output.append(0x5D)
        }
        switch kind {
        case RedactionKind.creditCard, RedactionKind.usSSN:
            keptSuffix(4, where: RedactionBytes.isDigit)
        case RedactionKind.phone:
            keptSuffix(2, where: RedactionBytes.isDigit)
        case RedactionKind.iban:
            output.append(contentsOf: maskTokens[slot].dropLast())
            output.append(0x3A)
            output.append(contentsOf: value.prefix(2))
            output.append(contentsOf: [0x2E, 0x2E])
            var kept: [UInt8] = []
            for b in value.reversed() where b != 0x20 {
                kept.append(b)
                if kept.count == 4 { break }
            }
            output.append(contentsOf: kept.reversed())
            output.append(0x5D)
        case RedactionKind.email:
            output.append(contentsOf: maskTokens[slot])
            if let at = value.firstIndex(of: 0x40) { output.append(contentsOf: value[at...]) }
        case RedactionKind.ipv4:
            var dots = 0
            for b in value {
                output.append(b)
                if b == 0x2E { dots += 1; if dots == 2 { break } }
            }
            output.append(contentsOf: Array("x.x".utf8))
        default:
            output.append(contentsOf: maskTokens[slot])
        }
    }
}

/// HMAC-SHA256 through OpenSSL's one-shot `HMAC()`.
enum RedactionHMAC {
    static func appendHex(key: [UInt8], value: UnsafeBufferPointer<UInt8>, hexCharacters: Int, to output: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { digest in
            var length: UInt32 = 0
            key.withUnsafeBytes { keyBytes in
                _ = HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count), value.baseAddress, value.count, digest.baseAddress, &length)
            }
            let hex: StaticString = "0123456789abcdef"
            let digits = hex.utf8Start
            for k in 0..<min(hexCharacters, Int(length) * 2) {
                let byte = digest[k / 2]
                output.append(digits[Int(k % 2 == 0 ? byte >> 4 : byte & 0x0F)])
            }
        }
    }
}
