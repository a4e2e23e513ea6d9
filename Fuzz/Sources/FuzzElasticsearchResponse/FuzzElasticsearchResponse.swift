import FuzzSupport
import LogBridgeCore
@testable import LogBridgeSinks

/// The Elasticsearch sink's reading of `_bulk` answers (`ElasticsearchResponse.verdict`, the
/// sink's `judge`): status, `Retry-After` header (up to the first newline) and body from the input.
///
/// - Any answer: a per-item verdict names only records of the chunk, each at most once, and never
///   both retried and rejected; retry delays stay within the 5-minute cap.
/// - A bulk response written from per-item statuses (one input byte each) is classified as
///   docs/sink-protocols.md §2.5 says: 2xx and 409 delivered, 429 and 5xx retried, the rest
///   rejected.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzElasticsearchResponse(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let status = httpStatus(input.byte())
    let chunk = Array(0..<Int(input.byte() % 64)).map { $0 * 3 + 1 }
    let (retryAfter, body) = headerAndBody(input.rest)
    let response = HTTPResponse(status: status, headers: retryAfter.map { [("Retry-After", $0)] } ?? [], body: body)
    checkVerdict(ElasticsearchResponse.verdict(response, chunk: chunk), chunk: chunk)

    // Per-item statuses from the input, as Elasticsearch writes them.
    let statuses = body.prefix(64).map { item -> Int in
        [200, 201, 409, 400, 404, 403, 429, 500, 503, 413][Int(item) % 10]
    }
    var bulk = Array(#"{"took":3,"errors":"#.utf8) + Array((statuses.allSatisfy { $0 < 300 } ? "false" : "true").utf8)
    bulk += Array(#","items":["#.utf8)
    for (i, itemStatus) in statuses.enumerated() {
        if i > 0 { bulk.append(UInt8(ascii: ",")) }
        bulk += Array(#"{"create":{"_index":"logs-2026.11.21","_id":"logs-0-\#(i)","status":\#(itemStatus)"#.utf8)
        if itemStatus >= 300 {
            bulk += Array(#","error":{"type":"e\#(itemStatus)","reason":"r\"\#(i)\u00e9"}"#.utf8)
        }
        bulk += Array("}}".utf8)
    }
    bulk += Array("]}".utf8)
    let items = Array(0..<statuses.count).map { $0 * 3 + 1 }
    let verdict = ElasticsearchResponse.verdict(HTTPResponse(status: 200, headers: [], body: bulk), chunk: items)
    let retry = zip(items, statuses).filter { $0.1 == 429 || $0.1 >= 500 }.map(\.0)
    let rejected = zip(items, statuses).filter { ($0.1 >= 300 && $0.1 != 409) && !($0.1 == 429 || $0.1 >= 500) }.map {
        HTTPChunkVerdict.Rejection(index: $0.0, status: $0.1, reason: "e\($0.1): r\"\(($0.0 - 1) / 3)é")
    }
    require(
        verdict == .partial(retry: retry, rejected: rejected),
        "bulk answer \(show(bulk)) judged \(verdict), expected retry \(retry) rejected \(rejected)")
    return 0
}
