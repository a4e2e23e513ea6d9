import Foundation
import LogBridgeCore
import LogBridgeKafka
import LogBridgePipeline
import LogBridgeSinks
import LogBridgeSpool
import Logging
import ServiceLifecycle

/// A wired gateway: Kafka source -> spool -> sinks, as one `ServiceGroup`.
public struct Gateway: Sendable {
    public let serviceGroup: ServiceGroup
    public let statistics: GatewayStatistics
    public let spool: Spool
    public let source: KafkaSource
    /// Counters and metrics made by the pipelines (redactions, drops, `metrics` processors).
    public let pipelineMetrics: PipelineMetrics
}

/// Builds the gateway the `logbridge` executable runs; tests call the same function.
///
/// Services start in order (spool, sinks, source) and, on SIGTERM/SIGINT, stop in reverse: the
/// source first (final offsets committed, group left), then each sink drains the spool up to the
/// shutdown timeout, then the spool closes.
/// - Parameters:
///   - signals: handle SIGTERM/SIGINT (off in tests, which trigger shutdown themselves).
public func buildGateway(
    configuration: LogBridgeConfiguration, logger: Logger, statistics: GatewayStatistics = GatewayStatistics(),
    signals: Bool = true
) throws -> Gateway {
    let spool = try Spool(
        configuration: configuration.spool, sinks: configuration.sinks.map(\.name), statistics: statistics, logger: logger)
    let pipelineMetrics = PipelineMetrics()
    let sinkNames = configuration.sinks.map(\.name)
    let sinks: [SinkRunner] = try configuration.sinks.enumerated().map { index, sink in
        let implementation: any Sink
        switch sink.kind {
        case .file(let file): implementation = FileSink(name: sink.name, configuration: file, logger: logger)
        case .console(let encoding): implementation = ConsoleSink(name: sink.name, encoding: encoding)
        case .elasticsearch(let es): implementation = try ElasticsearchSink(name: sink.name, configuration: es, logger: logger)
        case .loki(let loki): implementation = try LokiSink(name: sink.name, configuration: loki, logger: logger)
        case .splunkHEC(let hec):
            implementation = try SplunkHECSink(
                name: sink.name, configuration: hec, notebook: SinkNotebook(spool: spool, sink: sink.name), logger: logger)
        }
        // Each runner runs its own copy of the shared pipeline; the first sink counts the shared
        // metrics and redactions, so an event is counted once however many sinks it goes to.
        let pipeline = try SinkPipeline(
            shared: configuration.pipeline, own: sink.pipeline, sinkName: sink.name, sinkIndex: index, sinkNames: sinkNames,
            metrics: pipelineMetrics, countsShared: index == 0)
        return SinkRunner(
            sink: implementation, spool: spool, configuration: sink.runner, statistics: statistics, logger: logger, pipeline: pipeline)
    }
    let source = try KafkaSource(configuration: configuration.source, target: spool, statistics: statistics, logger: logger)

    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
        .init(service: SpoolService(spool: spool))
    ]
    services += sinks.map { .init(service: $0) }
    services.append(.init(service: KafkaSourceService(source: source, logger: logger)))
    var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
    if signals { groupConfiguration.gracefulShutdownSignals = [.sigterm, .sigint] }
    // A second signal, or the deadline, ends the process even if a sink is stuck.
    groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout + .seconds(30)
    return Gateway(
        serviceGroup: ServiceGroup(configuration: groupConfiguration), statistics: statistics, spool: spool, source: source,
        pipelineMetrics: pipelineMetrics)
}

/// Keeps the spool open while the gateway runs and closes it last.
struct SpoolService: Service {
    let spool: Spool

    func run() async throws {
        try? await gracefulShutdown()
        spool.close()
    }
}

/// Runs the Kafka source's poll thread for the lifetime of the gateway.
struct KafkaSourceService: Service {
    let source: KafkaSource
    let logger: Logger

    func run() async throws {
        try source.start()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await gracefulShutdown() }
            group.addTask {
                // librdkafka reports fatal errors asynchronously; surface them as a failed service.
                while !Task.isCancelled, source.fatalError == nil {
                    try? await Task.sleep(for: .milliseconds(250))
                }
            }
            await group.next()
            group.cancelAll()
        }
        // stop() blocks while the final offsets are committed: keep it off the cooperative pool.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            startNamedThread("lb-kafka-stop") {
                source.stop()
                continuation.resume()
            }
        }
        if let fatal = source.fatalError { throw fatal }
    }
}
