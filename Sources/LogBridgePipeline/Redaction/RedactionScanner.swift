/// One detection: the byte range to replace and the detector's counter slot.
struct RedactionMatch {
    var start: Int
    var end: Int
    var slot: Int
}

/// Built-in detector indices into ``RedactionScanner/enabled`` (the `BuiltInDetector.allCases` order).
enum RedactionKind {
    static let email = 0, creditCard = 1, ipv4 = 2, ipv6 = 3, usSSN = 4, phone = 5, iban = 6, jwt = 7,
        bearerToken = 8, azure = 9, aws = 10, urlCredentials = 11, privateKey = 12, urlQuerySecret = 13,
        apiToken = 14
    static let count = 15
}

/// The built-in detectors as one left-to-right pass over the bytes.
///
/// A SIMD prefilter skips 16 bytes at a time until it meets an anchor: a digit, `@`, `:` (but a
/// JSON member's own, ``isInertColon(_:)``), `=`,
/// `--`, `A..A` (AWS key prefixes), `eyJ` (JWT), `bea` (any case, `Bearer`) or the start of a
/// token prefix (`gh?_`, `gith`, `sk_`, `rk_`, `xox`, `xap`, `ya2`). Each anchor has a
/// handler that checks the syntax around it and the checksum where there is one, records a match
/// and returns where scanning resumes (past the token it looked at, so digit runs and words are
/// looked at once). Typical log lines meet only cheap rejections.
///
/// Token boundaries: a token may not start or end next to a letter, digit or `_`; in JSON contexts
/// a backslash escape (`\n`, `\"`, `\u00e9`) also ends the previous token, so `\n4111...` is found.
struct RedactionScanner {
    let base: UnsafePointer<UInt8>
    let count: Int
    let json: Bool
    /// Counter slot per built-in kind, -1 when disabled.
    let slots: UnsafePointer<Int>
    /// Scratch for digit-group parsing, `RedactionScanner.scratchCapacity` Ints.
    let scratch: UnsafeMutablePointer<Int>
    var matches: [RedactionMatch]
    /// Set when a match was added out of start order (AWS secret look-ahead).
    var unordered = false
    /// Back-scans (e-mail local part, IPv6 start) stop here: the end of the last match.
    var floor = 0
    /// Whether RFC 3339 date-times are stepped over in one go (``rfc3339DateTime(_:)``); the tests
    /// turn it off for the reference they hold the scan to.
    var skipsDateTimes = true

    static let scratchCapacity = 64
    static let maxGroups = 16

    @inline(__always) func on(_ kind: Int) -> Bool { slots[kind] >= 0 }

    @inline(__always) mutating func add(_ kind: Int, _ start: Int, _ end: Int) {
        matches.append(RedactionMatch(start: start, end: end, slot: slots[kind]))
        if end > floor { floor = end }
    }

    // MARK: - Main loop

    mutating func scan() {
        let n = count
        var i = 0
        // Vector constants; vector-vector operations only (vector-scalar ones become lane loops).
        let v0x30 = SIMD16<UInt8>(repeating: 0x30), v10 = SIMD16<UInt8>(repeating: 10)
        let vAt = SIMD16<UInt8>(repeating: 0x40), vColon = SIMD16<UInt8>(repeating: 0x3A)
        let vEq = SIMD16<UInt8>(repeating: 0x3D), vDash = SIMD16<UInt8>(repeating: 0x2D)
        let vA = SIMD16<UInt8>(repeating: 0x41), ve = SIMD16<UInt8>(repeating: 0x65)
        let vy = SIMD16<UInt8>(repeating: 0x79), vJ = SIMD16<UInt8>(repeating: 0x4A)
        let v20 = SIMD16<UInt8>(repeating: 0x20), vb = SIMD16<UInt8>(repeating: 0x62)
        let va = SIMD16<UInt8>(repeating: 0x61)
        // Token prefixes: g h i t _ s r k x o p 2.
        let vg = SIMD16<UInt8>(repeating: 0x67), vh = SIMD16<UInt8>(repeating: 0x68)
        let vi = SIMD16<UInt8>(repeating: 0x69), vt = SIMD16<UInt8>(repeating: 0x74)
        let vUnderscore = SIMD16<UInt8>(repeating: 0x5F), vs = SIMD16<UInt8>(repeating: 0x73)
        let vQuote = SIMD16<UInt8>(repeating: 0x22), vBackslash = SIMD16<UInt8>(repeating: 0x5C)
        let vSlash = SIMD16<UInt8>(repeating: 0x2F)
        let vr = SIMD16<UInt8>(repeating: 0x72), vk = SIMD16<UInt8>(repeating: 0x6B)
        let vx = SIMD16<UInt8>(repeating: 0x78), vo = SIMD16<UInt8>(repeating: 0x6F)
        let vp = SIMD16<UInt8>(repeating: 0x70), v2 = SIMD16<UInt8>(repeating: 0x32)
        let raw = UnsafeRawPointer(base)
        while i < n {
            if i >= 2 && i + 19 <= n {
                let c0 = raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                let c1 = raw.loadUnaligned(fromByteOffset: i + 1, as: SIMD16<UInt8>.self)
                let c2 = raw.loadUnaligned(fromByteOffset: i + 2, as: SIMD16<UInt8>.self)
                let c3 = raw.loadUnaligned(fromByteOffset: i + 3, as: SIMD16<UInt8>.self)
                let before = raw.loadUnaligned(fromByteOffset: i - 1, as: SIMD16<UInt8>.self)
                let twoBefore = raw.loadUnaligned(fromByteOffset: i - 2, as: SIMD16<UInt8>.self)
                // A JSON member's own colon (`"name":`) that ``colon(_:)`` can do nothing with
                // (``isInertColon(_:)``): eight of a log line's nine colons once date-times are
                // stepped over. Lanes need the two bytes before them, hence windows from byte 2.
                let inert = (before .== vQuote) .& ((twoBefore | v20) .!= vy) .& (twoBefore .!= vBackslash)
                    .& (c1 .!= vSlash) .& (c1 .!= vBackslash) .& (c1 .!= vColon)
                var m = (c0 &- v0x30) .< v10
                m = m .| (c0 .== vAt) .| ((c0 .== vColon) .& .!inert) .| (c0 .== vEq)
                m = m .| ((c0 .== vDash) .& (c1 .== vDash))
                m = m .| ((c0 .== vA) .& (c3 .== vA))
                m = m .| ((c0 .== ve) .& (c1 .== vy) .& (c2 .== vJ))
                m = m .| (((c0 | v20) .== vb) .& ((c1 | v20) .== ve) .& ((c2 | v20) .== va))
                let c1a = c1 .== va
                m = m .| ((c0 .== vg) .& (((c1 .== vh) .& (c3 .== vUnderscore)) .| ((c1 .== vi) .& (c2 .== vt) .& (c3 .== vh))))
                m = m .| (((c0 .== vs) .| (c0 .== vr)) .& (c1 .== vk) .& (c2 .== vUnderscore))
                m = m .| ((c0 .== vx) .& (((c1 .== vo) .& (c2 .== vx)) .| (c1a .& (c2 .== vp))))
                m = m .| ((c0 .== vy) .& c1a .& (c2 .== v2))
                let bits = unsafeBitCast(m, to: SIMD2<UInt64>.self)
                var lo = bits[0], hi = bits[1]
                // Every anchor of the window is handled before the next window is loaded: a JSON
                // log line has one every ten bytes or so (digits, `:` between keys and values),
                // and recomputing the mask from each resume point was most of this loop's time.
                // A lane's bit depends only on the bytes from two before it to three after it,
                // which handlers never change, so the bits past a resume point are still exact.
                let window = i
                while true {
                    let lane: Int
                    if lo != 0 {
                        lane = lo.trailingZeroBitCount >> 3
                    } else if hi != 0 {
                        lane = 8 + hi.trailingZeroBitCount >> 3
                    } else {
                        i = window + 16
                        break
                    }
                    i = handle(window + lane)
                    let skipped = i - window
                    if skipped >= 16 { break }
                    // Drop the lanes before the resume point.
                    if skipped >= 8 {
                        lo = 0
                        hi &= ~0 << (8 * UInt64(skipped - 8))
                    } else {
                        lo &= ~0 << (8 * UInt64(skipped))
                    }
                }
                continue
            } else if !isAnchor(i) {
                i += 1
                continue
            }
            i = handle(i)
        }
    }

    /// The same pass one byte at a time with the scalar prefilter: the reference the tests hold
    /// ``scan()``'s windows to (same handlers, called at the same positions, same matches).
    mutating func scanByteByByte() {
        var i = 0
        while i < count { i = isAnchor(i) ? handle(i) : i + 1 }
    }

    /// Scalar form of the SIMD prefilter, for the last bytes.
    @inline(__always) func isAnchor(_ i: Int) -> Bool {
        let b = base[i]
        if RedactionBytes.isDigit(b) || b == 0x40 || b == 0x3D { return true }
        let b1: UInt8 = i + 1 < count ? base[i + 1] : 0
        if b == 0x3A { return !isInertColon(i) }
        let b2: UInt8 = i + 2 < count ? base[i + 2] : 0
        let b3: UInt8 = i + 3 < count ? base[i + 3] : 0
        if b == 0x2D && b1 == 0x2D { return true }
        if b == 0x41 && b3 == 0x41 { return true }
        if b == 0x65 && b1 == 0x79 && b2 == 0x4A { return true }
        if b == 0x67 && ((b1 == 0x68 && b3 == 0x5F) || (b1 == 0x69 && b2 == 0x74 && b3 == 0x68)) { return true }
        if (b == 0x73 || b == 0x72) && b1 == 0x6B && b2 == 0x5F { return true }
        if b == 0x78 && ((b1 == 0x6F && b2 == 0x78) || (b1 == 0x61 && b2 == 0x70)) { return true }
        if b == 0x79 && b1 == 0x61 && b2 == 0x32 { return true }
        return b | 0x20 == 0x62 && b1 | 0x20 == 0x65 && b2 | 0x20 == 0x61
    }

    /// Whether the `:` at `i` is one ``colon(_:)`` can do nothing with, so the prefilter skips
    /// it: it follows a quote (a JSON member name) whose name does not end in `y` or a backslash
    /// (``awsSecretAfterMarker(_:)`` looks there), and no `/`, `\\` (``afterSchemeSlashes(_:)``)
    /// or `:` (``ipv6(_:)``, which after a quote needs `::`) comes next.
    @inline(__always) func isInertColon(_ i: Int) -> Bool {
        guard i >= 2, base[i - 1] == 0x22 else { return false }
        let twoBefore = base[i - 2]
        let next: UInt8 = i + 1 < count ? base[i + 1] : 0
        return twoBefore | 0x20 != 0x79 && twoBefore != 0x5C && next != 0x2F && next != 0x5C && next != 0x3A
    }

    /// Runs the handler for the anchor at `p`; returns where scanning resumes (> p).
    @inline(__always) mutating func handle(_ p: Int) -> Int {
        let b = base[p]
        switch b {
        case 0x30...0x39: return digits(p)
        case 0x40: return on(RedactionKind.email) ? email(p) : p + 1
        case 0x3A: return colon(p)
        case 0x3D: return equals(p)
        case 0x2D: return dashes(p)
        case 0x41: return on(RedactionKind.aws) ? awsKey(p) : p + 1
        case 0x65: return on(RedactionKind.jwt) ? jwt(p) : p + 1
        case 0x67, 0x72, 0x73, 0x78, 0x79: return on(RedactionKind.apiToken) ? apiToken(p) : p + 1
        default: return on(RedactionKind.bearerToken) ? bearer(p) : p + 1
        }
    }

    // MARK: - Boundaries

    @inline(__always) func byte(_ i: Int) -> UInt8 { i >= 0 && i < count ? base[i] : 0 }

    /// Whether the backslash at `q` starts an escape (an odd run of backslashes ends at `q`).
    func isEscapeStart(_ q: Int) -> Bool {
        var k = q
        while k >= 0 && base[k] == 0x5C { k -= 1 }
        return (q - k) & 1 == 1
    }

    /// In JSON contexts: whether `p` directly follows a complete escape sequence.
    func followsEscape(_ p: Int) -> Bool {
        if p >= 2 && base[p - 2] == 0x5C {
            switch base[p - 1] {
            case 0x6E, 0x72, 0x74, 0x62, 0x66: return isEscapeStart(p - 2)  // n r t b f
            default: break
            }
        }
        if p >= 6 && base[p - 6] == 0x5C && base[p - 5] == 0x75
            && RedactionBytes.isHex(base[p - 4]) && RedactionBytes.isHex(base[p - 3])
            && RedactionBytes.isHex(base[p - 2]) && RedactionBytes.isHex(base[p - 1]) {
            return isEscapeStart(p - 6)
        }
        return false
    }

    /// Whether a token may start at `p`.
    @inline(__always) func startsToken(_ p: Int) -> Bool {
        if p == 0 { return true }
        if !RedactionBytes.isWord(base[p - 1]) { return true }
        return json && followsEscape(p)
    }

    /// Whether a token may end at `e` (exclusive).
    @inline(__always) func endsToken(_ e: Int) -> Bool {
        e >= count || !RedactionBytes.isWord(base[e])
    }

    /// End of the run of word bytes containing `p`.
    func skipWord(_ p: Int) -> Int {
        var q = p
        // Hex ids and digests are long words: 16 bytes at a time.
        let raw = UnsafeRawPointer(base)
        let v0x30 = SIMD16<UInt8>(repeating: 0x30), v10 = SIMD16<UInt8>(repeating: 10)
        let v20 = SIMD16<UInt8>(repeating: 0x20), va = SIMD16<UInt8>(repeating: 0x61)
        let v26 = SIMD16<UInt8>(repeating: 26), vUnderscore = SIMD16<UInt8>(repeating: 0x5F)
        while q + 16 <= count {
            let c = raw.loadUnaligned(fromByteOffset: q, as: SIMD16<UInt8>.self)
            let word = ((c &- v0x30) .< v10) .| (((c | v20) &- va) .< v26) .| (c .== vUnderscore)
            let bits = unsafeBitCast(word, to: SIMD2<UInt64>.self)
            let lo = ~bits[0], hi = ~bits[1]
            if lo != 0 { return max(q + lo.trailingZeroBitCount >> 3, p + 1) }
            if hi != 0 { return max(q + 8 + hi.trailingZeroBitCount >> 3, p + 1) }
            q += 16
        }
        while q < count && RedactionBytes.isWord(base[q]) { q += 1 }
        return max(q, p + 1)
    }

    /// Case-insensitive: does `word` (lowercase ASCII) sit at `p`?
    func hasLower(_ word: StaticString, at p: Int) -> Bool {
        let length = word.utf8CodeUnitCount
        guard p >= 0, p + length <= count else { return false }
        let w = word.utf8Start
        for k in 0..<length where base[p + k] | 0x20 != w[k] { return false }
        return true
    }

    func has(_ word: StaticString, at p: Int) -> Bool {
        let length = word.utf8CodeUnitCount
        guard p >= 0, p + length <= count else { return false }
        let w = word.utf8Start
        for k in 0..<length where base[p + k] != w[k] { return false }
        return true
    }

    // MARK: - Digits: credit card, SSN, phone, IPv4, IBAN

    mutating func digits(_ p: Int) -> Int {
        if p > 0 {
            let prev = base[p - 1]
            if RedactionBytes.isWord(prev) {
                if !(json && followsEscape(p)) {
                    // IBAN: two uppercase letters then the check digits.
                    if on(RedactionKind.iban) && p >= 2 && RedactionBytes.isUpper(prev)
                        && RedactionBytes.isUpper(base[p - 2]) && startsToken(p - 2),
                        let end = iban(p - 2) {
                        add(RedactionKind.iban, p - 2, end)
                        return end
                    }
                    return skipWord(p)
                }
            } else if prev == 0x2E {
                // Inside a dotted number (`1.2.3.4.5`, `v1.27.3`): skip digits and dots.
                var q = p
                while q < count && (RedactionBytes.isDigit(base[q]) || base[q] == 0x2E) { q += 1 }
                return q
            } else if on(RedactionKind.phone) && p >= 1 && startsToken(p - 1) {
                if prev == 0x2B, let end = phonePlus(p - 1) {
                    add(RedactionKind.phone, p - 1, end)
                    return end
                }
                if prev == 0x28, let end = phoneParen(p - 1) {
                    add(RedactionKind.phone, p - 1, end)
                    return end
                }
            }
        }
        return numberToken(p)
    }

    /// Parses digit groups joined by single ` `, `-` or `.` and tries the numeric detectors on
    /// every run of groups that starts and ends at the token's edges or at a space.
    mutating func numberToken(_ p: Int) -> Int {
        // scratch layout: [0, 16) group starts, [16, 32) group ends, [32, 48) separator before group.
        let starts = scratch, ends = scratch + 16, seps = scratch + 32
        // Inside a hyphenated identifier (`ip-10-0-5-17`, a UUID): no number.
        if p >= 2 && base[p - 1] == 0x2D && RedactionBytes.isAlnum(base[p - 2]) { return skipIdentifier(p) }
        if skipsDateTimes, let end = rfc3339DateTime(p) { return end }
        // Fast path, most numbers: one short digit run without a separator after it cannot be
        // any detector (cards need 13 digits, the rest need separators).
        var run = p
        while run < count && RedactionBytes.isDigit(base[run]) { run += 1 }
        if run - p < 13 {
            let next: UInt8 = run < count ? base[run] : 0
            if next != 0x20 && next != 0x2D && next != 0x2E {
                return RedactionBytes.isWord(next) ? skipWord(run) : run
            }
        }
        var groups = 0
        var q = p
        while true {
            let s = q
            while q < count && RedactionBytes.isDigit(base[q]) { q += 1 }
            starts[groups] = s
            ends[groups] = q
            groups += 1
            if groups == RedactionScanner.maxGroups || q + 1 >= count { break }
            let c = base[q]
            guard (c == 0x20 || c == 0x2D || c == 0x2E) && RedactionBytes.isDigit(base[q + 1]) else { break }
            seps[groups] = Int(c)
            q += 1
        }
        var resume = q
        if q + 1 < count && base[q] == 0x2D && RedactionBytes.isAlnum(base[q + 1]) {
            // Continues as a hyphenated identifier (`24817457-3456-4408-b94f-...`).
            return skipIdentifier(p)
        }
        if !endsToken(q) {
            // The last group runs into a word (`12ms`, `550e8400`): it is no number.
            resume = skipWord(starts[groups - 1])
            groups -= 1
        } else if q < count && base[q] == 0x2E && q + 1 < count && RedactionBytes.isDigit(base[q + 1]) {
            // 16 groups and more dotted digits: a long dotted number.
            return skipWord(q)
        }
        var g = 0
        while g < groups {
            if g > 0 && seps[g] != 0x20 { g += 1; continue }
            if let last = numberAt(g, groups) {
                g = last + 1
            } else {
                g += 1
            }
        }
        return resume
    }

    /// Where scanning resumes past an RFC 3339 date and time at `p`
    /// (`YYYY-MM-DDTHH:MM:SS[.fraction][Z]`), or nil. Two of them lead most JSON log lines (the
    /// record's time, then the time the application wrote), and the anchors inside one (the
    /// date's digit groups, the clock's colons and numbers) cost a third of the scan of such a line
    /// while no detector matches there: the groups run into the `T`, a clock's colons follow a
    /// word or a colon, so neither a number nor an IPv6 address starts inside. Resuming where the
    /// anchors would have left off (past the word the last group runs into) keeps every match.
    func rfc3339DateTime(_ p: Int) -> Int? {
        guard p + 19 <= count else { return nil }
        @inline(__always) func digit(_ k: Int) -> Bool { RedactionBytes.isDigit(base[p + k]) }
        guard digit(0), digit(1), digit(2), digit(3), base[p + 4] == 0x2D, digit(5), digit(6), base[p + 7] == 0x2D,
              digit(8), digit(9), base[p + 10] == 0x54, digit(11), digit(12), base[p + 13] == 0x3A, digit(14), digit(15),
              base[p + 16] == 0x3A, digit(17), digit(18)
        else { return nil }
        var e = p + 19
        if e + 1 < count && base[e] == 0x2E && RedactionBytes.isDigit(base[e + 1]) {
            e += 1
            while e < count && RedactionBytes.isDigit(base[e]) { e += 1 }
        }
        guard e < count else { return e }
        let next = base[e]
        // A digit group joined on (`…:00.003 4111 …`, `…:00.192.168.0.1`) or a hyphenated run
        // (`…:56-ghp_…`, which the usual pass steps over as one identifier): the usual pass.
        if RedactionBytes.isDigit(next) || next == 0x2D
            || ((next == 0x2E || next == 0x20) && e + 1 < count && RedactionBytes.isDigit(base[e + 1])) {
            return nil
        }
        return RedactionBytes.isWord(next) ? skipWord(e) : e
    }

    /// End of a run of letters, digits, `_` and `-` starting at `p`.
    func skipIdentifier(_ p: Int) -> Int {
        var q = p
        while q < count && (RedactionBytes.isWord(base[q]) || base[q] == 0x2D) { q += 1 }
        return max(q, p + 1)
    }

    /// Whether `p` follows `Product/` (an uppercase-initial word and a slash, as in user agents:
    /// `Chrome/124.0.0.0`), where a dotted quad is a version, not an address.
    func followsProductToken(_ p: Int) -> Bool {
        guard p >= 3, base[p - 1] == 0x2F else { return false }
        var k = p - 2
        while k >= 0 && RedactionBytes.isAlpha(base[k]) { k -= 1 }
        let first = k + 1
        return p - 1 - first >= 2 && RedactionBytes.isUpper(base[first]) && (k < 0 || !RedactionBytes.isAlnum(base[k]))
    }

    /// Tries the numeric detectors on groups starting at `g`; returns the last group matched.
    mutating func numberAt(_ g: Int, _ groups: Int) -> Int? {
        let starts = scratch, ends = scratch + 16, seps = scratch + 32
        @inline(__always) func closes(_ e: Int) -> Bool { e == groups - 1 || seps[e + 1] == 0x20 }
        @inline(__always) func length(_ k: Int) -> Int { ends[k] - starts[k] }
        @inline(__always) func value(_ k: Int) -> Int {
            var v = 0
            for i in starts[k]..<ends[k] { v = v &* 10 &+ Int(base[i] &- 0x30) }
            return v
        }
        let sep = g + 1 < groups ? seps[g + 1] : 0
        // IPv4: four dotted octets.
        if sep == 0x2E && g + 3 < groups && closes(g + 3) && on(RedactionKind.ipv4)
            && seps[g + 2] == 0x2E && seps[g + 3] == 0x2E {
            var ok = !followsProductToken(starts[g])
            for k in g...(g + 3) where length(k) > 3 || value(k) > 255 { ok = false }
            if ok {
                add(RedactionKind.ipv4, starts[g], ends[g + 3])
                return g + 3
            }
        }
        // Three groups with one separator kind: SSN 3-2-4 (dashes), phone 3-3-4 (dashes or dots).
        if (sep == 0x2D || sep == 0x2E) && g + 2 < groups && closes(g + 2) && seps[g + 2] == sep {
            let l0 = length(g), l1 = length(g + 1), l2 = length(g + 2)
            if sep == 0x2D && l0 == 3 && l1 == 2 && l2 == 4 && on(RedactionKind.usSSN)
                && RedactionValidators.isValidSSN(area: value(g), group: value(g + 1), serial: value(g + 2)) {
                add(RedactionKind.usSSN, starts[g], ends[g + 2])
                return g + 2
            }
            if l0 == 3 && l1 == 3 && l2 == 4 && on(RedactionKind.phone)
                && base[starts[g]] >= 0x32 && base[starts[g + 1]] >= 0x32 {
                add(RedactionKind.phone, starts[g], ends[g + 2])
                return g + 2
            }
        }
        // Card: 13-19 digits, one group or groups of 3-6 joined by one kind of separator.
        if on(RedactionKind.creditCard) && sep != 0x2E {
            var digits = 0
            var e = g
            while e < groups {
                let l = length(e)
                if e > g && (seps[e] != sep || l < 3 || l > 6 || length(g) < 3 || length(g) > 6) { break }
                digits += l
                if digits > 19 { break }
                if digits >= 13 && closes(e) && isCard(from: starts[g], to: ends[e], digits: digits) {
                    add(RedactionKind.creditCard, starts[g], ends[e])
                    return e
                }
                e += 1
            }
        }
        return nil
    }

    func isCard(from s: Int, to e: Int, digits: Int) -> Bool {
        var first6 = 0
        var taken = 0
        var i = s
        while taken < 6 && i < e {
            let b = base[i]
            if RedactionBytes.isDigit(b) { first6 = first6 * 10 + Int(b &- 0x30); taken += 1 }
            i += 1
        }
        return RedactionValidators.isKnownCardPrefix(first6: first6, length: digits)
            && RedactionValidators.luhn(base + s, e - s)
    }

    /// `+` and 8-15 digits, groups joined by up to two of ` -.()`: `+14155552671`, `+44 20 7946 0958`, `+1 (415) 555-2671`.
    func phonePlus(_ s: Int) -> Int? {
        var q = s + 1
        var digits = 0
        var end = q
        while true {
            while q < count && RedactionBytes.isDigit(base[q]) { q += 1; digits += 1 }
            end = q
            if digits > 15 { return nil }
            var k = q
            var seps = 0
            while k < count && seps < 2 {
                let c = base[k]
                guard c == 0x20 || c == 0x2D || c == 0x2E || c == 0x28 || c == 0x29 else { break }
                k += 1
                seps += 1
            }
            if seps > 0 && k < count && RedactionBytes.isDigit(base[k]) { q = k; continue }
            break
        }
        guard digits >= 8 && endsToken(end) else { return nil }
        return end
    }

    /// `(415) 555-2671`, `(415)555.2671`.
    func phoneParen(_ s: Int) -> Int? {
        guard s + 13 <= count, base[s + 4] == 0x29, base[s + 1] >= 0x32 else { return nil }
        for k in 1...3 where !RedactionBytes.isDigit(base[s + k]) { return nil }
        var q = s + 5
        if base[q] == 0x20 { q += 1 }
        guard q + 8 <= count, base[q] >= 0x32 else { return nil }
        for k in 0..<3 where !RedactionBytes.isDigit(base[q + k]) { return nil }
        let sep = base[q + 3]
        guard sep == 0x2D || sep == 0x2E || sep == 0x20 else { return nil }
        for k in 4..<8 where !RedactionBytes.isDigit(base[q + k]) { return nil }
        guard endsToken(q + 8) else { return nil }
        return q + 8
    }

    /// IBAN at `s` (country letters), compact or grouped by four with single spaces.
    func iban(_ s: Int) -> Int? {
        guard s + 4 < count, RedactionBytes.isDigit(base[s + 2]), RedactionBytes.isDigit(base[s + 3]) else { return nil }
        let chars = scratch  // compact characters, at most 34 (+1 to detect overlong)
        var used = 0
        var q = s
        @inline(__always) func isIBANChar(_ b: UInt8) -> Bool { RedactionBytes.isDigit(b) || RedactionBytes.isUpper(b) }
        // Compact form.
        if isIBANChar(base[s + 4]) {
            while q < count && isIBANChar(base[q]) && used <= 34 { chars[used] = Int(base[q]); used += 1; q += 1 }
            guard used <= 34, endsToken(q) else { return nil }
            return ibanValid(chars, used, base[s], base[s + 1]) ? q : nil
        }
        guard base[s + 4] == 0x20 else { return nil }
        // Grouped form: groups of four, the last one 1-4; try the longest first.
        var bestEnd: Int? = nil
        var groupStart = s
        while groupStart < count && used <= 34 {
            var k = groupStart
            while k < count && k - groupStart < 5 && isIBANChar(base[k]) { k += 1 }
            let length = k - groupStart
            guard length >= 1 && length <= 4 && endsToken(k) else { break }
            for i in groupStart..<k { chars[used] = Int(base[i]); used += 1 }
            if used >= 15 && used <= 34 && ibanValid(chars, used, base[s], base[s + 1]) { bestEnd = k }
            if length < 4 || k + 1 >= count || base[k] != 0x20 { break }
            groupStart = k + 1
        }
        return bestEnd
    }

    func ibanValid(_ chars: UnsafeMutablePointer<Int>, _ used: Int, _ c0: UInt8, _ c1: UInt8) -> Bool {
        if let expected = RedactionValidators.ibanLength(c0, c1) {
            guard used == expected else { return false }
        } else {
            guard used >= 15 && used <= 34 else { return false }
        }
        var remainder = 0
        for k in 0..<used {
            let c = UInt8(truncatingIfNeeded: chars[(k + 4) % used])
            if RedactionBytes.isDigit(c) {
                remainder = (remainder * 10 + Int(c &- 0x30)) % 97
            } else {
                remainder = (remainder * 100 + Int(c &- 0x41) + 10) % 97
            }
        }
        return remainder == 1
    }

    // MARK: - E-mail

    mutating func email(_ p: Int) -> Int {
        var s = p
        let low = max(floor, p - 64)
        while s > low && RedactionBytes.isEmailLocal(base[s - 1]) { s -= 1 }
        if json {
            // The local part starts after an escape (`\n`, `\u00e9`), never inside one. The
            // back-scan stops at a backslash, but also at the 64-byte limit, which can fall within
            // the four hex digits of `\uXXXX`: a match starting there split the escape and broke
            // the JSON string (found by fuzzing, Fuzz/Corpus/redact/email-start-inside-escape).
            var k = s - 1
            while k >= 0 && k >= s - 5 && base[k] != 0x5C { k -= 1 }
            if k >= 0 && k >= s - 5 && isEscapeStart(k) {
                s = max(s, min(p, k + (byte(k + 1) == 0x75 ? 6 : 2)))
            }
        }
        while s < p && base[s] == 0x2E { s += 1 }
        guard s < p else { return p + 1 }
        var e = p + 1
        let high = min(count, p + 1 + 255)
        while e < high && (RedactionBytes.isAlnum(base[e]) || base[e] == 0x2D || base[e] == 0x2E) { e += 1 }
        while e > p + 1 && (base[e - 1] == 0x2E || base[e - 1] == 0x2D) { e -= 1 }
        guard endsToken(e) else { return p + 1 }
        // Labels: non-empty, at least two, the last one letters only (2+).
        var lastDot = -1
        var previous: UInt8 = 0x2E
        for k in (p + 1)..<e {
            let b = base[k]
            if b == 0x2E {
                if previous == 0x2E || previous == 0x2D { return p + 1 }
                lastDot = k
            } else if b == 0x2D && previous == 0x2E {
                return p + 1
            }
            previous = b
        }
        guard lastDot > p + 1, e - lastDot - 1 >= 2 else { return p + 1 }
        for k in (lastDot + 1)..<e where !RedactionBytes.isAlpha(base[k]) { return p + 1 }
        add(RedactionKind.email, s, e)
        return e
    }

    // MARK: - Colon: URL credentials, AWS secret marker, IPv6

    mutating func colon(_ p: Int) -> Int {
        if let authority = afterSchemeSlashes(p) {
            return on(RedactionKind.urlCredentials) ? urlCredentials(authority) : authority
        }
        if on(RedactionKind.aws), let end = awsSecretAfterMarker(p) { return end }
        if on(RedactionKind.ipv6) {
            let prev = byte(p - 1), next = byte(p + 1)
            if RedactionBytes.isHex(prev) || (next == 0x3A && RedactionBytes.isHex(byte(p + 2))) {
                return ipv6(p)
            }
        }
        return p + 1
    }

    /// After the `:` at `p`: where the authority starts when `//` follows, each slash possibly
    /// escaped (`:\/\/` in JSON text, `:\\/\\/` when that JSON sits in a JSON string).
    func afterSchemeSlashes(_ p: Int) -> Int? {
        var q = p + 1
        for _ in 0..<2 {
            let run = q
            while q < count && base[q] == 0x5C && q - run < 8 { q += 1 }
            guard q < count && base[q] == 0x2F else { return nil }
            q += 1
        }
        return q
    }

    /// `scheme://user:password@host`: replaces the password (the user name stays, to help tell
    /// which account leaked). The user name may be empty, as Redis and several drivers write
    /// it (`redis://:password@host:6379/0`). `s` is where the authority starts; returns past the
    /// `@`, so the host is not read as an e-mail domain.
    mutating func urlCredentials(_ s: Int) -> Int {
        var e = s
        var at = -1
        let high = min(count, s + 512)
        while e < high {
            let b = base[e]
            if b == 0x2F || b == 0x3F || b == 0x23 || b == 0x22 || b == 0x5C || b <= 0x20 || b == 0x3C || b == 0x3E { break }
            if b == 0x40 { at = e }
            e += 1
        }
        guard at > s else { return s }
        var colon = -1
        for k in s..<at where base[k] == 0x3A { colon = k; break }
        guard colon >= s, colon + 1 < at else { return at + 1 }
        add(RedactionKind.urlCredentials, colon + 1, at)
        return at + 1
    }

    /// After `aws_secret_access_key`, `SecretAccessKey` and the like followed by `:` or `=`
    /// (quotes, escaped quotes and spaces allowed): a 40-character base64 secret.
    mutating func awsSecretAfterMarker(_ p: Int) -> Int? {
        var q = p - 1
        while q >= 0 && base[q] == 0x20 && p - q < 3 { q -= 1 }
        if q >= 0 && base[q] == 0x22 { q -= 1; if q >= 0 && base[q] == 0x5C { q -= 1 } }
        guard q >= 14, base[q] | 0x20 == 0x79 else { return nil }
        let marker: StaticString = "secretaccesskey"
        let m = marker.utf8Start
        var k = marker.utf8CodeUnitCount - 1
        while k >= 0 && q >= 0 {
            let b = base[q]
            if b == 0x5F || b == 0x2D { q -= 1; continue }
            if b | 0x20 != m[k] { return nil }
            k -= 1
            q -= 1
        }
        guard k < 0 else { return nil }
        var v = p + 1
        while v < count && base[v] == 0x20 && v - p < 4 { v += 1 }
        // An escaped quote around the value is skipped; any other escape (`\u0041…`) is not, so
        // the secret cannot start inside it (same fault as in `awsKey`'s look-ahead).
        if v + 1 < count && base[v] == 0x5C && base[v + 1] == 0x22 { v += 2 } else if v < count && base[v] == 0x22 { v += 1 }
        var e = v
        while e < count && RedactionBytes.isBase64(base[e]) && e - v <= 40 { e += 1 }
        guard e - v == 40, e >= count || base[e] != 0x3D else { return nil }
        add(RedactionKind.aws, v, e)
        return e
    }

    /// IPv6, full or `::`-compressed, optionally ending in a dotted IPv4. Anchored at its first
    /// `:`; the start is found by scanning back over hex digits.
    mutating func ipv6(_ p: Int) -> Int {
        var s = p
        let low = max(floor, p - 4)
        while s > low && RedactionBytes.isHex(base[s - 1]) { s -= 1 }
        guard startsToken(s), byte(s - 1) != 0x2E, byte(s - 1) != 0x3A else { return p + 1 }
        var e = p
        let high = min(count, s + 46)
        while e < high && (RedactionBytes.isHex(base[e]) || base[e] == 0x3A || base[e] == 0x2E) { e += 1 }
        if e == high && e < count && (RedactionBytes.isHex(base[e]) || base[e] == 0x3A) { return p + 1 }
        while e > p && base[e - 1] == 0x2E { e -= 1 }
        if e - 1 > p && base[e - 1] == 0x3A && base[e - 2] != 0x3A { e -= 1 }
        guard endsToken(e) else { return p + 1 }
        // Parse groups.
        var i = s
        var groups = 0
        var compressed = false
        var distinctive = false  // a group of 3+ characters or with a letter: not a clock or a MAC
        if base[i] == 0x3A {
            guard i + 1 < e, base[i + 1] == 0x3A else { return p + 1 }
            compressed = true
            i += 2
        }
        while i < e {
            var j = i
            var letter = false
            while j < e && RedactionBytes.isHex(base[j]) {
                if !RedactionBytes.isDigit(base[j]) { letter = true }
                j += 1
            }
            let length = j - i
            if j < e && base[j] == 0x2E {
                // Embedded IPv4 tail: must run to the end.
                guard groups <= 6, dottedQuad(i, e) else { return p + 1 }
                groups += 2
                distinctive = true
                i = e
                break
            }
            guard length >= 1 && length <= 4 else { return p + 1 }
            if length >= 3 || letter { distinctive = true }
            groups += 1
            if j == e { i = e; break }
            guard base[j] == 0x3A else { return p + 1 }
            if j + 1 < e && base[j + 1] == 0x3A {
                guard !compressed else { return p + 1 }
                compressed = true
                i = j + 2
            } else {
                i = j + 1
                guard i < e else { return p + 1 }
            }
        }
        let valid = compressed ? (groups >= 2 && groups <= 7 && distinctive) : groups == 8
        guard valid else { return p + 1 }
        add(RedactionKind.ipv6, s, e)
        return e
    }

    func dottedQuad(_ s: Int, _ e: Int) -> Bool {
        var octets = 0
        var i = s
        while i < e {
            var v = 0
            var length = 0
            // At most four digits are read: a fourth already fails the octet. Reading the whole run
            // overflowed `v` on a long one (`ab:11.2333…3`) and stopped the process on a log line
            // (found by fuzzing, Fuzz/Corpus/redact/ipv6-long-ipv4-tail).
            while i < e && length < 4 && RedactionBytes.isDigit(base[i]) { v = v * 10 + Int(base[i] &- 0x30); length += 1; i += 1 }
            guard length >= 1 && length <= 3 && v <= 255 else { return false }
            octets += 1
            if i < e { guard base[i] == 0x2E, octets < 4 else { return false }; i += 1; guard i < e else { return false } }
        }
        return octets == 4
    }

    // MARK: - Equals: Azure keys and SAS signatures, AWS secret marker

    mutating func equals(_ p: Int) -> Int {
        guard p > 0 else { return p + 1 }
        let prev = base[p - 1] | 0x20
        if prev == 0x79 {  // ...key=
            if on(RedactionKind.azure) {
                if (hasLower("accountkey", at: p - 10) && !RedactionBytes.isWord(byte(p - 11)))
                    || (hasLower("sharedaccesskey", at: p - 15) && !RedactionBytes.isWord(byte(p - 16))),
                    let end = azureValue(p) {
                    return end
                }
            }
            if on(RedactionKind.aws), let end = awsSecretAfterMarker(p) { return end }
        } else if prev == 0x67 && on(RedactionKind.azure) && hasLower("sig", at: p - 3) && !RedactionBytes.isWord(byte(p - 4)),
            let end = azureValue(p) {
            // A SAS signature stays `azure_connection_string` (that detector came first); a
            // `sig=` it does not take (Azure detector off, value too short) may be
            // `url_query_secret` below.
            return end
        }
        if on(RedactionKind.urlQuerySecret), let end = querySecret(p) { return end }
        return p + 1
    }

    /// The value after `=` up to `;`, `&`, a quote, whitespace or an escape; nil (no match)
    /// when shorter than 4 bytes.
    mutating func azureValue(_ p: Int) -> Int? {
        var e = p + 1
        while e < count {
            let b = base[e]
            if b == 0x3B || b == 0x26 || b == 0x22 || b == 0x27 || b <= 0x20 || b == 0x5C || b == 0x2C || b == 0x3C || b == 0x3E { break }
            e += 1
        }
        guard e - p - 1 >= 4 else { return nil }
        add(RedactionKind.azure, p + 1, e)
        return e
    }

    // MARK: - Dashes: PEM private keys

    mutating func dashes(_ p: Int) -> Int {
        guard on(RedactionKind.privateKey), has("-----BEGIN ", at: p) else {
            var q = p
            while q < count && base[q] == 0x2D { q += 1 }
            return q
        }
        // Label: uppercase words ending in "PRIVATE KEY-----".
        var q = p + 11
        let high = min(count, q + 48)
        while q < high && (RedactionBytes.isUpper(base[q]) || base[q] == 0x20) { q += 1 }
        guard has("-----", at: q), q >= p + 22, has("PRIVATE KEY", at: q - 11) else { return p + 5 }
        var k = q + 5
        // Up to "-----END ...-----", not past the end of the JSON string.
        while k < count {
            let b = base[k]
            if json {
                if b == 0x5C { k += 2; continue }
                if b == 0x22 { break }
            }
            if b == 0x2D && has("-----END ", at: k) {
                var t = k + 9
                while t < count && (RedactionBytes.isUpper(base[t]) || base[t] == 0x20) { t += 1 }
                if has("-----", at: t) { k = t + 5; break }
            }
            k += 1
        }
        let end = min(k, count)
        add(RedactionKind.privateKey, p, end)
        return end
    }

    // MARK: - AWS access keys, JWT, Bearer

    /// `AKIA`, `ASIA`, `AGPA`, `AIDA`, `AROA`, `ANPA`, `ANVA`, `AIPA` + 16 of `[A-Z0-9]`; a
    /// 40-character base64 secret within 80 bytes after it is taken too.
    mutating func awsKey(_ p: Int) -> Int {
        guard p + 20 <= count else { return p + 1 }
        let b1 = base[p + 1], b2 = base[p + 2]
        let known: Bool
        switch (b1, b2) {
        case (0x4B, 0x49), (0x53, 0x49), (0x47, 0x50), (0x49, 0x44), (0x52, 0x4F), (0x4E, 0x50), (0x4E, 0x56), (0x49, 0x50):
            known = true  // KI SI GP ID RO NP NV IP
        default:
            known = false
        }
        guard known, startsToken(p) else { return p + 1 }
        for k in (p + 4)..<(p + 20) where !(RedactionBytes.isUpper(base[k]) || RedactionBytes.isDigit(base[k])) {
            return p + 1
        }
        guard endsToken(p + 20) else { return p + 1 }
        add(RedactionKind.aws, p, p + 20)
        // Look ahead for the secret key; added out of order, sorted before output.
        var q = p + 20
        let high = min(count, q + 80)
        while q < high {
            // In JSON an escape is a boundary, not the start of a secret: `\u0000` followed by
            // base64 read as a 40-character secret starting at its `u`, and the replacement split
            // the escape (found by fuzzing, Fuzz/Corpus/redact/aws-secret-inside-escape).
            if json && base[q] == 0x5C { q += byte(q + 1) == 0x75 ? 6 : 2; continue }
            guard RedactionBytes.isBase64(base[q]) else { q += 1; continue }
            let s = q
            var upper = false, lower = false, other = false
            while q < count && RedactionBytes.isBase64(base[q]) {
                let b = base[q]
                if RedactionBytes.isUpper(b) { upper = true } else if RedactionBytes.isLower(b) { lower = true } else { other = true }
                q += 1
            }
            if q - s == 40 && upper && lower && other && byte(q) != 0x3D {
                matches.append(RedactionMatch(start: s, end: q, slot: slots[RedactionKind.aws]))
                unordered = true
                break
            }
        }
        return p + 20
    }

    /// `eyJ` + base64url, `.`, base64url, `.`, base64url or nothing.
    mutating func jwt(_ p: Int) -> Int {
        guard byte(p + 1) == 0x79 && byte(p + 2) == 0x4A && startsToken(p) else { return p + 1 }
        var q = p
        while q < count && RedactionBytes.isBase64URL(base[q]) { q += 1 }
        guard q - p >= 10, q < count, base[q] == 0x2E else { return q }
        let s2 = q + 1
        q = s2
        while q < count && RedactionBytes.isBase64URL(base[q]) { q += 1 }
        guard q - s2 >= 2, q < count, base[q] == 0x2E else { return q }
        q += 1
        while q < count && RedactionBytes.isBase64URL(base[q]) { q += 1 }
        guard endsToken(q) else { return q }
        add(RedactionKind.jwt, p, q)
        return q
    }

    /// `Bearer <token68>` (the word in any case): replaces the token, keeps the word.
    mutating func bearer(_ p: Int) -> Int {
        guard hasLower("bearer", at: p), startsToken(p), byte(p + 6) == 0x20 else { return p + 1 }
        var q = p + 7
        while q < count && base[q] == 0x20 { q += 1 }
        let s = q
        while q < count && RedactionBytes.isToken68(base[q]) { q += 1 }
        while q < count && base[q] == 0x3D { q += 1 }
        guard q - s >= 8, endsToken(q) else { return s }
        add(RedactionKind.bearerToken, s, q)
        return q
    }
}
