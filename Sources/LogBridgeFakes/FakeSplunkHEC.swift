import DequeModule
import Foundation
import LogBridgeCore
import Synchronization

/// A Splunk HTTP Event Collector that checks what Splunk checks and fails the way it fails
/// (docs/sink-protocols.md §1 and §4).
///
/// Checks: `Authorization: Splunk <token>` or Basic with the token as password (codes 2, 3, 4);
/// gzip bodies; events as concatenated JSON objects (code 6 with `invalid-event-number`, indexing
/// the events before the bad one as Splunk does); `event` present and not blank (12, 13); flat
/// `fields` (15); an index allow-list (7); the request size limit (413). With acknowledgements on:
/// a GUID channel on every request (10, 11), per-channel ack ids from 0, acks that turn true after
/// a configurable delay (or never) and are forgotten once reported true; code 14 when off.
/// `/services/collector/health` answers 17, or 18 when made unhealthy. Every indexed event is
/// recorded, duplicates included, by its `fields.event_id`.
public final class FakeSplunkHEC: Sendable {
    /// Injected behaviour for the next event requests, used once each, in order.
    public enum Fault: Sendable {
        /// Answer with this HTTP status and HEC code (503/9 busy, 500/8 internal, 429 with
        /// Retry-After ...), indexing nothing.
        case status(Int, code: Int?, retryAfter: String? = nil)
        /// Answer after a delay (past the client's timeout: a timeout), indexing the events.
        case slow(Duration)
        /// Close the connection without answering, indexing nothing.
        case drop
        /// Index the events, then close the connection without answering.
        case indexThenDrop
        /// Index the events and answer, but never acknowledge them (a lost ack). Only a request
        /// that is given an ack id takes it: one refused (a bad token, code 6) leaves it for the
        /// next, so a test that loses an ack always sees that batch sent again.
        case loseAck
    }

    public struct Event: Sendable {
        public var eventID: String?
        public var channel: String?
        public var object: [UInt8]
    }

    private struct Channel {
        var nextAckID: UInt64 = 0
        var acks: [UInt64: ContinuousClock.Instant?] = [:]
    }

    private struct State {
        var faults: Deque<Fault> = []
        var events: [Event] = []
        var channels: [String: Channel] = [:]
        var eventRequests = 0
        var ackPolls = 0
        var healthChecks = 0
        var unhealthy = false
        var gzipRequests = 0
        var holdingAcks = false
        var heldAcks: [(channel: String, id: UInt64)] = []
    }

    private final class Store: Sendable {
        let state = Mutex(State())
    }

    public struct Options: Sendable {
        public var token = "hec-token"
        public var acknowledgements = true
        /// How long after indexing an ack turns true; nil: never.
        public var ackDelay: Duration? = .milliseconds(50)
        /// Indexes a token may write; nil allows any.
        public var allowedIndexes: Set<String>? = nil
        /// How long an ack poll's answer takes (Splunk has already forgotten the ids it reports
        /// true by then): a stop during that wait must not lose the answer.
        public var ackPollDelay: Duration = .zero
        /// Events whose text contains this marker are invalid JSON for Splunk's parser (code 6).
        public var poison: String? = nil
        public var maxContentLength = 800 << 20
        /// Keep each event's JSON (tests read them); benchmarks keep only the ids.
        public var keepEvents = true

        public init() {}
    }

    private let store = Store()
    private let server: FakeHTTPServer
    public let options: Options
    public var url: String { server.url }

    /// - Parameter tls: serve HTTPS with this certificate (and client-certificate requirement).
    public init(options: Options = Options(), tls: FakeHTTPServer.TLS? = nil) async throws {
        self.options = options
        let store = self.store
        server = try await FakeHTTPServer(tls: tls) { request in
            Self.handle(request, store: store, options: options)
        }
    }

    public func inject(_ faults: Fault...) { store.state.withLock { $0.faults += faults } }
    public func setUnhealthy(_ unhealthy: Bool) { store.state.withLock { $0.unhealthy = unhealthy } }
    /// An indexer restart: every channel forgets its acks and counts ack ids from 0 again, as a
    /// restarted Splunk indexer does (its ack state is in memory).
    public func restartIndexer() {
        store.state.withLock { state in
            for name in state.channels.keys { state.channels[name] = Channel() }
            state.heldAcks = []
        }
    }

    /// Holds every acknowledgement given from now on at `false` (`true`), or (`false`) turns the
    /// held ones true at once and goes back to `ackDelay`: a test decides the moment Splunk
    /// indexed instead of racing a clock on a loaded machine. Lost acks (``Fault/loseAck``) stay
    /// lost.
    public func holdAcks(_ hold: Bool) {
        store.state.withLock { state in
            state.holdingAcks = hold
            guard !hold else { return }
            let now = ContinuousClock.now
            for (channel, id) in state.heldAcks where state.channels[channel]?.acks[id] != nil {
                state.channels[channel]?.acks[id] = .some(now)
            }
            state.heldAcks = []
        }
    }
    public func shutdown() async { await server.shutdown() }

    public var events: [Event] { store.state.withLock { $0.events } }
    public var eventCount: Int { store.state.withLock { $0.events.count } }
    public var eventIDs: [String] { store.state.withLock { $0.events.compactMap(\.eventID) } }
    /// Events indexed more than once (same `event_id`).
    public var duplicates: Int {
        let ids = eventIDs
        return ids.count - Set(ids).count
    }
    public var eventRequests: Int { store.state.withLock { $0.eventRequests } }
    public var ackPolls: Int { store.state.withLock { $0.ackPolls } }
    public var healthChecks: Int { store.state.withLock { $0.healthChecks } }
    public var gzipRequests: Int { store.state.withLock { $0.gzipRequests } }
    public var channelIDs: Set<String> { store.state.withLock { Set($0.channels.keys) } }

    // MARK: Requests

    private static func handle(_ request: FakeHTTPServer.Request, store: Store, options: Options) -> FakeHTTPServer.Reply {
        switch (request.method, request.path) {
        case ("GET", "/services/collector/health"), ("GET", "/services/collector/health/1.0"):
            let unhealthy = store.state.withLock { state -> Bool in
                state.healthChecks += 1
                return state.unhealthy
            }
            return unhealthy ? reply(503, 18, "Server is busy") : reply(200, 17, "HEC is healthy")
        case ("POST", "/services/collector/ack"):
            let answer = acknowledge(request, store: store, options: options)
            if options.ackPollDelay > .zero, case .respond(let status, let headers, let body) = answer {
                return .delayed(options.ackPollDelay, status: status, headers: headers, body: body)
            }
            return answer
        case ("POST", "/services/collector/event"), ("POST", "/services/collector"), ("POST", "/services/collector/event/1.0"):
            return ingest(request, store: store, options: options)
        default:
            return .respond(status: 404, headers: [], body: Array(#"{"text":"The requested URL was not found on this server.","code":404}"#.utf8))
        }
    }

    private static func authorize(_ request: FakeHTTPServer.Request, options: Options) -> FakeHTTPServer.Reply? {
        guard let header = request.header("Authorization") else { return reply(401, 2, "Token is required") }
        let token: String?
        if header.hasPrefix("Splunk ") {
            token = String(header.dropFirst("Splunk ".count))
        } else if header.hasPrefix("Basic "), let decoded = Data(base64Encoded: String(header.dropFirst(6))),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        {
            token = String(text[text.index(after: colon)...])
        } else {
            return reply(401, 3, "Invalid authorization")
        }
        return token == options.token ? nil : reply(403, 4, "Invalid token")
    }

    /// The channel, checked when acknowledgements are on: `nil` reply means it is fine.
    private static func channel(_ request: FakeHTTPServer.Request, options: Options) -> (String?, FakeHTTPServer.Reply?) {
        let channel = request.header("X-Splunk-Request-Channel") ?? request.query["channel"]
        guard options.acknowledgements else { return (channel, nil) }
        guard let channel else { return (nil, reply(400, 10, "Data channel is missing")) }
        guard UUID(uuidString: channel) != nil else { return (nil, reply(400, 11, "Invalid data channel")) }
        return (channel, nil)
    }

    private static func ingest(_ request: FakeHTTPServer.Request, store: Store, options: Options) -> FakeHTTPServer.Reply {
        let fault: Fault? = store.state.withLock { state in
            state.eventRequests += 1
            return state.faults.isEmpty ? nil : state.faults.removeFirst()
        }
        switch fault {
        case .status(let status, let code, let retryAfter):
            var headers = [("Content-Type", "application/json")]
            if let retryAfter { headers.append(("Retry-After", retryAfter)) }
            let body = code.map { Array(#"{"text":"injected","code":\#($0)}"#.utf8) } ?? Array("Too Many Requests".utf8)
            return .respond(status: status, headers: headers, body: body)
        case .drop:
            return .drop
        default:
            break
        }
        var ackLost = false
        defer {
            if case .loseAck = fault, !ackLost { store.state.withLock { $0.faults.prepend(.loseAck) } }
        }
        if let refusal = authorize(request, options: options) { return refusal }
        let (channel, channelError) = Self.channel(request, options: options)
        if let channelError { return channelError }
        var body = request.body
        if request.header("Content-Encoding")?.lowercased() == "gzip" {
            guard let inflated = Gzip.decompress(body) else { return reply(400, 6, "Invalid data format") }
            body = inflated
            store.state.withLock { $0.gzipRequests += 1 }
        }
        guard body.count <= options.maxContentLength else {
            return .respond(status: 413, headers: [], body: Array("Content-Length of \(body.count) too large".utf8))
        }
        let objects = splitObjects(body)
        guard !objects.isEmpty else { return reply(400, 5, "No data") }
        var accepted: [Event] = []
        accepted.reserveCapacity(objects.count)
        var failure: FakeHTTPServer.Reply?
        // Each event read in place, in one validating pass that also finds its `event`, `fields`
        // and `index` members: the fake shares the bench machine's cores with the sink it
        // measures, and a copy plus three lookups per event (each skipping the whole event value)
        // made it cost more CPU than the forwarder.
        body.withUnsafeBytes { body in
            var found: [Range<Int>?] = [nil, nil, nil]
            for (number, range) in objects.enumerated() {
                let object = UnsafeRawBufferPointer(rebasing: body[range])
                if let problem = check(object, number: number, options: options, found: &found) {
                    failure = problem
                    break
                }
                let id = found[1].flatMap { fields in
                    JSONBytes.lookup(keys: Self.eventIDKey, in: UnsafeRawBufferPointer(rebasing: object[fields]))
                        .map { String(decoding: $0, as: UTF8.self) }
                }
                accepted.append(Event(eventID: id, channel: channel, object: options.keepEvents ? Array(object) : []))
            }
        }
        // Splunk indexes the events before a bad one (docs/sink-protocols.md §1.5).
        let ackID: UInt64? = store.state.withLock { state in
            state.events += accepted
            guard failure == nil, options.acknowledgements, let channel else { return nil }
            var entry = state.channels[channel] ?? Channel()
            let id = entry.nextAckID
            entry.nextAckID += 1
            if case .loseAck = fault {
                entry.acks[id] = .some(nil)
                ackLost = true
            } else if state.holdingAcks {
                entry.acks[id] = .some(nil)
                state.heldAcks.append((channel, id))
            } else {
                entry.acks[id] = .some(options.ackDelay.map { ContinuousClock.now + $0 })
            }
            state.channels[channel] = entry
            return id
        }
        if let failure { return failure }
        switch fault {
        case .indexThenDrop:
            return .drop
        case .slow(let delay):
            return .delayed(delay, status: 200, headers: [("Content-Type", "application/json")], body: success(ackID))
        default:
            return .respond(status: 200, headers: [("Content-Type", "application/json")], body: success(ackID))
        }
    }

    private static func success(_ ackID: UInt64?) -> [UInt8] {
        Array((ackID.map { #"{"text":"Success","code":0,"ackId":\#($0)}"# } ?? #"{"text":"Success","code":0}"#).utf8)
    }

    /// What Splunk checks in one event object, or nil when it is fine. `found` gets the ranges of
    /// its `event`, `fields` and `index` members (``memberKeys``).
    private static func check(
        _ bytes: UnsafeRawBufferPointer, number: Int, options: Options, found: inout [Range<Int>?]
    ) -> FakeHTTPServer.Reply? {
        guard JSONBytes.isValidObject(bytes, noting: memberKeys, into: &found) else {
            // Valid JSON that is no object has no `event` field; anything else is not JSON.
            if JSONBytes.isValid(bytes) { return reply(400, 12, "Event field is required", number) }
            return reply(400, 6, "Invalid data format", number)
        }
        if let poison = options.poison, String(decoding: bytes, as: UTF8.self).contains(poison) {
            return reply(400, 6, "Invalid data format", number)
        }
        guard let event = found[0].map({ JSONBytes.unquoted(UnsafeRawBufferPointer(rebasing: bytes[$0])) }) else {
            return reply(400, 12, "Event field is required", number)
        }
        if event.isEmpty { return reply(400, 13, "Event field cannot be blank", number) }
        if let fields = found[1], !isFlat(UnsafeRawBufferPointer(rebasing: bytes[fields])) {
            return reply(400, 15, "Error in handling indexed fields", number)
        }
        if let allowed = options.allowedIndexes, let index = found[2] {
            let name = String(decoding: JSONBytes.unquoted(UnsafeRawBufferPointer(rebasing: bytes[index])), as: UTF8.self)
            if !allowed.contains(name) { return reply(400, 7, "Incorrect index", number) }
        }
        return nil
    }

    private static let memberKeys: [[UInt8]] = [Array("event".utf8), Array("fields".utf8), Array("index".utf8)]
    private static let eventIDKey: [[UInt8]] = [Array("event_id".utf8)]

    /// `fields` must be one object of strings or string arrays (byte scan: the fake keeps up with
    /// the sink in benchmarks).
    private static func isFlat(_ fields: UnsafeRawBufferPointer) -> Bool {
        guard fields.first == UInt8(ascii: "{") else { return false }
        var inString = false
        var escaped = false
        var objects = 0
        var arrays = 0
        for byte in fields {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"): objects += 1
            case UInt8(ascii: "["): arrays += 1
            case UInt8(ascii: "]"): arrays -= 1
            default: break
            }
            if objects > 1 || arrays > 1 { return false }
        }
        return true
    }

    private static func acknowledge(_ request: FakeHTTPServer.Request, store: Store, options: Options) -> FakeHTTPServer.Reply {
        if let refusal = authorize(request, options: options) { return refusal }
        guard options.acknowledgements else { return reply(400, 14, "ACK is disabled") }
        let (channel, channelError) = Self.channel(request, options: options)
        if let channelError { return channelError }
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
            let ids = object["acks"] as? [Int]
        else { return reply(400, 6, "Invalid data format") }
        let now = ContinuousClock.now
        let answers = store.state.withLock { state -> [String] in
            state.ackPolls += 1
            var entry = state.channels[channel!] ?? Channel()
            var answers: [String] = []
            for id in ids.map(UInt64.init) {
                var indexed = false
                if let readyAt = entry.acks[id], let readyAt, readyAt <= now {
                    indexed = true
                    entry.acks[id] = nil  // Splunk forgets an ack once it reported it true.
                }
                answers.append(#""\#(id)":\#(indexed)"#)
            }
            state.channels[channel!] = entry
            return answers
        }
        return .respond(status: 200, headers: [("Content-Type", "application/json")], body: Array(#"{"acks":{\#(answers.joined(separator: ","))}}"#.utf8))
    }

    private static func reply(_ status: Int, _ code: Int, _ text: String, _ number: Int? = nil) -> FakeHTTPServer.Reply {
        let extra = number.map { #","invalid-event-number":\#($0)"# } ?? ""
        return .respond(status: status, headers: [("Content-Type", "application/json")], body: Array(#"{"text":"\#(text)","code":\#(code)\#(extra)}"#.utf8))
    }

    /// Splits concatenated JSON objects (whitespace between them allowed). Anything that is not an
    /// object becomes its own piece, so the check reports it as invalid. Strings are skipped eight
    /// bytes at a time to their next quote or backslash.
    static func splitObjects(_ body: [UInt8]) -> [Range<Int>] {
        var pieces: [Range<Int>] = []
        body.withUnsafeBytes { body in
            var i = 0
            while i < body.count {
                let byte = body[i]
                if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                    i += 1
                    continue
                }
                let start = i
                guard byte == UInt8(ascii: "{") else {
                    pieces.append(start..<body.count)
                    break
                }
                var depth = 0
                while i < body.count {
                    let c = body[i]
                    if c == UInt8(ascii: "\"") {
                        // To the closing quote, past each backslash and the byte it escapes. The
                        // word skip stops short of a tail under eight bytes; those go one by one.
                        i += 1
                        while i < body.count {
                            i = JSONBytes.skipToQuoteOrBackslash(body, from: i)
                            guard i < body.count, body[i] != UInt8(ascii: "\"") else { break }
                            i += body[i] == UInt8(ascii: "\\") ? 2 : 1
                        }
                    } else if c == UInt8(ascii: "{") {
                        depth += 1
                    } else if c == UInt8(ascii: "}") {
                        depth -= 1
                        if depth == 0 {
                            i += 1
                            break
                        }
                    }
                    i += 1
                }
                pieces.append(start..<min(i, body.count))
            }
        }
        return pieces
    }
}
