import Foundation
import LogBridgeCore

/// What a `_bulk` response says about each item, in request order.
enum ElasticsearchItemOutcome: Equatable {
    /// Indexed, or already there (409 on `create` with the same `_id`: a replay).
    case delivered
    /// 429 or 5xx for this item: send it again.
    case retry(status: Int)
    /// Rejected for good (mapping error, bad document): dead-letter it with the reason.
    case rejected(status: Int, reason: String)
}

enum ElasticsearchResponse {
    /// The query string that trims the response to what the sink reads, keeping one entry per item
    /// so positions still match the request.
    static let filterPath = "filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason"

    /// The verdict for a chunk of `indices` sent in one `_bulk` request: per item for a 2xx
    /// answer, the common HTTP handling otherwise. An unreadable 2xx body retries the chunk.
    static func verdict(_ response: HTTPResponse, chunk: [Int]) -> HTTPChunkVerdict {
        guard (200..<300).contains(response.status) else { return HTTPBatchDriver.commonVerdict(response) }
        guard let outcomes = outcomes(response.body, expected: chunk.count) else {
            return .retryAll(after: nil, endpointFailed: true)
        }
        var retry: [Int] = []
        var refused: [HTTPChunkVerdict.Rejection] = []
        for (index, outcome) in zip(chunk, outcomes) {
            switch outcome {
            case .delivered: break
            case .retry: retry.append(index)
            case .rejected(let status, let reason): refused.append(.init(index: index, status: status, reason: reason))
            }
        }
        return .partial(retry: retry, rejected: refused)
    }

    /// Per-item outcomes of a 2xx bulk response, or nil if the body cannot be read or does not
    /// list `expected` items.
    static func outcomes(_ body: [UInt8], expected: Int) -> [ElasticsearchItemOutcome]? {
        let errors = body.withUnsafeBytes { JSONBytes.lookup(["errors"], in: $0).map { String(decoding: $0, as: UTF8.self) } }
        if errors == "false" { return Array(repeating: .delivered, count: expected) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let items = object["items"] as? [[String: Any]], items.count == expected
        else { return nil }
        return items.map { item in
            guard let action = item.values.first as? [String: Any], let status = action["status"] as? Int else {
                return .retry(status: 0)
            }
            if (200..<300).contains(status) || status == 409 { return .delivered }
            if status == 429 || status >= 500 { return .retry(status: status) }
            let error = action["error"] as? [String: Any]
            let type = error?["type"] as? String ?? "error"
            let reason = error?["reason"] as? String ?? "rejected"
            return .rejected(status: status, reason: "\(type): \(reason)")
        }
    }
}
