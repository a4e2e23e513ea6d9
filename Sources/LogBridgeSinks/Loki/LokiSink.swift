import LogBridgeCore

import Logging

/// Delivers batches with Loki's push API.
///
/// Entries are fixed by the record (labels, nanosecond timestamp, line), so retries and replays
/// are de-duplicated by Loki. 429 and 5xx retry the same entries. A 400 is final: Loki stored the
/// valid entries before answering, so the request is halved until each refused entry is alone
/// (the valid ones sent again are identical and de-duplicated) and the refused ones go to the
/// dead-letter store with Loki's message.
public final class LokiSink: Sink, Sendable {
    public let name: String
    private let configuration: LokiSinkConfiguration
    private let transport: HTTPTransport
    private let driver: HTTPBatchDriver
    private let builder: LokiRequestBuilder

    public init(name: String, configuration: LokiSinkConfiguration, statistics: SinkStatistics? = nil, logger: Logger) throws {
        self.name = name
        self.configuration = configuration
        let parts = try HTTPSinkParts(settings: configuration.http, sinkName: name, statistics: statistics, logger: logger)
        let logger = parts.logger
        transport = parts.transport
        driver = parts.driver
        let limit = configuration.maxStreams
        builder = LokiRequestBuilder(configuration: configuration, streams: StreamLimit(limit: limit) { [logger] in
            logger.warning(
                "label sets reached max_streams; new ones are sent with 'overflow' as their templated values",
                metadata: ["max_streams": "\(limit)"])
        })
    }

    public var sendPermits: AsyncPermits? { driver.adaptive?.permits }
    public var endpointHealth: [(endpoint: String, healthy: Bool)] { driver.pool.health() }
    public var endpointFaults: [(endpoint: String, fault: EndpointFault)] { driver.pool.faults() }
    /// The encoder notes the event time fields in its label scan (`EncoderEventTime`).
    public var resolvesEventTime: Bool { true }

    public func open(restoring checkpoint: SinkCheckpoint) async throws(SinkError) {}

    public func deliver(_ batch: RecordBatch) async throws(SinkError) -> SinkDelivery {
        let transport = self.transport
        let builder = self.builder
        let path = configuration.path
        let headers = configuration.tenantID.map { [("X-Scope-OrgID", $0)] } ?? []
        let tally = RepairTally(counter: driver.statistics.utf8Repaired)
        let outcome = try await driver.deliver(
            Array(batch.records.indices),
            send: { (chunk, endpoint) throws(HTTPTransportError) -> HTTPResponse in
                try await transport.post(
                    endpoint, path: path, contentType: "application/json", body: tally.bytes(of: builder.body(for: chunk, of: batch)), headers: headers)
            },
            judge: { _, response in LokiResponse.verdict(response) })
        return SinkDelivery(deadLetters: outcome.rejected.map { $0.deadLetter(in: batch, sink: name) })
    }

    public func close() async {
        await transport.shutdown()
    }
}
