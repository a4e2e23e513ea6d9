import ArgumentParser
import Foundation
import LogBridge
import LogBridgeDemo
import LogBridgeKafka
import LogBridgeCore
import LogBridgeMockCluster
import LogBridgeSpool
import Logging

/// `logbridge`: the Event Hubs/Kafka to on-prem log forwarder.
///
/// The subcommand names (`run`, `check`, `version`, `demo`) are a public contract: operators'
/// scripts call them.
@main
struct LogBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logbridge",
        abstract: "Forwards logs from Azure Event Hubs (Kafka) to on-prem log stores, durably.",
        version: LogBridgeVersion.string,
        subcommands: [
            Run.self, Check.self, Version.self, Demo.self, Status.self, SpoolCommands.self, DeadLetters.self, PipelineCommands.self,
            MockCluster.self,
        ])
}

enum LogBridgeVersion {
    static let string = "0.1.0"
}

/// Loads a configuration or prints its problems and exits 1.
func loadConfiguration(_ path: String) throws -> LoadedConfiguration {
    do {
        return try LogBridgeConfiguration.load(path: path)
    } catch {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        throw ExitCode(1)
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway in the foreground (logs to standard error).")

    @Option(name: .long, help: "Path to the configuration file.")
    var config: String

    @Option(name: .long, help: ArgumentHelp(
        "Stop gracefully once every sink has delivered this many records, and print a JSON timing summary (benchmarks, smoke tests).",
        valueName: "records"))
    var untilDelivered: Int?

    func run() async throws {
        disableCoreDumps()
        tuneAllocator()
        let loaded = try loadConfiguration(config)
        bootstrapLogging(loaded.configuration.log)
        let logger = Logger(label: "logbridge")
        logger.info("starting logbridge", metadata: ["version": "\(LogBridgeVersion.string)", "config": "\(config)"])
        for warning in loaded.warnings {
            logger.warning("configuration: \(warning)", metadata: ["config": "\(config)"])
        }
        do {
            let gateway = try buildGateway(
                configuration: loaded.configuration, logger: logger, configurationPath: config, version: LogBridgeVersion.string)
            gateway.bootstrapMetricsSystem()
            if let target = untilDelivered {
                let sinks = loaded.configuration.sinks.map(\.name)
                let timing = try await RunTiming.measure(gateway: gateway, sinks: sinks, target: target)
                print(timing.json)
            } else {
                try await gateway.serviceGroup.run()
            }
        } catch {
            logger.critical("logbridge stopped on an error", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        logger.info("logbridge stopped")
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a configuration file and print the effective configuration, secrets masked.")

    @Option(name: .long, help: "Path to the configuration file.")
    var config: String

    func run() throws {
        let loaded = try loadConfiguration(config)
        print("# \(config): valid")
        // Comment lines, so the output stays valid YAML.
        for warning in loaded.warnings { print("# warning: \(warning)") }
        print(loaded.effectiveYAML(), terminator: "")
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version of logbridge and its C libraries.")

    func run() {
        print("logbridge \(LogBridgeVersion.string) (librdkafka \(KafkaSource.librdkafkaVersion), LMDB \(Spool.lmdbVersion))")
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway on its embedded default: a mock Kafka cluster seeded with synthetic logs, into the spool and a file.")

    @Option(help: "Synthetic records to seed.")
    var records = 200_000

    @Option(help: "Partitions of the demo topic (default: enough for the mock cluster to keep every record).")
    var partitions: Int?

    @Option(help: "Directory for the spool and the output file (emptied first).")
    var directory = "demo-data"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "notice"

    func run() async throws {
        bootstrapLogging(LogConfiguration(level: Logger.Level(rawValue: logLevel) ?? .notice))
        let partitions = self.partitions ?? max(8, MockKafkaCluster.partitionsNeeded(records: records))
        let demo = LogBridgeDemo.Demo(records: records, partitions: partitions, directory: directory)
        print("logbridge demo: seeding \(records) Fluent Bit-style records (20% with PII) into an in-process mock Kafka cluster, \(partitions) partitions...")
        let summary = try await demo.run(logger: Logger(label: "logbridge"))
        let megabytes = Double(summary.outputBytes) / 1_048_576
        print("""

        logbridge demo summary
          seeded       \(summary.seeded) records in \(format(summary.seedSeconds)) s
          consumed     \(summary.consumed)
          spooled      \(summary.spooled)  (all spooled after \(format(summary.spoolSeconds)) s)
          delivered    \(summary.delivered)  -> \(summary.outputPath) (\(format(megabytes)) MiB)
          redacted     \(summary.redactions.map { "\($0.count) \($0.detector)" }.joined(separator: ", "))
          elapsed      \(format(summary.elapsedSeconds)) s (consumer group joined, first record after \(format(summary.firstRecordSeconds)) s)
          throughput   \(Int(Double(summary.delivered) / max(summary.elapsedSeconds - summary.firstRecordSeconds, 0.001))) records/s from first record to last delivered, fsync'd spool and file
        """)
        guard summary.delivered == summary.seeded, summary.spooled == summary.seeded else {
            print("demo FAILED: not every seeded record was delivered exactly once")
            throw ExitCode(1)
        }
    }

    private func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
