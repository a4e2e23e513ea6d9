import LogBridgeCore
/// One CRI log line: `<RFC3339Nano time> <stdout|stderr> <P|F> <message>` (containerd/CRI-O
/// format, as kubelet writes it under `/var/log/pods`). Ranges are offsets into the line.
///
/// `P` marks a partial line: the runtime split a long line (16 KiB by default) and the next
/// records continue it; `F` marks the last (or only) fragment.
public struct CRILine: Sendable, Equatable {
    /// The timestamp field, unparsed (hand it to `TimestampParser.parseISO8601`).
    public var time: Range<Int>
    /// `stdout` or `stderr`.
    public var stream: Range<Int>
    /// True for a `P` (partial) tag.
    public var isPartial: Bool
    /// The message, without the one trailing newline if there was one.
    public var message: Range<Int>

    /// Builds a line from known ranges (tests, or callers re-assembling partial lines).
    public init(time: Range<Int>, stream: Range<Int>, isPartial: Bool, message: Range<Int>) {
        self.time = time
        self.stream = stream
        self.isPartial = isPartial
        self.message = message
    }

    /// The longest time field we accept; bounds the scan on garbage input to a few bytes,
    /// so a 10 MB non-CRI line costs the same as a short one.
    static let maxTimeLength = 40

    /// Parses the CRI prefix of `line`.
    ///
    /// Accepts a missing tag field (old format `<time> <stream> <message>`, read as a full
    /// line), an empty message, and tags with attributes after a colon (`F:x`, reserved by the
    /// CRI spec). Strips one trailing `"\n"` from the message. The message is never scanned, so the
    /// cost does not depend on its length.
    /// - Returns: nil when the line is not CRI (bad time shape, unknown stream, missing separators).
    public static func parse(_ line: UnsafeRawBufferPointer) -> CRILine? {
        var end = line.count
        if end > 0 && line[end - 1] == 0x0A { end -= 1 }

        // Time: up to the first space, with the shape of an RFC 3339 timestamp.
        var i = 0
        let timeLimit = min(end, maxTimeLength + 1)
        while i < timeLimit && line[i] != ParserBytes.space { i += 1 }
        guard i < end, line[i] == ParserBytes.space, looksLikeRFC3339(line, end: i) else { return nil }
        let time = 0..<i

        // Stream: exactly `stdout` or `stderr`, then a space or the end of the line.
        let streamStart = i + 1
        guard streamStart + 6 <= end,
              line[streamStart] == 0x73, line[streamStart + 1] == 0x74, line[streamStart + 2] == 0x64, // "std"
              (line[streamStart + 3] == 0x6F && line[streamStart + 4] == 0x75 && line[streamStart + 5] == 0x74) // "out"
                || (line[streamStart + 3] == 0x65 && line[streamStart + 4] == 0x72 && line[streamStart + 5] == 0x72) // "err"
        else { return nil }
        let stream = streamStart..<(streamStart + 6)
        i = streamStart + 6
        if i == end {
            return CRILine(time: time, stream: stream, isPartial: false, message: end..<end)
        }
        guard line[i] == ParserBytes.space else { return nil }
        let tagStart = i + 1

        // Tag: `P` or `F`, optionally followed by `:attributes`, ended by a space or the end.
        if tagStart < end, line[tagStart] == 0x50 || line[tagStart] == 0x46 {
            var j = tagStart + 1
            var isTag = j == end || line[j] == ParserBytes.space
            if !isTag && line[j] == 0x3A {
                // Attributes are bounded like the time field: a colon far away is message text.
                let limit = min(end, j + maxTimeLength)
                while j < limit && line[j] != ParserBytes.space { j += 1 }
                isTag = j == end || line[j] == ParserBytes.space
            }
            if isTag {
                let messageStart = j == end ? end : j + 1
                return CRILine(time: time, stream: stream, isPartial: line[tagStart] == 0x50, message: messageStart..<end)
            }
        }
        // Old format without a tag: the rest is one full line.
        return CRILine(time: time, stream: stream, isPartial: false, message: tagStart..<end)
    }

    /// `YYYY-MM-DDTHH:MM:SS` followed only by fraction/offset characters. Deliberately a
    /// shape check, not a full parse: parsing the time is the caller's choice.
    private static func looksLikeRFC3339(_ b: UnsafeRawBufferPointer, end: Int) -> Bool {
        guard end >= 20 else { return false }
        // Positions 4, 7, 10, 13, 16 are separators; every other byte of the prefix is a digit.
        for k in 0..<19 where k != 4 && k != 7 && k != 10 && k != 13 && k != 16 && !ASCIIBytes.isDigit(b[k]) {
            return false
        }
        guard b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74, b[13] == 0x3A, b[16] == 0x3A else { return false }
        for k in 19..<end {
            let c = b[k]
            guard ASCIIBytes.isDigit(c) || c == 0x2E || c == 0x3A || c == 0x2B || c == 0x2D || c == 0x5A || c == 0x7A else { return false }
        }
        return true
    }
}
