import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgePipeline
import LogBridgeSinks
import LogBridgeSpool
import Logging

/// Runs an in-process gateway against a mock cluster with one file sink, for integration tests.
public final class GatewayHarness: Sendable {
    public let directory: TemporaryDirectory
    public let configuration: LogBridgeConfiguration
    public var outputPath: String { directory.file("events.ndjson") }

    public init(
        bootstrap: String, topic: String = "logs", topics: [String]? = nil, group: String = "logbridge-test",
        directory: TemporaryDirectory = TemporaryDirectory(), properties: [String: String] = [:],
        spoolMaxBytes: Int = 256 << 20, spoolCompression: SpoolCompression = .lz4, sinks: [SinkConfiguration]? = nil, pipeline: PipelineConfiguration = PipelineConfiguration(),
        admin: AdminConfiguration = AdminConfiguration(listen: "127.0.0.1:0"), keepsHeaders: Bool = true
    ) {
        self.directory = directory
        // Fast group reactions so tests do not wait for production timeouts.
        let properties = properties.merging(["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]) { given, _ in given }
        configuration = LogBridgeConfiguration(
            source: KafkaSourceConfiguration(
                brokers: [bootstrap], topics: topics ?? [topic], groupID: group, properties: properties, keepsHeaders: keepsHeaders),
            spool: SpoolConfiguration(path: directory.file("spool"), maxBytes: spoolMaxBytes, compression: spoolCompression),
            pipeline: pipeline,
            sinks: sinks ?? [
                SinkConfiguration(
                    name: "archive", kind: FileSinkConfiguration(path: directory.file("events.ndjson")),
                    runner: SinkRunnerConfiguration(batchSize: 5_000, maxBatchBytes: 2 << 20))
            ],
            // The default is an ephemeral admin port: tests run gateways side by side.
            admin: admin,
            shutdownTimeout: .seconds(10))
    }

    /// A running gateway.
    public final class Running: Sendable {
        public let gateway: Gateway
        let task: Task<Void, any Error>

        init(gateway: Gateway) {
            self.gateway = gateway
            task = Task { try await gateway.serviceGroup.run() }
        }

        public var statistics: GatewayStatistics { gateway.statistics }
        public var delivered: Int { gateway.statistics.sink("archive").delivered.value }
        public func delivered(_ sink: String) -> Int { gateway.statistics.sink(sink).delivered.value }

        /// Waits until `condition` holds or `timeout` passes; returns whether it held.
        @discardableResult
        public func wait(timeout: Duration = .seconds(60), until condition: @Sendable () -> Bool) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if condition() { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return condition()
        }

        /// Graceful shutdown, as on SIGTERM; waits for the service group to finish.
        public func stop() async throws {
            await gateway.serviceGroup.triggerGracefulShutdown()
            try await task.value
        }
    }

    public func start(logger: Logger = Logger(label: "test")) throws -> Running {
        Running(gateway: try buildGateway(configuration: configuration, logger: logger, signals: false))
    }
}
