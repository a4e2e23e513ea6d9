import LogBridgeCore

/// HEC's answer `{"text":…,"code":N,"ackId":N,"invalid-event-number":k}` and what each code means
/// for the batch (docs/sink-protocols.md §1.4).
struct HECResponse: Equatable {
    var code: Int?
    var text: String?
    var ackID: UInt64?
    var invalidEventNumber: Int?

    init(_ body: [UInt8]) {
        body.withUnsafeBytes { bytes in
            code = JSONBytes.lookup(["code"], in: bytes).flatMap { Int(String(decoding: $0, as: UTF8.self)) }
            ackID = JSONBytes.lookup(["ackId"], in: bytes).flatMap { UInt64(String(decoding: $0, as: UTF8.self)) }
            invalidEventNumber = JSONBytes.lookup(["invalid-event-number"], in: bytes).flatMap {
                Int(String(decoding: $0, as: UTF8.self))
            }
            text = JSONBytes.lookup(["text"], in: bytes).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The verdict for a chunk of `indices` sent in one request.
    /// - Parameter acknowledgements: whether the sink waits for indexer acknowledgements.
    static func verdict(_ response: HTTPResponse, chunk: [Int], acknowledgements: Bool) -> HTTPChunkVerdict {
        let hec = HECResponse(response.body)
        let reason = "HEC code \(hec.code.map(String.init) ?? "-"): \(hec.text ?? response.bodyText)"
        switch (response.status, hec.code) {
        case (200..<300, _):
            // Success (code 0). Without an ackId the token has acknowledgement off: HTTP 200 is
            // all the confirmation there is.
            if acknowledgements, let ackID = hec.ackID { return .accepted(ackID: ackID) }
            return .partial(retry: [], rejected: [])
        case (400, 6?):
            // The events before the bad one were indexed; it is dead-lettered and only the ones
            // after it are sent again.
            guard let bad = hec.invalidEventNumber, chunk.indices.contains(bad) else {
                return .rejectAll(status: 400, reason: reason)
            }
            return .partial(
                retry: Array(chunk[(bad + 1)...]),
                rejected: [.init(index: chunk[bad], status: 400, reason: reason)])
        case (400, 5?), (400, 7?), (400, 12?), (400, 13?), (400, 15?):
            // No data, an index the token may not write, a missing or blank event, bad indexed
            // fields: the content is wrong. Halves until the bad event is alone, then it goes to
            // the dead-letter store.
            return .rejectAll(status: 400, reason: reason)
        case (400, 10?), (400, 11?), (400, 14?), (400, 16?), (401, _), (403, _):
            // Channel, acknowledgement or token configuration: nothing is dropped; the sink waits
            // for the operator to fix Splunk or the config (the spool holds the backlog).
            return .retryAll(after: .seconds(5), endpointFailed: true)
        case (500, _), (503, _):
            // 8: internal error; 9: busy; 18-20: queues full or ack service unavailable.
            return .retryAll(after: RetryAfter.delay(response.header("Retry-After")), endpointFailed: response.status != 503 || hec.code != 9)
        default:
            return HTTPBatchDriver.commonVerdict(response)
        }
    }
}
