import FuzzSupport
import LogBridgeCore
@testable import LogBridgeSinks

/// The Splunk HEC sink's reading of answers: event posts (`HECResponse`, `HECResponse.verdict`)
/// and acknowledgement polls (`HECAcknowledgements.indexedAckIDs`). Status, `Retry-After` (up to
/// the first newline) and body from the input.
///
/// - Any answer: the verdict names only records of the chunk, each once; delays within the cap.
/// - Code 6 with `invalid-event-number` k (docs/sink-protocols.md §1.5): record k is
///   dead-lettered, the ones after it are sent again, the ones before count as indexed.
/// - An ack poll answer written from input bits reports exactly the ids marked true.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHECResponse(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let status = httpStatus(input.byte())
    let options = input.byte()
    let bad = Int(input.byte() % 64)
    let chunk = Array(0..<Int(options % 64)).map { $0 * 2 + 5 }
    let (retryAfter, body) = headerAndBody(input.rest)
    let response = HTTPResponse(status: status, headers: retryAfter.map { [("Retry-After", $0)] } ?? [], body: body)
    let acknowledgements = options & 64 != 0
    let verdict = HECResponse.verdict(response, chunk: chunk, acknowledgements: acknowledgements)
    checkVerdict(verdict, chunk: chunk)
    _ = HECAcknowledgements.indexedAckIDs(response)

    // A bad event in the middle of the chunk (or past its end).
    let answer = Array(#"{"text":"Invalid data format","code":6,"invalid-event-number":\#(bad)}"#.utf8)
    let split = HECResponse.verdict(HTTPResponse(status: 400, headers: [], body: answer), chunk: chunk, acknowledgements: acknowledgements)
    if bad < chunk.count {
        require(
            split == .partial(retry: Array(chunk[(bad + 1)...]), rejected: [.init(index: chunk[bad], status: 400, reason: "HEC code 6: Invalid data format")]),
            "code 6 at \(bad) of \(chunk.count) judged \(split)")
    } else {
        require(split == .rejectAll(status: 400, reason: "HEC code 6: Invalid data format"), "code 6 outside the chunk judged \(split)")
    }

    // An ack poll answer: one id per input byte, indexed when its low bit is set.
    var poll = Array(#"{"acks":{"#.utf8)
    var indexed: Set<UInt64> = []
    for (i, b) in body.prefix(64).enumerated() {
        let id = UInt64(i) * 7 + UInt64((b >> 1) % 7)
        if poll.last != UInt8(ascii: "{") { poll.append(UInt8(ascii: ",")) }
        poll += Array(#""\#(id)":\#(b & 1 == 1)"#.utf8)
        if b & 1 == 1 { indexed.insert(id) }
    }
    poll += Array("}}".utf8)
    let reported = HECAcknowledgements.indexedAckIDs(HTTPResponse(status: 200, headers: [], body: poll))
    require(reported.map(Set.init) == indexed, "ack answer \(show(poll)) read as \(reported.map { "\($0)" } ?? "refused")")
    return 0
}
