import Foundation
import LogBridgeCore

import Logging
import Synchronization

/// Delivers batches to Splunk's HTTP Event Collector.
///
/// Each request carries the endpoint's channel (`X-Splunk-Request-Channel`). With
/// acknowledgements on, a batch counts as delivered only once every request that carried it is
/// acknowledged; until then the runner waits without its bytes, and after `ack_timeout` the same
/// records are sent again. Code 6 dead-letters the event HEC named and resends only those after
/// it; 413 splits; 429/5xx/503 retry with backoff; content errors isolate the bad event.
public final class SplunkHECSink: Sink, Sendable {
    public let name: String
    private let configuration: SplunkHECSinkConfiguration
    private let transport: HTTPTransport
    private let driver: HTTPBatchDriver
    private let encoder: HECEventEncoder
    private let acks: HECAcknowledgements
    private let poller = Mutex<Task<Void, Never>?>(nil)

    public init(name: String, configuration: SplunkHECSinkConfiguration, notebook: SinkNotebook?, statistics: SinkStatistics? = nil, logger: Logger) throws {
        self.name = name
        self.configuration = configuration
        let parts = try HTTPSinkParts(settings: configuration.http, sinkName: name, statistics: statistics, logger: logger)
        let logger = parts.logger
        transport = parts.transport
        driver = parts.driver
        encoder = HECEventEncoder(configuration: configuration)
        acks = HECAcknowledgements(
            pollInterval: configuration.ackPollInterval, timeout: configuration.ackTimeout,
            restoredTimeout: configuration.restoredAckTimeout, transport: transport, pool: parts.pool,
            notebook: notebook, logger: logger)
    }

    public var sendPermits: AsyncPermits? { driver.adaptive?.permits }
    public var endpointHealth: [(endpoint: String, healthy: Bool)] { driver.pool.health() }
    public var endpointFaults: [(endpoint: String, fault: EndpointFault)] { driver.pool.faults() }
    /// The encoder notes the event time fields in its validating pass (`EncoderEventTime`).
    public var resolvesEventTime: Bool { true }

    public func open(restoring checkpoint: SinkCheckpoint) async throws(SinkError) {
        acks.committed(through: checkpoint.nextSequence)
        await acks.saveChannels()
        let acks = self.acks
        // The poll loop also checks endpoint health, which matters without acknowledgements too.
        poller.withLock { $0 = Task { await acks.run() } }
    }

    public func deliver(_ batch: RecordBatch) async throws(SinkError) -> SinkDelivery {
        let (covered, restoredWaits) = configuration.acknowledgements ? acks.coverage(of: batch) : ([], [])
        let indices = batch.records.indices.filter { covered.isEmpty || !covered[$0] }
        let transport = self.transport
        let encoder = self.encoder
        let acks = self.acks
        let path = configuration.path
        let acknowledgements = configuration.acknowledgements
        let tally = RepairTally(counter: driver.statistics.utf8Repaired)
        let outcome = try await driver.deliver(
            indices,
            send: { (chunk, endpoint) throws(HTTPTransportError) -> HTTPResponse in
                try await transport.post(
                    endpoint, path: path, contentType: "application/json", body: tally.bytes(of: encoder.body(for: chunk, of: batch)),
                    headers: [("X-Splunk-Request-Channel", acks.channel(for: endpoint))])
            },
            judge: { chunk, response in HECResponse.verdict(response, chunk: chunk, acknowledgements: acknowledgements) })
        let keys = outcome.pending.map { pending in
            acks.register(
                endpoint: pending.endpoint, ackID: pending.ackID, first: batch.records[pending.indices.first!].sequence,
                last: batch.records[pending.indices.last!].sequence)
        } + restoredWaits
        let deadLetters = outcome.rejected.map { $0.deadLetter(in: batch, sink: name) }
        guard !keys.isEmpty else { return SinkDelivery(deadLetters: deadLetters) }
        return SinkDelivery(deadLetters: deadLetters, confirmation: SinkConfirmation {
            for key in keys where !(await acks.wait(key)) { return false }
            return true
        })
    }

    public func committed(through nextSequence: UInt64) async {
        acks.committed(through: nextSequence)
    }

    public func close() async {
        let task = poller.withLock { task in defer { task = nil }; return task }
        task?.cancel()
        await task?.value
        await transport.shutdown()
    }
}
