import DequeModule
import Foundation
import LogBridgeCore

import Logging

/// What a protocol makes of one response to a chunk of records.
public enum HTTPChunkVerdict: Sendable, Equatable {
    /// Per-record outcome: `retry` are sent again (after backoff), `rejected` dead-lettered, the
    /// rest are delivered.
    case partial(retry: [Int], rejected: [Rejection])
    /// Accepted, to be confirmed later under this acknowledgement id (Splunk HEC indexer acks).
    case accepted(ackID: UInt64)
    /// Nothing was stored: send the same chunk again after backoff (at least `after`, from
    /// Retry-After). `endpointFailed` counts against the endpoint's health (5xx, not 429).
    case retryAll(after: Duration?, endpointFailed: Bool)
    /// Too large (413): send it in halves.
    case split
    /// The whole request was refused for its content: halves until the bad record is alone, then
    /// dead-letter it with this status and reason.
    case rejectAll(status: Int, reason: String)
    /// The answer breaks the protocol (a bulk answer listing more or fewer items than were sent):
    /// nothing in it can be trusted. The chunk is sent again whole a bounded number of times
    /// (``HTTPBatchDriver/protocolErrorRetries``), then in halves, and a record still answered
    /// that way on its own is dead-lettered with the reason: bounded, never an endless retry.
    case protocolError(status: Int, reason: String)

    public struct Rejection: Sendable, Equatable {
        public var index: Int
        public var status: Int
        public var reason: String
        public init(index: Int, status: Int, reason: String) {
            self.index = index
            self.status = status
            self.reason = reason
        }
    }
}

/// What became of a batch's records once the delivery loop returns.
public struct HTTPBatchOutcome: Sendable {
    /// A chunk the destination accepted but confirms later.
    public struct Pending: Sendable {
        public var indices: [Int]
        public var endpoint: EndpointPool.Endpoint
        public var ackID: UInt64
    }

    /// Records rejected for good.
    public var rejected: [HTTPChunkVerdict.Rejection] = []
    /// Chunks waiting for an acknowledgement; every other record is delivered.
    public var pending: [Pending] = []
}

/// The delivery loop every HTTP sink shares: endpoint rotation and ejection, transport errors,
/// exponential backoff with jitter honouring Retry-After, retrying only what failed, splitting on
/// 413, isolating bad records. It returns once every record of the batch is delivered or rejected.
public struct HTTPBatchDriver: Sendable {
    public let pool: EndpointPool
    public let sinkName: String
    public let logger: Logger
    public var initialBackoff: Duration = .milliseconds(100)
    public var maxBackoff: Duration = .seconds(30)
    /// Whole resends of a chunk whose answer broke the protocol, before it is halved.
    public var protocolErrorRetries = 3
    /// Fed with every response's latency and push-back, when concurrency is adaptive.
    public let adaptive: AdaptiveConcurrency?
    /// Request latency per endpoint, requests in flight and retries go here (endpoint health is
    /// read from the pool when metrics are scraped).
    public let statistics: SinkStatistics

    public init(
        pool: EndpointPool, sinkName: String, logger: Logger, adaptive: AdaptiveConcurrency? = nil, statistics: SinkStatistics? = nil
    ) {
        self.pool = pool
        self.sinkName = sinkName
        self.logger = logger
        self.adaptive = adaptive
        self.statistics = statistics ?? SinkStatistics(name: sinkName)
    }

    /// - Parameters:
    ///   - indices: the records to deliver (indexes into the batch).
    ///   - send: sends one chunk to one endpoint.
    ///   - judge: reads the response for that chunk.
    /// - Returns: the records rejected for good and the chunks awaiting acknowledgement.
    public func deliver(
        _ indices: [Int],
        send: @Sendable ([Int], EndpointPool.Endpoint) async throws(HTTPTransportError) -> HTTPResponse,
        judge: @Sendable ([Int], HTTPResponse) -> HTTPChunkVerdict
    ) async throws(SinkError) -> HTTPBatchOutcome {
        // Chunks still to send, each with the protocol-error resends it has left.
        var queue: Deque<(indices: [Int], protocolRetries: Int)> = indices.isEmpty ? [] : [(indices, protocolErrorRetries)]
        var outcome = HTTPBatchOutcome()
        var backoff = initialBackoff
        while !queue.isEmpty {
            let (chunk, protocolRetries) = queue.removeFirst()
            let endpoint = pool.next()
            let response: HTTPResponse
            let started = ContinuousClock.now
            statistics.inFlight.add(1)
            do {
                defer { statistics.inFlight.add(-1) }
                response = try await send(chunk, endpoint)
            } catch {
                // Cancelled (a stop, a test giving up): the endpoint did nothing wrong, so it is
                // neither blamed nor logged as failing.
                if Task.isCancelled { throw SinkError(sink: sinkName, message: "delivery cancelled during shutdown") }
                adaptive?.record(.overloaded)
                retrying(chunk.count)
                let report = pool.reportFailure(endpoint, fault: error.fault)
                Self.logFailure(error.fault, report: report, logger: logger)
                queue.prepend((chunk, protocolRetries))
                try await pause(&backoff, atLeast: nil)
                continue
            }
            statistics.observeRequest(endpoint: endpoint.url, duration: ContinuousClock.now - started)
            Self.logRecovery(pool.clearFault(endpoint), logger: logger)
            let verdict = judge(chunk, response)
            if let adaptive {
                let pushedBack = response.status == 429 || response.status == 503 || response.status == 504
                adaptive.record(pushedBack ? .overloaded : .success(ContinuousClock.now - started))
            }
            switch verdict {
            case .partial(let retry, let refused):
                pool.reportSuccess(endpoint)
                outcome.rejected += refused
                if retry.isEmpty {
                    backoff = initialBackoff
                } else {
                    logger.info("some records were not accepted yet; retrying them", metadata: [LogKey.records: "\(retry.count)"])
                    statistics.retried.add(retry.count)
                    queue.prepend((retry, protocolRetries))
                    try await pause(&backoff, atLeast: nil)
                }
            case .accepted(let ackID):
                pool.reportSuccess(endpoint)
                backoff = initialBackoff
                outcome.pending.append(.init(indices: chunk, endpoint: endpoint, ackID: ackID))
            case .retryAll(let after, let endpointFailed):
                if endpointFailed { pool.reportFailure(endpoint) } else { pool.reportSuccess(endpoint) }
                retrying(chunk.count)
                if (300..<400).contains(response.status) {
                    logger.error(
                        "endpoint answered with a redirect, which is not followed (it would send log bodies and credentials to another origin); set the sink's endpoints to the final address",
                        metadata: ["endpoint": "\(EndpointPool.displayOrigin(endpoint.url))", "http.status": "\(response.status)",
                                   "location": "\(response.header("Location").map(EndpointPool.displayOrigin) ?? "-")"])
                } else {
                    logger.warning(
                    "destination asked to retry",
                    metadata: ["endpoint": "\(endpoint.url)", "http.status": "\(response.status)", "retry_after": "\(after.map { "\($0)" } ?? "-")"])
                }
                queue.prepend((chunk, protocolRetries))
                try await pause(&backoff, atLeast: after)
            case .split:
                pool.reportSuccess(endpoint)
                if chunk.count > 1 {
                    let half = chunk.count / 2
                    queue.prepend(contentsOf: [(Array(chunk[..<half]), protocolRetries), (Array(chunk[half...]), protocolRetries)])
                } else {
                    outcome.rejected.append(.init(index: chunk[0], status: response.status, reason: "record too large for the destination (HTTP 413)"))
                }
            case .rejectAll(let status, let reason):
                pool.reportSuccess(endpoint)
                if chunk.count > 1 {
                    let half = chunk.count / 2
                    queue.prepend(contentsOf: [(Array(chunk[..<half]), protocolRetries), (Array(chunk[half...]), protocolRetries)])
                } else {
                    outcome.rejected.append(.init(index: chunk[0], status: status, reason: reason))
                }
            case .protocolError(let status, let reason):
                pool.reportFailure(endpoint)
                statistics.failures.add(1)
                logger.error(
                    "destination answered outside the protocol",
                    metadata: ["endpoint": "\(endpoint.url)", "http.status": "\(response.status)", LogKey.error: "\(reason)",
                               LogKey.records: "\(chunk.count)"])
                if protocolRetries > 0 {
                    statistics.retried.add(chunk.count)
                    queue.prepend((chunk, protocolRetries - 1))
                    try await pause(&backoff, atLeast: nil)
                } else if chunk.count > 1 {
                    // Halves get one attempt each: a faulty answer costs at most twice the records.
                    let half = chunk.count / 2
                    statistics.retried.add(chunk.count)
                    queue.prepend(contentsOf: [(Array(chunk[..<half]), 0), (Array(chunk[half...]), 0)])
                } else {
                    outcome.rejected.append(.init(index: chunk[0], status: status, reason: "protocol error: \(reason)"))
                }
            }
        }
        return outcome
    }

    /// Logs a request that got no answer: the fault once when its episode starts (one line naming
    /// the endpoint and the setting to check), the retries of the same fault only at debug level.
    public static func logFailure(_ fault: EndpointFault, report: (ejected: Bool, newEpisode: Bool), logger: Logger) {
        let metadata: Logger.Metadata = ["endpoint": "\(fault.origin)", "fault": "\(fault.kind.rawValue)"]
        if report.newEpisode {
            logger.error("sink endpoint failing: \(fault.message); records stay spooled and are retried", metadata: metadata)
        } else {
            logger.debug(
                "request failed again, same fault; retrying: \(fault.message)", metadata: metadata.merging(["ejected": "\(report.ejected)"]) { $1 })
        }
    }

    /// Logs the end of a fault episode: an endpoint that failed answers again.
    public static func logRecovery(_ ended: EndpointFault?, logger: Logger) {
        guard let ended else { return }
        logger.info(
            "sink endpoint answering again", metadata: ["endpoint": "\(ended.origin)", "fault": "\(ended.kind.rawValue)"])
    }

    /// A whole chunk failed and goes round again.
    private func retrying(_ records: Int) {
        statistics.failures.add(1)
        statistics.retried.add(records)
    }

    private func pause(_ backoff: inout Duration, atLeast floor: Duration?) async throws(SinkError) {
        let delay = max(backoff * Double.random(in: 0.5...1.0), floor ?? .zero)
        backoff = min(backoff * 2, maxBackoff)
        do {
            try await Handover.waitBetweenAttempts(delay)
        } catch is HandedOver {
            throw SinkError(sink: sinkName, message: "batch handed over to the reloaded configuration")
        } catch {
            throw SinkError(sink: sinkName, message: "delivery cancelled during shutdown")
        }
    }

    /// The status classes every protocol shares; protocols handle 2xx and their own codes first.
    public static func commonVerdict(_ response: HTTPResponse) -> HTTPChunkVerdict {
        switch response.status {
        case 413: return .split
        case 429: return .retryAll(after: RetryAfter.delay(response.header("Retry-After")), endpointFailed: false)
        case 408, 500..<600: return .retryAll(after: RetryAfter.delay(response.header("Retry-After")), endpointFailed: true)
        // Redirects are not followed (HTTPTransport): the batch is held and the endpoint counted
        // as failing until the operator points `endpoints` at the final address.
        case 300..<400: return .retryAll(after: .seconds(5), endpointFailed: true)
        // Credentials or routing are wrong: nothing is dropped, the sink waits for the operator
        // (the spool holds the backlog, Kafka pauses when it is full).
        case 401, 403, 404: return .retryAll(after: .seconds(5), endpointFailed: true)
        case 400..<500: return .rejectAll(status: response.status, reason: "HTTP \(response.status): \(response.bodyText)")
        default: return .retryAll(after: nil, endpointFailed: true)
        }
    }
}

extension HTTPChunkVerdict.Rejection {
    /// The dead letter for the rejected record: the sink, status, reason and the original bytes.
    public func deadLetter(in batch: RecordBatch, sink: String) -> DeadLetter {
        let record = batch.records[index]
        return DeadLetter(
            stage: sink, reason: reason, status: "\(status)", topic: batch.topics[record.topicIndex],
            partition: record.partition, offset: record.offset, timestampMs: batch.eventTimeMs(ofRecordAt: index),
            deadLetteredAtMs: Int64(Date().timeIntervalSince1970 * 1000), payload: Array(batch.bytes[record.value]))
    }
}
