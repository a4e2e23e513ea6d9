import DequeModule
import Foundation
import LogBridgeCore
import Synchronization

/// An Elasticsearch `_bulk` endpoint that checks what a real node checks and fails the way real
/// nodes fail.
///
/// Checks: `POST /_bulk` or `/{index}/_bulk`, `Content-Type` application/x-ndjson or
/// application/json (else 406), optional basic or ApiKey auth (else 401), gzip bodies, the body
/// ending in a newline (else 400), each action line a JSON object with `create`/`index` and a
/// valid document after it. A `create` whose `_id` exists in that index answers 409, as ES does.
/// Documents are kept per index and id so tests can count deliveries and duplicates.
public final class FakeElasticsearch: Sendable {
    /// Injected behaviour for the next requests, used once each, in order.
    public enum Fault: Sendable {
        /// Answer the whole request with this status (429, 503, ...) and optional Retry-After.
        case status(Int, retryAfter: String? = nil)
        /// Store the request, but answer every `every`-th item with this status (429: retry it).
        case itemFailures(every: Int, status: Int)
        /// Answer after a delay (past the client's timeout: a timeout).
        case slow(Duration)
        /// Close the connection without answering.
        case drop
        /// Index the request, then answer with one item more than it had (a proxy or a cluster
        /// that breaks the protocol: positions no longer match the actions).
        case extraItem
    }

    private struct State {
        var faults: Deque<Fault> = []
        /// While set, every request is answered with this status (an outage), before any fault.
        var outage: Int?
        /// The ids stored, per index: one insert per `create` decides a conflict.
        var ids: [String: IDTable] = [:]
        /// Document bodies per index and id, only with `keepDocuments` (tests read them).
        var documents: [String: [String: [UInt8]]] = [:]
        var requests = 0
        var conflicts = 0
        var rejectedItems = 0
        var gzipRequests = 0
    }

    private let store: Store
    private let server: FakeHTTPServer

    /// The fake's state, shared with the server's request handler.
    private final class Store: Sendable {
        let state = Mutex(State())
    }
    /// Documents containing this text are refused for good (a mapping error).
    public let poison: String?
    private let authorization: String?

    public var url: String { server.url }

    /// - Parameters:
    ///   - basicAuth: require `Authorization: Basic` with these credentials.
    ///   - poison: a marker; documents containing it fail with `mapper_parsing_exception` (400).
    ///   - latency: how long every bulk answer takes (a loaded cluster).
    ///   - keepDocuments: keep document bodies (tests read them); benchmarks keep only the ids.
    ///   - tls: serve HTTPS with this certificate (and client-certificate requirement).
    ///   - port: the port to listen on; 0 picks a free one.
    public init(
        basicAuth: (user: String, password: String)? = nil, poison: String? = nil, latency: Duration = .zero,
        keepDocuments: Bool = true, tls: FakeHTTPServer.TLS? = nil, port: Int = 0
    ) async throws {
        self.poison = poison
        let authorization = basicAuth.map { "Basic " + Data("\($0.user):\($0.password)".utf8).base64EncodedString() }
        self.authorization = authorization
        let store = Store()
        self.store = store
        server = try await FakeHTTPServer(port: port, tls: tls) { request in
            let reply = Self.handle(request, state: store, poison: poison, authorization: authorization, keepDocuments: keepDocuments)
            if latency > .zero, case .respond(let status, let headers, let body) = reply {
                return .delayed(latency, status: status, headers: headers, body: body)
            }
            return reply
        }
    }

    public func inject(_ faults: Fault...) { store.state.withLock { $0.faults += faults } }

    /// Starts (a status such as 503) or ends (nil) an outage: every request fails until it ends.
    public func setOutage(_ status: Int?) { store.state.withLock { $0.outage = status } }

    public func shutdown() async { await server.shutdown() }

    /// Serves a new certificate and drops open connections (``FakeHTTPServer/replaceCertificate(_:)``).
    public func replaceCertificate(_ tls: FakeHTTPServer.TLS) throws { try server.replaceCertificate(tls) }

    /// Documents stored, over all indices.
    public var documentCount: Int { store.state.withLock { $0.ids.values.reduce(0) { $0 + $1.count } } }
    /// `create`s refused with 409 because the `_id` was already there (replays).
    public var conflicts: Int { store.state.withLock { $0.conflicts } }
    public var requests: Int { store.state.withLock { $0.requests } }
    public var gzipRequests: Int { store.state.withLock { $0.gzipRequests } }
    public var indexNames: [String] { store.state.withLock { Array($0.ids.keys).sorted() } }
    /// A stored document's body; nil when it is absent or the fake keeps ids only.
    public func document(index: String, id: String) -> [UInt8]? { store.state.withLock { $0.documents[index]?[id] } }
    /// Every stored id, over all indices.
    public var allIDs: [String] { store.state.withLock { $0.ids.values.flatMap(\.ids) } }

    /// The instant, in epoch milliseconds, that Elasticsearch's default date mapping
    /// (`strict_date_optional_time||epoch_millis`) would index for a `@timestamp` value as
    /// `JSONSerialization` read it: a number is epoch *milliseconds* (so Fluent Bit's default,
    /// seconds with a fraction, lands in January 1970), a string is ISO 8601 or else a number of
    /// milliseconds. nil: the value would fail the mapping.
    public static func indexedDateMillis(_ value: Any?) -> Int64? {
        if let number = value as? NSNumber, !(value is String) { return Int64(number.doubleValue.rounded(.down)) }
        guard let text = value as? String else { return nil }
        var bytes = Array(text.utf8)
        if let nanos = bytes.withUnsafeMutableBytes({ TimestampParser.parseISO8601(UnsafeRawBufferPointer($0)) }) {
            return nanos >= 0 ? nanos / 1_000_000 : (nanos - 999_999) / 1_000_000
        }
        return Double(text).map { Int64($0.rounded(.down)) }
    }

    private static func handle(
        _ request: FakeHTTPServer.Request, state store: Store, poison: String?, authorization: String?, keepDocuments: Bool
    ) -> FakeHTTPServer.Reply {
        let fault: Fault? = store.state.withLock { state in
            state.requests += 1
            if let outage = state.outage { return .status(outage) }
            return state.faults.isEmpty ? nil : state.faults.removeFirst()
        }
        switch fault {
        case .status(let status, let retryAfter):
            var headers = [("Content-Type", "application/json")]
            if let retryAfter { headers.append(("Retry-After", retryAfter)) }
            let type = status == 429 ? "es_rejected_execution_exception" : "unavailable_shards_exception"
            return .respond(status: status, headers: headers, body: error(type, "injected", status: status))
        case .slow(let delay):
            return .delayed(delay, status: 200, headers: [("Content-Type", "application/json")], body: Array(#"{"took":1,"errors":false,"items":[]}"#.utf8))
        case .drop:
            return .drop
        default:
            break
        }
        guard request.method == "POST", request.path == "/_bulk" || request.path.hasSuffix("/_bulk") else {
            return .respond(status: 405, headers: [("Content-Type", "application/json")], body: error("illegal_argument_exception", "unsupported \(request.method) \(request.path)", status: 405))
        }
        if let authorization, request.header("Authorization") != authorization {
            return .respond(status: 401, headers: [("WWW-Authenticate", "Basic realm=\"security\"")], body: error("security_exception", "unable to authenticate user", status: 401))
        }
        let contentType = request.header("Content-Type")?.split(separator: ";").first.map { String($0).lowercased() } ?? ""
        guard contentType == "application/x-ndjson" || contentType == "application/json" else {
            return .respond(status: 406, headers: [("Content-Type", "application/json")], body: error("media_type_header_exception", "Content-Type header [\(contentType)] is not supported", status: 406))
        }
        var body = request.body
        if request.header("Content-Encoding")?.lowercased() == "gzip" {
            guard let inflated = Gzip.decompress(body) else {
                return .respond(status: 400, headers: [("Content-Type", "application/json")], body: error("parse_exception", "invalid gzip body", status: 400))
            }
            body = inflated
            store.state.withLock { $0.gzipRequests += 1 }
        }
        guard body.last == UInt8(ascii: "\n") else {
            return .respond(status: 400, headers: [("Content-Type", "application/json")], body: error("illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]", status: 400))
        }
        let lines = lineRanges(body)
        guard lines.count % 2 == 0 else {
            return .respond(status: 400, headers: [("Content-Type", "application/json")], body: error("illegal_argument_exception", "action without a document", status: 400))
        }
        let failEvery: (Int, Int)? = if case .itemFailures(let every, let status) = fault { (every, status) } else { nil }
        // Byte-level parsing over the body in place, and one lock per request: the fake shares the
        // bench machine's two cores with the forwarder it measures, so its cost per record counts.
        // The action line is validated and its operation found in one pass; the operation's
        // `_index`/`_id` are looked up with keys made once; items name their index by number.
        var items: [Item] = []
        items.reserveCapacity(lines.count / 2)
        var indexNames: [String] = []
        var malformedLine: Int?
        // Each name once, so that each index's id set is taken out of the state once below.
        func number(of name: String) -> Int {
            if let known = indexNames.firstIndex(of: name) { return known }
            indexNames.append(name)
            return indexNames.count - 1
        }
        body.withUnsafeBytes { bytes in
            var found: [Range<Int>?] = [nil, nil]
            var lastIndex: (bytes: UnsafeRawBufferPointer, number: Int)?
            var pathIndex: Int?
            for pair in stride(from: 0, to: lines.count, by: 2) {
                let action = UnsafeRawBufferPointer(rebasing: bytes[lines[pair]])
                guard JSONBytes.isValidObject(action, noting: Self.operationKeys, into: &found),
                      let (op, operation) = found[0].map({ (Operation.create, $0) }) ?? found[1].map({ (Operation.index, $0) })
                else {
                    malformedLine = pair + 1
                    return
                }
                let metadata = UnsafeRawBufferPointer(rebasing: action[operation])
                let index: Int
                if let named = JSONBytes.lookup(keys: Self.indexKey, in: metadata) {
                    if let last = lastIndex, last.bytes.elementsEqual(named) {
                        index = last.number
                    } else {
                        index = number(of: String(decoding: named, as: UTF8.self))
                        lastIndex = (named, index)
                    }
                } else if let pathIndex {
                    index = pathIndex
                } else {
                    index = number(of: String(request.path.dropLast(6).dropFirst()))
                    pathIndex = index
                }
                // The id stays where it is in the body; Elasticsearch makes one up when there is none.
                let id: Item.ID = JSONBytes.lookup(keys: Self.idKey, in: metadata).map { found in
                    let start = found.baseAddress! - bytes.baseAddress!
                    return .inBody(start..<(start + found.count))
                } ?? .generated(Array(UUID().uuidString.utf8))
                let documentRange = lines[pair + 1]
                let document = UnsafeRawBufferPointer(rebasing: bytes[documentRange])
                var item = Item(op: op, index: index, id: id, document: documentRange)
                if let (every, injected) = failEvery, (pair / 2 + 1) % every == 0 {
                    item.status = injected
                    item.error = #","error":{"type":"es_rejected_execution_exception","reason":"injected item failure"}"#
                } else if document.first != UInt8(ascii: "{") || !JSONBytes.isValid(document) {
                    item.status = 400
                    item.error = #","error":{"type":"mapper_parsing_exception","reason":"failed to parse"}"#
                } else if let poison, String(decoding: document, as: UTF8.self).contains(poison) {
                    item.status = 400
                    item.error = #","error":{"type":"mapper_parsing_exception","reason":"failed to parse field [log] of type [date]"}"#
                }
                items.append(item)
            }
        }
        if let malformedLine {
            return .respond(status: 400, headers: [("Content-Type", "application/json")], body: error("illegal_argument_exception", "Malformed action/metadata line [\(malformedLine)]", status: 400))
        }
        store.state.withLock { state in
            // Each index's id set is taken out of the state for the request's items and put back,
            // so inserting does not copy it (it is uniquely referenced) and its name is hashed
            // once per request rather than once per item.
            var sets = indexNames.map { state.ids.removeValue(forKey: $0) ?? IDTable() }
            for i in items.indices where items[i].status == 0 {
                let inserted = items[i].id.withBytes(in: body) { sets[items[i].index].insert($0) }
                if items[i].op == .create, !inserted {
                    state.conflicts += 1
                    items[i].status = 409
                    items[i].error = #","error":{"type":"version_conflict_engine_exception","reason":"document already exists"}"#
                } else {
                    if keepDocuments {
                        let id = items[i].id.withBytes(in: body) { String(decoding: $0, as: UTF8.self) }
                        state.documents[indexNames[items[i].index], default: [:]][id] = Array(body[items[i].document])
                    }
                    items[i].status = 201
                }
            }
            for (name, set) in zip(indexNames, sets) where set.count > 0 { state.ids[name] = set }
            state.rejectedItems += items.reduce(0) { $0 + ($1.status >= 300 && $1.status != 409 ? 1 : 0) }
        }
        if case .extraItem = fault {
            items.append(Item(op: .index, index: number(of: "unknown"), id: .generated(Array("extra".utf8)), document: 0..<0, status: 201))
        }
        return .respond(status: 200, headers: [("Content-Type", "application/json")], body: response(items, indexNames: indexNames, body: body))
    }

    /// The bulk operations the fake accepts; the first of `operationKeys` present wins.
    private enum Operation {
        case create, index

        var name: String { self == .create ? "create" : "index" }
    }

    private static let operationKeys: [[UInt8]] = [Array("create".utf8), Array("index".utf8)]
    private static let indexKey: [[UInt8]] = [Array("_index".utf8)]
    private static let idKey: [[UInt8]] = [Array("_id".utf8)]

    /// One action of a bulk request and its outcome (status 0: not decided before the store).
    private struct Item {
        /// An `_id` as the action wrote it (escapes kept, as Elasticsearch echoes them back).
        enum ID {
            case inBody(Range<Int>)
            case generated([UInt8])

            func withBytes<R>(in body: [UInt8], _ read: (UnsafeRawBufferPointer) -> R) -> R {
                switch self {
                case .inBody(let range): return body.withUnsafeBytes { read(UnsafeRawBufferPointer(rebasing: $0[range])) }
                case .generated(let bytes): return bytes.withUnsafeBytes(read)
                }
            }
        }

        var op: Operation
        /// Its position in the request's index names.
        var index: Int
        var id: ID
        var document: Range<Int>
        var status = 0
        var error = ""
    }

    /// The non-empty lines of an NDJSON body, found with `memchr`.
    private static func lineRanges(_ body: [UInt8]) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        body.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var start = 0
            while start < bytes.count {
                let end = memchr(base + start, Int32(UInt8(ascii: "\n")), bytes.count - start)
                    .map { UnsafeRawPointer($0) - base } ?? bytes.count
                if end > start { lines.append(start..<end) }
                start = end + 1
            }
        }
        return lines
    }

    /// The bulk answer: `errors` and one item per action, in order.
    private static func response(_ items: [Item], indexNames: [String], body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + items.count * 96)
        out.append(contentsOf: #"{"took":3,"errors":"#.utf8)
        out.append(contentsOf: (items.contains { $0.status >= 300 } ? "true" : "false").utf8)
        out.append(contentsOf: #","items":["#.utf8)
        for (n, item) in items.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{""#.utf8)
            out.append(contentsOf: item.op.name.utf8)
            out.append(contentsOf: #"":{"_index":""#.utf8)
            out.append(contentsOf: indexNames[item.index].utf8)
            out.append(contentsOf: #"","_id":""#.utf8)
            item.id.withBytes(in: body) { out.append(contentsOf: $0) }
            out.append(contentsOf: #"","status":"#.utf8)
            JSONBytes.appendInteger(Int64(item.status), to: &out)
            out.append(contentsOf: item.error.utf8)
            out.append(contentsOf: "}}".utf8)
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    private static func error(_ type: String, _ reason: String, status: Int) -> [UInt8] {
        Array(#"{"error":{"root_cause":[{"type":"\#(type)","reason":"\#(reason)"}],"type":"\#(type)","reason":"\#(reason)"},"status":\#(status)}"#.utf8)
    }
}
