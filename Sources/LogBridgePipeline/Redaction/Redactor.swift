import CCrypto

/// One pipeline's redactor: immutable rules plus scratch state.
///
/// Built-in detectors run as one byte scan (``RedactionScanner``); each custom detector is one
/// PCRE2 pass. A line without findings costs the scan and one copy, and allocates nothing.
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
    private let scratch: UnsafeMutablePointer<Int>

    /// Calls that stopped at a PCRE2 limit, over all custom detectors (their matches in that
    /// input are then missing: the limits bound time, not recall).
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

    /// Appends `input` to `output` with every detected value replaced.
    ///
    /// - Parameters:
    ///   - input: The bytes to scan.
    ///   - context: How the bytes are framed; decides how replacements are written.
    ///   - output: Receives the redacted bytes (appended; not cleared).
    ///   - counts: One counter per ``detectorNames`` entry; each replacement adds one to its
    ///     detector's counter. Must have `detectorNames.count` elements.
    /// - Returns: The number of replacements.
    public func redact(
        _ input: UnsafeRawBufferPointer,
        context: RedactionContext,
        into output: inout [UInt8],
        counts: inout [Int]
    ) -> Int {
        precondition(counts.count == detectorNames.count, "counts must have one slot per detector")
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
            for (index, pattern) in patterns.enumerated() {
                var start = 0
                while start < input.count, let groups = pattern._match(input, from: start) {
                    guard let whole = pattern._range(0) else { break }
                    let group = valueGroups[index]
                    let range = (group > 0 && group < groups ? pattern._range(group) : nil) ?? whole
                    if !range.isEmpty {
                        list.append(RedactionMatch(start: range.lowerBound, end: range.upperBound, slot: firstCustomSlot + index))
                        unordered = true
                    }
                    start = whole.isEmpty ? whole.upperBound + 1 : whole.upperBound
                }
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
