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
    /// answer, the common HTTP handling otherwise. A 2xx body that cannot be read, or that lists
    /// more or fewer items than the request had, is a protocol error: positions no longer say
    /// which record an item is about, so the driver's bounded policy applies (a few whole retries,
    /// then halves, then a dead letter), never an endless retry.
    static func verdict(_ response: HTTPResponse, chunk: [Int]) -> HTTPChunkVerdict {
        guard (200..<300).contains(response.status) else { return HTTPBatchDriver.commonVerdict(response) }
        if response.truncated {
            return .protocolError(status: response.status, reason: "Elasticsearch's bulk answer is larger than the response limit")
        }
        let listed = itemCount(response.body)
        guard listed == chunk.count, let outcomes = outcomes(response.body, listing: chunk.count) else {
            let reason = listed.map { "Elasticsearch answered \($0) bulk items for \(chunk.count) actions" }
                ?? "Elasticsearch's bulk answer could not be read"
            return .protocolError(status: response.status, reason: reason)
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

    /// Per-item outcomes of a 2xx bulk response whose `items` array ``itemCount(_:)`` counted as
    /// `expected`, or nil if the body cannot be read. The count is not taken again here: it is a
    /// pass over the whole answer (2.7% of the forwarder's CPU in the Elasticsearch bench profile).
    static func outcomes(_ body: [UInt8], listing expected: Int) -> [ElasticsearchItemOutcome]? {
        let noErrors = body.withUnsafeBytes { JSONBytes.lookup(keys: errorsKey, in: $0).map { ByteKey.equal($0[...], falseLiteral) } }
        if noErrors == true { return Array(repeating: .delivered, count: expected) }
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

    /// How many elements the body's `items` array has, or nil when there is no readable one.
    ///
    /// One tight pass, run on every answer (most say `"errors":false` and are not parsed further):
    /// `"items":` is found by a plain byte search (a raw `"items":` can only be a key, quotes inside
    /// strings being escaped, and ES writes `items` at the top level before anything nested that
    /// could hold one), then strings are skipped without validating them. A full `lookup` and a
    /// validating scan cost 7% of the forwarder's CPU in the Elasticsearch bench profile.
    static func itemCount(_ body: [UInt8]) -> Int? {
        body.withUnsafeBytes { bytes -> Int? in
            let key = itemsKey
            let n = bytes.count
            var i = 0
            var found = false
            while i + key.count <= n {
                if bytes[i] == UInt8(ascii: "\""), bytes[i + 1] == UInt8(ascii: "i"),
                    zip(key.indices, key).allSatisfy({ bytes[i + $0] == $1 })
                {
                    found = true
                    i += key.count
                    break
                }
                i += 1
            }
            guard found else { return nil }
            while i < n, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
            guard i < n, bytes[i] == UInt8(ascii: "[") else { return nil }
            var depth = 0
            var commas = 0
            var sawElement = false
            while i < n {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    if depth == 1 { sawElement = true }
                    // Eight bytes at a time to the closing quote: most of an answer is `_index`,
                    // `_id` and `result` strings.
                    i += 1
                    while true {
                        i = JSONBytes.skipToQuoteOrBackslash(bytes, from: i)
                        guard i < n else { return nil }
                        if bytes[i] == UInt8(ascii: "\"") { break }
                        i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1
                    }
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    if depth == 1 { sawElement = true }
                    depth += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    depth -= 1
                    if depth == 0 { return sawElement ? commas + 1 : 0 }
                case UInt8(ascii: ","):
                    if depth == 1 { commas += 1 }
                case 0x20, 0x0A, 0x0D, 0x09:
                    break
                default:
                    if depth == 1 { sawElement = true }
                }
                i += 1
            }
            return nil
        }
    }

    private static let errorsKey = [Array("errors".utf8)]
    private static let falseLiteral = Array("false".utf8)
    private static let itemsKey = Array(#""items":"#.utf8)
}
