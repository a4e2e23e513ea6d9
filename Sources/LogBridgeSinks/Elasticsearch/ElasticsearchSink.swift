import Foundation
import LogBridgeCore

import Logging

/// Delivers batches with the Elasticsearch bulk API.
///
/// Each record becomes a `create` with `_id` = `topic-partition-offset`, so replays after a crash
/// and retries are idempotent (409 counts as delivered, within one index: data-stream rollovers
/// are not covered). Items failing with 429 or 5xx are sent again alone; other item errors are
/// dead-lettered with ES's error type and reason; 413 splits the batch.
public final class ElasticsearchSink: Sink, Sendable {
    public let name: String
    private let configuration: ElasticsearchSinkConfiguration
    private let transport: HTTPTransport
    private let driver: HTTPBatchDriver
    private let builder: ElasticsearchRequestBuilder
    private let path: String

    public init(name: String, configuration: ElasticsearchSinkConfiguration, statistics: SinkStatistics? = nil, logger: Logger) throws {
        self.name = name
        self.configuration = configuration
        let parts = try HTTPSinkParts(settings: configuration.http, sinkName: name, statistics: statistics, logger: logger)
        transport = parts.transport
        driver = parts.driver
        builder = ElasticsearchRequestBuilder(index: configuration.index)
        var query = ElasticsearchResponse.filterPath
        if let pipeline = configuration.pipeline { query += "&pipeline=\(pipeline)" }
        path = "/_bulk?\(query)"
    }

    public var sendPermits: AsyncPermits? { driver.adaptive?.permits }
    public var endpointHealth: [(endpoint: String, healthy: Bool)] { driver.pool.health() }
    public var endpointFaults: [(endpoint: String, fault: EndpointFault)] { driver.pool.faults() }
    /// The encoder notes the event time fields in its validating pass (`EncoderEventTime`).
    public var resolvesEventTime: Bool { true }

    public func open(restoring checkpoint: SinkCheckpoint) async throws(SinkError) {}

    public func deliver(_ batch: RecordBatch) async throws(SinkError) -> SinkDelivery {
        let transport = self.transport
        let builder = self.builder
        let path = self.path
        let tally = RepairTally(counter: driver.statistics.utf8Repaired)
        let outcome = try await driver.deliver(
            Array(batch.records.indices),
            send: { (chunk, endpoint) throws(HTTPTransportError) -> HTTPResponse in
                try await transport.post(endpoint, path: path, contentType: "application/x-ndjson", body: tally.bytes(of: builder.body(for: chunk, of: batch)))
            },
            judge: { chunk, response in ElasticsearchResponse.verdict(response, chunk: chunk) })
        return SinkDelivery(deadLetters: outcome.rejected.map { $0.deadLetter(in: batch, sink: name) })
    }

    public func close() async {
        await transport.shutdown()
    }
}
