import ArgumentParser
import Foundation
import LogBridge
import LogBridgeMetrics
import LogBridgePipeline

/// `logbridge pipeline`: try processing rules without running the gateway.
struct PipelineCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Try the configured pipeline on sample events.",
        subcommands: [Test.self])

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read newline-delimited JSON events on stdin; write the processed events on stdout (no Kafka, no spool).",
            discussion: """
                One output line per surviving input line, in order: lines dropped by filter/drop (or routed \
                away from --sink) are left out, CRI fragments come out joined. Problems with a line go to \
                stderr as 'line N: ...'. Exit status 0 unless the configuration is invalid.

                Only the pipeline sections must load: a ${file:} or ${env:} secret of the source, spool, \
                sinks or admin endpoint that cannot be read here (a workstation has no /run/secrets) is \
                noted on stderr and left out. A redact processor's hash_key that cannot be read becomes a \
                placeholder key, announced on stderr; --hash-key-file gives the real one.
                """)

        @Option(name: .long, help: "Path to the configuration file.") var config: String
        @Option(name: .long, help: "Also apply this sink's own pipeline and its routes.") var sink: String?
        @Flag(name: .long, help: "Print the pipeline's metrics (Prometheus text) on stderr at the end.") var metrics = false
        @Option(
            name: .long,
            help: ArgumentHelp("The topic (event hub) the lines come from, as %kafka.topic reads it. Default: the first configured topic.", valueName: "name"))
        var topic: String?
        @Option(
            name: .long,
            help: ArgumentHelp("Read every redact processor's hash_key from this file instead of the configuration.", valueName: "path"))
        var hashKeyFile: String?

        func run() throws {
            let loaded: LoadedConfiguration
            do {
                loaded = try LogBridgeConfiguration.load(path: config, dryRun: DryRunLoading(hashKeyFile: hashKeyFile))
            } catch {
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(1)
            }
            for note in loaded.dryRunNotes.sorted(by: { ($0.line ?? 0) < ($1.line ?? 0) }) {
                FileHandle.standardError.write(Data("pipeline test: \(note)\n".utf8))
            }
            let configuration = loaded.configuration
            let sinkNames = configuration.sinks.map(\.name)
            var own = PipelineConfiguration()
            var index: Int?
            if let sink {
                guard let found = sinkNames.firstIndex(of: sink) else {
                    FileHandle.standardError.write(Data("no sink named '\(sink)' (sinks: \(sinkNames.joined(separator: ", ")))\n".utf8))
                    throw ExitCode(1)
                }
                index = found
                own = configuration.sinks[found].pipeline
            }
            let exported = PrometheusMetricsRegistry()
            let registry = PipelineMetrics(registry: exported)
            let pipeline: SinkPipeline
            do {
                pipeline = try SinkPipeline(
                    shared: configuration.pipeline, own: own, sinkName: sink ?? "dry-run", sinkIndex: index, sinkNames: sinkNames,
                    metrics: registry, countsShared: true, eventTime: configuration.eventTime)
            } catch {
                FileHandle.standardError.write(Data("\(error.message)\n".utf8))
                throw ExitCode(1)
            }
            let dryRun = PipelineDryRun(pipeline: pipeline, topic: topic ?? configuration.source.topics.first ?? "stdin")
            var out: [UInt8] = []
            out.reserveCapacity(1 << 16)
            let emit: (PipelineDryRun.Result) -> Void = { result in
                switch result {
                case .event(let bytes):
                    out += bytes
                    out.append(0x0A)
                    if out.count >= 1 << 16 {
                        FileHandle.standardOutput.write(Data(out))
                        out.removeAll(keepingCapacity: true)
                    }
                case .note(let line, let message):
                    FileHandle.standardOutput.write(Data(out))
                    out.removeAll(keepingCapacity: true)
                    FileHandle.standardError.write(Data("line \(line): \(message)\n".utf8))
                }
            }
            // Raw bytes, not readLine(): invalid UTF-8 must reach the pipeline as it is.
            var number = 0
            var line: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            func handle() {
                number += 1
                if line.last == 0x0D { line.removeLast() }
                dryRun.add(line, line: number, emit)
                line.removeAll(keepingCapacity: true)
            }
            while true {
                let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                var start = 0
                for i in 0..<count where buffer[i] == 0x0A {
                    line.append(contentsOf: buffer[start..<i])
                    handle()
                    start = i + 1
                }
                line.append(contentsOf: buffer[start..<count])
            }
            if !line.isEmpty { handle() }
            dryRun.finish(emit)
            FileHandle.standardOutput.write(Data(out))
            if metrics { FileHandle.standardError.write(Data(exported.exposition())) }
        }
    }
}
