import LogBridgeCore
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgePipeline
import LogBridgeSinks
import LogBridgeSpool
import Logging

/// The whole gateway configuration: one YAML file (see `conf/logbridge.yaml`).
public struct LogBridgeConfiguration: Sendable {
    public var source: KafkaSourceConfiguration
    public var spool: SpoolConfiguration
    /// `pipeline:`, applied to every event before each sink's own pipeline.
    public var pipeline: PipelineConfiguration
    /// In the order they appear in the file.
    public var sinks: [SinkConfiguration]
    public var admin: AdminConfiguration
    public var log: LogConfiguration
    /// On SIGTERM/SIGINT, how long sinks may keep draining the spool before the process exits.
    /// Default: 30 s.
    public var shutdownTimeout: Duration
    /// `source.event_time_fields`: the record fields that give each event its time, in order,
    /// before the Kafka timestamp.
    public var eventTime: EventTimeFields

    public init(
        source: KafkaSourceConfiguration, spool: SpoolConfiguration, pipeline: PipelineConfiguration = PipelineConfiguration(),
        sinks: [SinkConfiguration],
        admin: AdminConfiguration = .init(), log: LogConfiguration = .init(), shutdownTimeout: Duration = .seconds(30),
        eventTime: EventTimeFields = .default
    ) {
        self.eventTime = eventTime
        self.source = source
        self.spool = spool
        self.pipeline = pipeline
        self.sinks = sinks
        self.admin = admin
        self.log = log
        self.shutdownTimeout = shutdownTimeout
    }
}

/// One entry of `sinks:`.
public struct SinkConfiguration: Sendable {
    /// The key under `sinks:`; names the sink's spool cursor, logs and metrics.
    public var name: String
    /// `type:` and the keys of that kind (``SinkKind``).
    public var kind: any SinkKind
    public var runner: SinkRunnerConfiguration
    /// `sinks.NAME.pipeline:`, applied after the top-level pipeline, for this sink only.
    public var pipeline: PipelineConfiguration
    /// `sinks.NAME.backlog:`, how much of the spool this sink may hold back. Default: `block`.
    public var backlog: SinkBacklogLimit

    public init(
        name: String, kind: any SinkKind, runner: SinkRunnerConfiguration, pipeline: PipelineConfiguration = PipelineConfiguration(),
        backlog: SinkBacklogLimit = .block
    ) {
        self.backlog = backlog
        self.name = name
        self.kind = kind
        self.runner = runner
        self.pipeline = pipeline
    }
}

/// `log:`, the gateway's own logs (on standard error).
public struct LogConfiguration: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable { case text, json }
    /// Default: `info`.
    public var level: Logger.Level
    /// Default: `text`.
    public var format: Format
    public init(level: Logger.Level = .info, format: Format = .text) {
        self.level = level
        self.format = format
    }
}
