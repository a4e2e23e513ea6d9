import ArgumentParser
import Foundation
import LogBridgeFakes
import LogBridgeTestSupport
import UnixSignals

/// `logbridge-fakes`: the test suite's protocol fakes as a process of their own, so `make bench`
/// and `make chaos` can point the real binary at them over loopback.
///
/// Each subcommand prints `url=...`, serves until standard input closes, then prints one line of
/// counts followed by the request monitor's summary (`max_rps`, latency percentiles when
/// `--probe-latency` is on).
@main
struct FakesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logbridge-fakes",
        abstract: "Protocol-faithful fake sink servers for benchmarks and the chaos suite.",
        subcommands: [Elasticsearch.self, SplunkHEC.self, Loki.self])
}

/// Options every fake takes.
struct CommonOptions: ParsableArguments {
    @Flag(help: "Measure end-to-end latency from the `date` stamp of paced records (logbridge mock-cluster pace).")
    var probeLatency = false

    /// Prints the URL, serves until standard input closes, then prints `counts()` and the monitor.
    func serve(url: String, counts: @escaping @Sendable () -> String) async {
        RequestMonitor.shared.probeLatency = probeLatency
        print("url=\(url)")
        fflush(nil)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                while readLine() != nil {}
                continuation.resume()
            }.start()
        }
        print("\(counts()) \(RequestMonitor.shared.summary)")
        fflush(nil)
    }
}

struct Elasticsearch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a fake Elasticsearch _bulk endpoint on 127.0.0.1 until standard input closes; print its counts.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Milliseconds every bulk answer takes.") var latencyMs = 0
    @Option(help: "Answer every request with --outage-status for this many seconds from the start (a sink outage).")
    var outageSeconds = 0.0
    @Option(help: "Status answered during an outage or the down half of a flap (503, 429, ...).") var outageStatus = 503
    @Option(help: "Flap: this many cycles of --flap-down seconds answering --outage-status, then --flap-up seconds healthy.")
    var flapCycles = 0
    @Option(help: "Seconds of each flap cycle the endpoint is down.") var flapDown = 2.0
    @Option(help: "Seconds of each flap cycle the endpoint is up.") var flapUp = 2.0
    @Option(help: "Serve HTTPS with this certificate (PEM); SIGHUP reads it and --tls-key again and drops open connections.")
    var tlsCert: String?
    @Option(help: "The private key (PEM) of --tls-cert.") var tlsKey: String?

    func run() async throws {
        let tls = try CertificateOptions.tls(certificate: tlsCert, key: tlsKey)
        let es = try await FakeElasticsearch(latency: .milliseconds(latencyMs), keepDocuments: false, tls: tls)
        if let tls { CertificateOptions.reloadOnHangUp { try es.replaceCertificate(tls) } }
        let status = outageStatus
        if outageSeconds > 0 {
            es.setOutage(status)
            Task {
                try await Task.sleep(for: .seconds(outageSeconds))
                es.setOutage(nil)
            }
        }
        if flapCycles > 0 {
            Task { [flapCycles, flapDown, flapUp] in
                for _ in 0..<flapCycles {
                    es.setOutage(status)
                    try await Task.sleep(for: .seconds(flapDown))
                    es.setOutage(nil)
                    try await Task.sleep(for: .seconds(flapUp))
                }
            }
        }
        await common.serve(url: es.url) {
            "documents=\(es.documentCount) conflicts=\(es.conflicts) requests=\(es.requests) gzip_requests=\(es.gzipRequests)"
        }
        await es.shutdown()
    }
}

struct SplunkHEC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hec",
        abstract: "Serve a fake Splunk HTTP Event Collector (token hec-token, acknowledgements on) until standard input closes.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Milliseconds after indexing that an acknowledgement turns true.") var ackDelayMs = 50

    func run() async throws {
        var options = FakeSplunkHEC.Options()
        options.keepEvents = false
        options.ackDelay = .milliseconds(ackDelayMs)
        let hec = try await FakeSplunkHEC(options: options)
        await common.serve(url: hec.url) {
            "events=\(hec.eventCount) duplicates=\(hec.duplicates) requests=\(hec.eventRequests) ack_polls=\(hec.ackPolls)"
        }
        await hec.shutdown()
    }
}

struct Loki: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a fake Loki push endpoint (tenant team-a) until standard input closes.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Answer every push with --outage-status for this many seconds from the start (Loki down).")
    var outageSeconds = 0.0
    @Option(help: "Status answered during an outage (503, 429, ...).") var outageStatus = 503

    func run() async throws {
        let loki = try await FakeLoki()
        if outageSeconds > 0 {
            loki.setOutage(outageStatus)
            Task { [outageSeconds] in
                try await Task.sleep(for: .seconds(outageSeconds))
                loki.setOutage(nil)
            }
        }
        await common.serve(url: loki.url) {
            "entries=\(loki.entries.count) duplicates=\(loki.duplicatesSkipped) refused=\(loki.refusedEntries) requests=\(loki.pushes)"
        }
        await loki.shutdown()
    }
}

/// `--tls-cert`/`--tls-key`, and SIGHUP to read them again: the chaos suite replaces a serving
/// certificate mid-run the way an operator's server is re-keyed.
enum CertificateOptions {
    struct Incomplete: Error, CustomStringConvertible {
        var description: String { "--tls-cert and --tls-key go together" }
    }

    static func tls(certificate: String?, key: String?) throws -> FakeHTTPServer.TLS? {
        switch (certificate, key) {
        case (nil, nil): return nil
        case (let certificate?, let key?): return FakeHTTPServer.TLS(certificateFile: certificate, keyFile: key)
        default: throw Incomplete()
        }
    }

    /// Runs `reload` on each SIGHUP for the life of the process (it serves one fake).
    static func reloadOnHangUp(_ reload: @escaping @Sendable () throws -> Void) {
        // Ignored at once: the listener starts in a task, and a SIGHUP before it is set up would
        // otherwise end the process (the default action). The listener still receives it.
        signal(SIGHUP, SIG_IGN)
        Task.detached {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                do {
                    try reload()
                    FileHandle.standardError.write(Data("certificate reloaded\n".utf8))
                } catch {
                    FileHandle.standardError.write(Data("certificate not reloaded: \(error)\n".utf8))
                }
            }
        }
    }
}
