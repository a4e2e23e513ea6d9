import Foundation
import LogBridgeCore
import Logging
import Synchronization

/// Indexer acknowledgements for one HEC sink: which requests wait for which ack id on which
/// channel, the poll loop that asks the indexers, and the record of it kept in the spool.
///
/// Each endpoint gets its own channel GUID, so an ack id is always asked of the indexer that
/// received the data. Outstanding and recently confirmed requests are saved in the spool (at most
/// once a second), so a restarted gateway polls the ack ids it already has instead of resending
/// blindly; Splunk keeps them for an idle channel's `maxIdleTime` (600 s by default).
final class HECAcknowledgements: Sendable {
    /// A request HEC accepted: the records it carried (a spool sequence range) and its ack id.
    struct Entry: Codable, Sendable, Equatable {
        var endpoint: String
        var ackID: UInt64
        var first: UInt64
        var last: UInt64
        var sentAtMs: Int64
        var acked: Bool
    }

    struct Key: Hashable, Sendable {
        var endpoint: String
        var ackID: UInt64
    }

    private struct Tracked {
        var entry: Entry
        var waiters: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    }

    private struct State {
        var entries: [Key: Tracked] = [:]
        var dirty = false
        var nextWaiterID = 0
    }

    /// Endpoint URL -> channel GUID.
    let channels: [String: String]
    private let state: Mutex<State>
    private let pollInterval: Duration
    private let timeoutMs: Int64
    private let transport: HTTPTransport
    private let pool: EndpointPool
    private let notebook: SinkNotebook?
    private let logger: Logger

    static let channelsNote = "channels"
    static let acksNote = "acks"

    /// Restores channels and outstanding acks from the notebook; endpoints without a channel get a
    /// new GUID. Restored acks that are still outstanding get at most `restoredTimeout` from now.
    init(
        pollInterval: Duration, timeout: Duration, restoredTimeout: Duration, transport: HTTPTransport, pool: EndpointPool,
        notebook: SinkNotebook?, logger: Logger
    ) {
        self.pollInterval = pollInterval
        timeoutMs = timeout.milliseconds
        self.transport = transport
        self.pool = pool
        self.notebook = notebook
        self.logger = logger
        let decoder = JSONDecoder()
        let saved = (try? notebook?.load(Self.channelsNote)).flatMap { try? decoder.decode([String: String].self, from: Data($0)) } ?? [:]
        var channels: [String: String] = [:]
        for endpoint in pool.endpoints {
            channels[endpoint.url] = saved[endpoint.url] ?? UUID().uuidString
        }
        self.channels = channels
        let restored = (try? notebook?.load(Self.acksNote)).flatMap { try? decoder.decode([Entry].self, from: Data($0)) } ?? []
        var state = State()
        // The deadline counts from `sentAtMs`: move it so a restored ack expires `restoredTimeout`
        // from now at the latest. Splunk forgets an ack id once it has answered `true`; if the
        // gateway stopped after that answer and before saving it, the id reads `false` forever,
        // and waiting the whole `ack_timeout` (300 s by default) would stall the sink.
        let restoredDeadlineMs = min(restoredTimeout, timeout).milliseconds
        let now = Self.nowMs()
        for var entry in restored where channels[entry.endpoint] != nil {
            if !entry.acked { entry.sentAtMs = min(entry.sentAtMs, now - timeoutMs + restoredDeadlineMs) }
            state.entries[Key(endpoint: entry.endpoint, ackID: entry.ackID)] = Tracked(entry: entry)
        }
        self.state = Mutex(state)
        if !restored.isEmpty {
            logger.info(
                "restored outstanding HEC acknowledgements; polling them before sending those records again",
                metadata: ["acks": "\(restored.filter { !$0.acked }.count)", "confirmed": "\(restored.filter(\.acked).count)"])
        }
    }

    /// Saves the channel ids, so a restarted gateway asks the same channels.
    func saveChannels() async {
        guard let notebook, let data = try? JSONEncoder().encode(channels) else { return }
        do { try await notebook.save(Self.channelsNote, Array(data)) } catch {
            logger.error("cannot save HEC channel ids in the spool", metadata: [LogKey.error: "\(error)"])
        }
    }

    func channel(for endpoint: EndpointPool.Endpoint) -> String { channels[endpoint.url] ?? "" }

    /// Starts waiting for an ack id.
    func register(endpoint: EndpointPool.Endpoint, ackID: UInt64, first: UInt64, last: UInt64) -> Key {
        let key = Key(endpoint: endpoint.url, ackID: ackID)
        let entry = Entry(endpoint: endpoint.url, ackID: ackID, first: first, last: last, sentAtMs: Self.nowMs(), acked: false)
        // Splunk handing out an id this channel already waits on (an indexer restarted and
        // counts from 0 again, or a balancer without sticky sessions sent the request to another
        // indexer): the earlier request's answer can no longer be told apart, so whoever waits on
        // it hears `false` and its records are sent again, instead of waiting forever.
        let orphaned = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            let earlier = state.entries[key]?.waiters.map(\.continuation) ?? []
            state.entries[key] = Tracked(entry: entry)
            state.dirty = true
            return earlier
        }
        if !orphaned.isEmpty {
            logger.warning(
                "Splunk reused an acknowledgement id still awaited on this channel (indexer restarted?); that batch is sent again",
                metadata: ["endpoint": "\(endpoint.url)", "ack_id": "\(ackID)"])
        }
        orphaned.forEach { $0.resume(returning: false) }
        return key
    }

    /// Records of `batch` that requests already in flight or confirmed cover (after a restart, or
    /// when part of a batch was confirmed before the rest timed out), and the acks to wait for.
    func coverage(of batch: RecordBatch) -> (covered: [Bool], waitFor: [Key]) {
        guard let firstSequence = batch.records.first?.sequence, let lastSequence = batch.records.last?.sequence else {
            return ([], [])
        }
        return state.withLock { state in
            var covered = Array(repeating: false, count: batch.count)
            var waitFor: [Key] = []
            for (key, tracked) in state.entries where tracked.entry.first <= lastSequence && tracked.entry.last >= firstSequence {
                var any = false
                for (i, record) in batch.records.enumerated() where record.sequence >= tracked.entry.first && record.sequence <= tracked.entry.last {
                    covered[i] = true
                    any = true
                }
                if any && !tracked.entry.acked { waitFor.append(key) }
            }
            return (covered, waitFor)
        }
    }

    /// Returns true once HEC confirms `key`, false when it is dropped (deadline passed, endpoint
    /// gone) or the task is cancelled.
    func wait(_ key: Key) async -> Bool {
        let id = state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let answer = state.withLock { state -> Bool? in
                    guard !Task.isCancelled, var tracked = state.entries[key] else { return false }
                    if tracked.entry.acked { return true }
                    tracked.waiters.append((id, continuation))
                    state.entries[key] = tracked
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard var tracked = state.entries[key], let index = tracked.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                let waiter = tracked.waiters.remove(at: index).continuation
                state.entries[key] = tracked
                return waiter
            }
            waiter?.resume(returning: false)
        }
    }

    /// The sink's cursor passed `nextSequence`: requests wholly before it are forgotten.
    func committed(through nextSequence: UInt64) {
        state.withLock { state in
            let before = state.entries.count
            state.entries = state.entries.filter { $0.value.entry.last >= nextSequence || !$0.value.waiters.isEmpty }
            if state.entries.count != before { state.dirty = true }
        }
    }

    /// Polls every `pollInterval` and saves changes at most once a second, until cancelled.
    func run() async {
        var nextPoll = ContinuousClock.now + pollInterval
        while !Task.isCancelled {
            try? await Task.sleep(for: min(.seconds(1), pollInterval))
            if ContinuousClock.now >= nextPoll {
                // A poll is not cancelled half way: Splunk forgets an ack id once it answers
                // `true`, so an answer dropped by a stop would leave the id reading `false` for the
                // restarted gateway until `restoredAckTimeout`. The poll runs in a task of its own
                // (no inherited cancellation), bounded by `request_timeout`, and is saved below.
                let acks = self
                await Task { await acks.pollOnce() }.value
                nextPoll = .now + pollInterval
            }
            await saveIfChanged()
        }
        await saveIfChanged()
    }

    /// Asks each endpoint about its outstanding ack ids, then expires those still unconfirmed
    /// past the deadline. Asking first: a poll that comes late (a stalled machine, a slow
    /// endpoint) must not give up on acks Splunk may have confirmed meanwhile, which would send
    /// their batches again as duplicates. Only ids past the deadline when the poll started expire,
    /// so each is asked once more after its deadline.
    func pollOnce() async {
        let now = Self.nowMs()
        let outstanding = state.withLock { state -> [String: [UInt64]] in
            var byEndpoint: [String: [UInt64]] = [:]
            for (key, tracked) in state.entries where !tracked.entry.acked {
                byEndpoint[key.endpoint, default: []].append(key.ackID)
            }
            return byEndpoint
        }
        for endpoint in pool.endpoints {
            await checkHealth(endpoint)
            guard let ids = outstanding[endpoint.url], !ids.isEmpty else { continue }
            await poll(endpoint, ids: ids.sorted())
        }
        var expired: [CheckedContinuation<Bool, Never>] = []
        state.withLock { state in
            for (key, tracked) in state.entries where !tracked.entry.acked && now - tracked.entry.sentAtMs > timeoutMs {
                expired += tracked.waiters.map(\.continuation)
                state.entries[key] = nil
                state.dirty = true
            }
        }
        if !expired.isEmpty {
            logger.warning("HEC acknowledgements timed out; those batches are sent again", metadata: ["acks": "\(expired.count)"])
        }
        expired.forEach { $0.resume(returning: false) }
    }

    private func poll(_ endpoint: EndpointPool.Endpoint, ids: [UInt64]) async {
        var body = Array(#"{"acks":["#.utf8)
        for (i, id) in ids.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            JSONBytes.appendUnsigned(id, to: &body)
        }
        body += Array("]}".utf8)
        let response: HTTPResponse
        do {
            response = try await transport.post(
                endpoint, path: "/services/collector/ack", contentType: "application/json", body: body,
                headers: [("X-Splunk-Request-Channel", channel(for: endpoint))], compress: false)
        } catch {
            // The same episode bookkeeping as event requests: a fault is logged once, however
            // many polls fail with it.
            let newEpisode = pool.noteFault(endpoint, error.fault)
            HTTPBatchDriver.logFailure(error.fault, report: (ejected: false, newEpisode: newEpisode), logger: logger)
            return
        }
        HTTPBatchDriver.logRecovery(pool.clearFault(endpoint), logger: logger)
        guard let indexed = Self.indexedAckIDs(response) else {
            logger.warning(
                "HEC acknowledgement poll refused", metadata: ["endpoint": "\(endpoint.url)", "http.status": "\(response.status)", "body": "\(response.bodyText)"])
            return
        }
        var confirmed: [CheckedContinuation<Bool, Never>] = []
        state.withLock { state in
            for ackID in indexed {
                guard var tracked = state.entries[Key(endpoint: endpoint.url, ackID: ackID)] else { continue }
                tracked.entry.acked = true
                confirmed += tracked.waiters.map(\.continuation)
                tracked.waiters = []
                state.entries[Key(endpoint: endpoint.url, ackID: ackID)] = tracked
                state.dirty = true
            }
        }
        // Saved before the waiters hear of it: a restart before the runner moves its cursor must
        // find these acks confirmed, not outstanding (Splunk has forgotten the ids by now).
        if !confirmed.isEmpty { await saveIfChanged() }
        confirmed.forEach { $0.resume(returning: true) }
    }

    /// The ack ids an ack poll's answer `{"acks":{"0":true,"1":false}}` reports as indexed, or nil
    /// when the poll was refused or the body is not such an object. Ids that are not decimal
    /// numbers are skipped.
    static func indexedAckIDs(_ response: HTTPResponse) -> [UInt64]? {
        guard response.status == 200,
            let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let acks = object["acks"] as? [String: Bool]
        else { return nil }
        return acks.compactMap { id, indexed in indexed ? UInt64(id) : nil }
    }

    /// `/services/collector/health` drives endpoint health: 200 brings an ejected endpoint back,
    /// 503 (queues full, ack service unavailable) counts as a failure. Other answers (a load
    /// balancer that does not route the path) are ignored.
    private func checkHealth(_ endpoint: EndpointPool.Endpoint) async {
        guard let response = try? await transport.get(endpoint, path: "/services/collector/health") else { return }
        if response.status == 200 {
            if !pool.isHealthy(endpoint) { pool.reportSuccess(endpoint) }
        } else if response.status == 503 {
            if pool.reportFailure(endpoint) {
                logger.warning("HEC endpoint reports itself unhealthy; ejected", metadata: ["endpoint": "\(endpoint.url)", "body": "\(response.bodyText)"])
            }
        }
    }

    func saveIfChanged() async {
        guard let notebook else { return }
        let snapshot = state.withLock { state -> [Entry]? in
            guard state.dirty else { return nil }
            state.dirty = false
            return state.entries.values.map(\.entry).sorted { $0.first < $1.first }
        }
        guard let snapshot, let data = try? JSONEncoder().encode(snapshot) else { return }
        do { try await notebook.save(Self.acksNote, Array(data)) } catch {
            state.withLock { $0.dirty = true }
            logger.error("cannot save outstanding HEC acknowledgements in the spool", metadata: [LogKey.error: "\(error)"])
        }
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
