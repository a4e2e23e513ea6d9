import Foundation
import LogBridgeCore
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgePipeline
import LogBridgeSinks
import LogBridgeSpool
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization

/// A wired gateway: Kafka source -> spool -> sinks, with the admin endpoint, as one `ServiceGroup`.
///
/// The sinks and the source run under supervisors so that a configuration reload (SIGHUP or
/// ``reload(_:)``) can replace them while the spool stays open.
public final class Gateway: Sendable {
    public let serviceGroup: ServiceGroup
    public let statistics: GatewayStatistics
    public let spool: Spool
    /// Counters and metrics made by the pipelines (redactions, drops, `metrics` processors).
    public let pipelineMetrics: PipelineMetrics
    /// The metrics and health endpoint; nil with `admin.listen: off`.
    public let admin: AdminServer?
    let sinks: SinkSupervisor
    let sourceSupervisor: SourceSupervisor
    /// When a graceful stop must be over (set as it begins).
    let stopDeadline: StopDeadline
    private let running: Mutex<LogBridgeConfiguration>
    private let logger: Logger

    init(
        serviceGroup: ServiceGroup, statistics: GatewayStatistics, spool: Spool, pipelineMetrics: PipelineMetrics,
        admin: AdminServer?, sinks: SinkSupervisor, source: SourceSupervisor, stopDeadline: StopDeadline,
        configuration: LogBridgeConfiguration, logger: Logger
    ) {
        self.stopDeadline = stopDeadline
        self.serviceGroup = serviceGroup
        self.statistics = statistics
        self.spool = spool
        self.pipelineMetrics = pipelineMetrics
        self.admin = admin
        self.sinks = sinks
        self.sourceSupervisor = source
        self.running = Mutex(configuration)
        self.logger = logger
    }

    /// The Kafka source running now (a reload that changes `source:` replaces it).
    public var source: KafkaSource { sourceSupervisor.current }

    /// The configuration running now.
    public var configuration: LogBridgeConfiguration { running.withLock { $0 } }

    /// Applies a new configuration without a restart: sink tuning, endpoints and pipelines take
    /// effect once each sink's batches in flight are committed (the new sinks continue from the
    /// committed cursors, so nothing is lost or sent twice); a changed `source:` leaves the group
    /// (committing its offsets) and joins again; `log.level` applies at once.
    ///
    /// - Throws: ``ReloadError`` when the new configuration cannot be built or changes what needs
    ///   a restart (`spool`, the set of sinks, `admin`, `log.format`); the running configuration
    ///   is then kept unchanged. A new `admin.token` or admin limit applies without a restart.
    public func reload(_ new: LogBridgeConfiguration) async throws(ReloadError) {
        let old = configuration
        let needsRestart = ReloadError.restartOnlyChanges(from: old, to: new)
        guard needsRestart.isEmpty else {
            statistics.configReloadFailures.add(1)
            throw ReloadError(problems: needsRestart)
        }
        // Build everything first: a bad endpoint, TLS file or pipeline rejects the reload before
        // anything running is touched.
        let runners: [SinkRunner]
        do {
            runners = try makeSinkRunners(
                configuration: new, spool: spool, statistics: statistics, pipelineMetrics: pipelineMetrics, stopDeadline: stopDeadline,
                logger: logger)
        } catch {
            statistics.configReloadFailures.add(1)
            throw ReloadError(problems: ["\(error)"])
        }
        var newSource: KafkaSource?
        if new.source != old.source {
            do {
                newSource = try KafkaSource(configuration: new.source, target: spool, statistics: statistics.source, logger: logger)
            } catch {
                statistics.configReloadFailures.add(1)
                throw ReloadError(problems: ["source: \(error)"])
            }
        }
        LogLevelControl.set(new.log.level)
        spool.setBacklogLimits(Dictionary(new.sinks.map { ($0.name, $0.backlog) }, uniquingKeysWith: { a, _ in a }))
        admin?.apply(new.admin)
        await sinks.replace(with: runners)
        if let newSource { await sourceSupervisor.replace(with: newSource) }
        running.withLock { $0 = new }
        if new.source.keepsHeaders, !old.source.keepsHeaders {
            // Headers were not read until now (nothing named one): what is already spooled has
            // none, so a template or condition naming a header finds it missing there.
            logger.warning(
                "Kafka headers are read from now on (the configuration names %kafka.headers.NAME); records spooled before have none, and what reads a header finds it missing in them",
                metadata: ["spool.records": "\(spool.usage.records)"])
        }
        statistics.configReloads.add(1)
        statistics.configLastLoaded.set(Int(Date().timeIntervalSince1970))
        logger.notice(
            "configuration reloaded",
            metadata: ["sinks": "\(new.sinks.count)", "source_restarted": "\(newSource != nil)", "log_level": "\(new.log.level)"])
    }
}

extension Gateway: AdminContent {
    /// The gateway's one registry, pipelines' metrics included (collectors run first).
    func metricsExposition() -> [UInt8] {
        statistics.exposition()
    }
}

extension Gateway {
    /// Routes swift-metrics (libraries instrumented with it) into this gateway's registry, so
    /// their metrics appear on `/metrics` too. Once per process: the executable calls it.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: statistics.registry))
    }
}

/// Builds the gateway the `logbridge` executable runs; tests call the same function.
///
/// Services start in order (spool, admin, sinks, source) and, on SIGTERM/SIGINT, stop in reverse:
/// the source first (final offsets committed, group left), then each sink drains the spool up to
/// the shutdown timeout (`/readyz` answers 503 meanwhile), then the admin endpoint, then the spool.
/// - Parameters:
///   - signals: handle SIGTERM/SIGINT (off in tests, which trigger shutdown themselves).
///   - configurationPath: with `signals`, SIGHUP reloads the configuration from this file.
public func buildGateway(
    configuration: LogBridgeConfiguration, logger: Logger, statistics: GatewayStatistics = GatewayStatistics(),
    signals: Bool = true, configurationPath: String? = nil, version: String = "dev"
) throws -> Gateway {
    let spool = try Spool(
        configuration: configuration.spool, sinks: configuration.sinks.map(\.name), statistics: statistics.spool, logger: logger)
    spool.setBacklogLimits(Dictionary(configuration.sinks.map { ($0.name, $0.backlog) }, uniquingKeysWith: { a, _ in a }))
    let pipelineMetrics = PipelineMetrics(registry: statistics.metrics)
    let stopDeadline = StopDeadline()
    let runners = try makeSinkRunners(
        configuration: configuration, spool: spool, statistics: statistics, pipelineMetrics: pipelineMetrics,
        stopDeadline: stopDeadline, logger: logger)
    let source = try KafkaSource(configuration: configuration.source, target: spool, statistics: statistics.source, logger: logger)
    let sinks = SinkSupervisor(runners: runners, logger: logger)
    let sourceSupervisor = SourceSupervisor(
        source: source, stopDeadline: stopDeadline, shutdownTimeout: configuration.shutdownTimeout, logger: logger)
    ProcessMetrics.register(on: statistics, version: version)
    statistics.configLastLoaded.set(Int(Date().timeIntervalSince1970))

    var admin: AdminServer?
    if let address = configuration.admin.address {
        admin = AdminServer(
            host: address.host, port: address.port, configuration: configuration.admin, registry: statistics.registry, logger: logger)
    }
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: SpoolService(spool: spool))]
    if let admin { services.append(.init(service: admin)) }
    services.append(.init(service: sinks))
    services.append(.init(service: sourceSupervisor))
    var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
    if signals { groupConfiguration.gracefulShutdownSignals = [.sigterm, .sigint] }
    // A second signal, or the deadline, ends the process even if a sink is stuck.
    groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout + .seconds(30)
    let gateway = Gateway(
        serviceGroup: ServiceGroup(configuration: groupConfiguration), statistics: statistics, spool: spool,
        pipelineMetrics: pipelineMetrics, admin: admin, sinks: sinks, source: sourceSupervisor, stopDeadline: stopDeadline,
        configuration: configuration, logger: logger)
    admin?.attach(gateway)
    if signals {
        SignalEscalation.watch(stopBound: groupConfiguration.maximumGracefulShutdownDuration! + .seconds(15), logger: logger)
    }
    if signals, let configurationPath {
        ConfigurationReloader.watch(gateway: gateway, path: configurationPath, logger: logger)
    }
    return gateway
}

/// One runner per configured sink, each with its own copy of the shared pipeline; the first sink
/// counts the shared metrics and redactions, so an event is counted once however many sinks it
/// goes to.
func makeSinkRunners(
    configuration: LogBridgeConfiguration, spool: Spool, statistics: GatewayStatistics, pipelineMetrics: PipelineMetrics,
    stopDeadline: StopDeadline, logger: Logger
) throws -> [SinkRunner] {
    let sinkNames = configuration.sinks.map(\.name)
    let runners = try configuration.sinks.enumerated().map { index, sink in
        let implementation = try sink.kind.makeSink(
            SinkKindContext(name: sink.name, spool: spool, statistics: statistics.sink(sink.name), logger: logger))
        let pipeline = try SinkPipeline(
            shared: configuration.pipeline, own: sink.pipeline, sinkName: sink.name, sinkIndex: index, sinkNames: sinkNames,
            metrics: pipelineMetrics, countsShared: index == 0, eventTime: configuration.eventTime,
            sinkResolvesEventTime: implementation.resolvesEventTime)
        return SinkRunner(
            sink: implementation, spool: spool, configuration: sink.runner, statistics: statistics.sinks, logger: logger, pipeline: pipeline,
            stopDeadline: stopDeadline)
    }
    return runners
}

/// Keeps the spool open while the gateway runs and closes it last.
struct SpoolService: Service {
    let spool: Spool

    func run() async throws {
        try? await gracefulShutdown()
        spool.close()
    }
}
