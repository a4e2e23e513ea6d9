import DequeModule
import Foundation
import LogBridgeCore
import Synchronization

/// A Loki push endpoint that checks what Loki's distributor and ingesters check and fails the way
/// they fail (docs/sink-protocols.md §3 and §4).
///
/// Checks: `POST /loki/api/v1/push` with `Content-Type: application/json` (snappy-protobuf bodies
/// get a 415 here, since the sink sends JSON);
/// `X-Scope-OrgID` when multi-tenant (401 "no org id"); gzip; string nanosecond timestamps (a
/// number is a 400); at least one label, valid label names, at most 15, value length; line size;
/// too old / too new; the per-stream out-of-order window; structured metadata as Loki 3 reads it
/// (an entry's optional third element, an object of strings: anything else fails the whole
/// request; refused per entry when `allowStructuredMetadata` is off, over
/// `maxStructuredMetadataSize` bytes of names and values, or over
/// `maxStructuredMetadataEntries`). Like Loki it stores the valid entries and
/// then answers 400 with the last error, de-duplicates identical (labels, timestamp, line) and
/// answers 204 with an empty body. Injectable: 429 (with or without Retry-After), 5xx, stored then
/// 5xx, slow answers and dropped connections.
public final class FakeLoki: Sendable {
    public enum Fault: Sendable {
        /// Answer with this status, storing nothing (tenant rate limit: 429 before any write).
        case status(Int, retryAfter: String? = nil)
        /// Store the entries, then answer 500 (an ingester failed after writing).
        case storeThenFail
        case slow(Duration)
        case drop
    }

    public struct Entry: Sendable, Hashable {
        public var labels: String
        public var timestamp: String
        public var line: String
        /// The entry's structured metadata; empty when it had none. Loki's de-duplication looks
        /// at the timestamp and line only, and so does the fake's (``Identity``).
        public var metadata: [String: String] = [:]

        var identity: Identity { Identity(labels: labels, timestamp: timestamp, line: line) }
    }

    struct Identity: Hashable {
        let labels: String
        let timestamp: String
        let line: String
        /// The three strings hashed once: the set of every entry seen grows by doubling, and
        /// re-hashing whole lines at each growth was a sixth of the fake's CPU in the bench.
        private let digest: Int

        init(labels: String, timestamp: String, line: String) {
            self.labels = labels
            self.timestamp = timestamp
            self.line = line
            digest = Int(truncatingIfNeeded: QuickHash.digest(labels) ^ QuickHash.digest(timestamp) &* 31 ^ QuickHash.digest(line) &* 1_000_003)
        }

        static func == (a: Identity, b: Identity) -> Bool {
            a.digest == b.digest && a.labels == b.labels && a.timestamp == b.timestamp && a.line == b.line
        }

        func hash(into hasher: inout Hasher) { hasher.combine(digest) }
    }

    public struct Options: Sendable {
        /// Require `X-Scope-OrgID` (multi-tenant, Loki's default).
        public var tenant: String? = "team-a"
        public var maxLineSize = 256 * 1024
        /// Entries older than this (relative to now) are refused (`reject_old_samples_max_age`).
        public var maxAge: Duration = .seconds(7 * 24 * 3600)
        /// Entries newer than now plus this are refused (`creation_grace_period`).
        public var gracePeriod: Duration = .seconds(600)
        public var maxLabelNames = 15
        /// `limits_config.allow_structured_metadata` (true by default since Loki 3).
        public var allowStructuredMetadata = true
        /// `max_structured_metadata_size`: bytes of names and values per entry (64 KB).
        public var maxStructuredMetadataSize = 64 * 1024
        /// `max_structured_metadata_entries_count` per entry (128).
        public var maxStructuredMetadataEntries = 128
        public init() {}
    }

    private struct State {
        var faults: Deque<Fault> = []
        var entries: [Entry] = []
        var seen: Set<Identity> = []
        var newest: [String: Int64] = [:]
        var pushes = 0
        var duplicatesSkipped = 0
        var refused = 0
        var tenants: Set<String> = []
        /// While set, every push is answered with this status, storing nothing (Loki down).
        var outage: Int?
    }

    private final class Store: Sendable {
        let state = Mutex(State())
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
    /// Starts (a status such as 503) or ends (nil) an outage: every push fails until it ends.
    public func setOutage(_ status: Int?) { store.state.withLock { $0.outage = status } }
    public func shutdown() async { await server.shutdown() }

    /// Stored entries (after Loki's de-duplication).
    public var entries: [Entry] { store.state.withLock { $0.entries } }
    public var pushes: Int { store.state.withLock { $0.pushes } }
    /// Identical entries sent again and skipped (retries, replays).
    public var duplicatesSkipped: Int { store.state.withLock { $0.duplicatesSkipped } }
    public var refusedEntries: Int { store.state.withLock { $0.refused } }

    private static func handle(_ request: FakeHTTPServer.Request, store: Store, options: Options) -> FakeHTTPServer.Reply {
        let fault: Fault? = store.state.withLock { state in
            state.pushes += 1
            if let outage = state.outage { return .status(outage) }
            return state.faults.isEmpty ? nil : state.faults.removeFirst()
        }
        switch fault {
        case .status(let status, let retryAfter):
            var headers: [(String, String)] = []
            if let retryAfter { headers.append(("Retry-After", retryAfter)) }
            let text = status == 429 ? "Ingestion rate limit exceeded for user team-a (limit: 4194304 bytes/sec)" : "injected failure"
            return .respond(status: status, headers: headers, body: Array(text.utf8))
        case .drop:
            return .drop
        default:
            break
        }
        guard request.method == "POST", request.path == "/loki/api/v1/push" else { return text(404, "404 page not found") }
        if let tenant = options.tenant, request.header("X-Scope-OrgID") != tenant {
            return text(401, request.header("X-Scope-OrgID") == nil ? "no org id" : "unknown tenant")
        }
        guard request.header("Content-Type")?.lowercased().hasPrefix("application/json") == true else {
            return text(415, "the fake accepts application/json only")
        }
        var body = request.body
        if let encoding = request.header("Content-Encoding")?.lowercased() {
            guard encoding == "gzip", let inflated = Gzip.decompress(body) else { return text(415, "unsupported Content-Encoding") }
            body = inflated
        }
        // The common shape is read at the byte level (LokiPushReader); the rest, and every error's
        // wording, through JSONSerialization.
        let parsed = LokiPushReader.streams(body)
            ?? ((try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["streams"] as? [[String: Any]])
        guard let streams = parsed else { return text(400, "loghttp.PushRequest.Streams: ReadArray: expect [ or n") }

        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let oldest = now - Int64(options.maxAge.components.seconds) * 1_000_000_000
        let newestAllowed = now + Int64(options.gracePeriod.components.seconds) * 1_000_000_000
        var lastError: String?
        var valid: [Entry] = []
        /// Each valid entry's timestamp, already parsed.
        var validNanos: [Int64] = []
        var refused = 0
        for stream in streams {
            guard let labels = stream["stream"] as? [String: String], !labels.isEmpty else {
                lastError = "error at least one label pair is required per stream"
                refused += (stream["values"] as? [Any])?.count ?? 0
                continue
            }
            if labels.count > options.maxLabelNames {
                lastError = "stream '\(labels)' has \(labels.count) label names; limit \(options.maxLabelNames)"
                refused += (stream["values"] as? [Any])?.count ?? 0
                continue
            }
            if let bad = labels.keys.first(where: { !Self.validLabelName($0) || $0.hasPrefix("__") }) {
                lastError = "error parsing labels: invalid label name '\(bad)'"
                refused += (stream["values"] as? [Any])?.count ?? 0
                continue
            }
            if labels.values.contains(where: { $0.utf8.count > 2048 }) {
                lastError = "label value too long"
                refused += (stream["values"] as? [Any])?.count ?? 0
                continue
            }
            let labelText = "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ", ") + "}"
            for value in stream["values"] as? [[Any]] ?? [] {
                guard value.count >= 2, let timestamp = value[0] as? String, let ns = Int64(timestamp), let line = value[1] as? String else {
                    return text(400, "loghttp.PushRequest.Streams: timestamp must be a string of nanoseconds")
                }
                // Loki's decoder reads at most three elements, the third an object of strings;
                // anything else is a parse error that refuses the whole request.
                var metadata: [String: String] = [:]
                if value.count > 3 {
                    return text(400, "loghttp.PushRequest.Streams: ReadArray: error reading entry: array must contain 2 or 3 values")
                }
                if value.count == 3 {
                    guard let object = value[2] as? [String: Any] else {
                        return text(400, "loghttp.PushRequest.Streams: ReadMapCB: expect { or n, structured metadata must be an object")
                    }
                    for (name, item) in object {
                        // JSONSerialization reads `true` and numbers as NSNumber, never String.
                        guard let string = item as? String else {
                            return text(400, "loghttp.PushRequest.Streams: ReadString: expects \" or n, structured metadata '\(name)' is not a string")
                        }
                        metadata[name] = string
                    }
                }
                // In the order of Loki's per-entry validation: age, line size, then metadata.
                let metadataBytes = metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
                var problem: String?
                if ns < oldest {
                    problem = "entry for stream '\(labelText)' has timestamp too old: \(ns)"
                } else if ns > newestAllowed {
                    problem = "entry for stream '\(labelText)' has timestamp too new: \(ns)"
                } else if line.utf8.count > options.maxLineSize {
                    problem = "Max entry size '\(options.maxLineSize)' bytes exceeded for stream '\(labelText)'"
                } else if !metadata.isEmpty && !options.allowStructuredMetadata {
                    problem = "stream '\(labelText)' includes structured metadata, but this feature is disallowed. Please see `limits_config.allow_structured_metadata` or contact your Loki administrator to enable it."
                } else if metadataBytes > options.maxStructuredMetadataSize {
                    problem = "stream '\(labelText)' has structured metadata too large: '\(metadataBytes)' bytes, limit: '\(options.maxStructuredMetadataSize)' bytes. Please see `limits_config.max_structured_metadata_size` or contact your Loki administrator to increase it."
                } else if metadata.count > options.maxStructuredMetadataEntries {
                    problem = "stream '\(labelText)' has too many structured metadata labels: '\(metadata.count)', limit: '\(options.maxStructuredMetadataEntries)'. Please see `limits_config.max_structured_metadata_entries_count` or contact your Loki administrator to increase it."
                }
                if let problem {
                    lastError = problem
                    refused += 1
                } else {
                    valid.append(Entry(labels: labelText, timestamp: timestamp, line: line, metadata: metadata))
                    validNanos.append(ns)
                }
            }
        }
        // Loki stores the valid entries, then reports the last validation error.
        let windowError: String? = store.state.withLock { state in
            var windowError: String?
            // A stream's newest timestamp is looked up once per run of its entries (they come
            // together) and written back when the run ends, not read and written per entry.
            var stream: (labels: String, newest: Int64?)?
            func endRun() { if let stream, let newest = stream.newest { state.newest[stream.labels] = newest } }
            for (entry, ns) in zip(valid, validNanos) {
                if stream?.labels != entry.labels {
                    endRun()
                    stream = (entry.labels, state.newest[entry.labels])
                }
                if let newest = stream?.newest, ns < newest - 3_600_000_000_000 {
                    windowError = "entry with timestamp \(ns) ignored, reason: 'entry too far behind, oldest acceptable timestamp is: \(newest - 3_600_000_000_000)' for stream: \(entry.labels)"
                    state.refused += 1
                    continue
                }
                guard state.seen.insert(entry.identity).inserted else {
                    state.duplicatesSkipped += 1
                    continue
                }
                state.entries.append(entry)
                let newest = max(stream?.newest ?? ns, ns)
                stream?.newest = newest
            }
            endRun()
            state.refused += refused
            return windowError
        }
        if let error = lastError ?? windowError { return text(400, error) }
        switch fault {
        case .storeThenFail: return text(500, "rpc error: code = Unavailable desc = ingester stopped")
        case .slow(let delay): return .delayed(delay, status: 204, headers: [], body: [])
        default: return .respond(status: 204, headers: [], body: [])
        }
    }

    private static func validLabelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    private static func text(_ status: Int, _ message: String) -> FakeHTTPServer.Reply {
        .respond(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array((message + "\n").utf8))
    }
}
