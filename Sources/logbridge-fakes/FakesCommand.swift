import ArgumentParser
import Foundation
import LogBridgeTestKit

/// `logbridge-fakes`: the test suite's protocol fakes as a process of their own, so `make bench`
/// can point the real binary at them over loopback.
@main
struct FakesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logbridge-fakes",
        abstract: "Protocol-faithful fake sink servers for benchmarks.",
        subcommands: [Elasticsearch.self])
}

struct Elasticsearch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a fake Elasticsearch _bulk endpoint on 127.0.0.1 until standard input closes; print its counts.")

    @Option(help: "Milliseconds every bulk answer takes.") var latencyMs = 0
    @Option(help: "Answer every request with 503 for this many seconds from the start (a sink outage).") var outageSeconds = 0.0

    func run() async throws {
        let es = try await FakeElasticsearch(latency: .milliseconds(latencyMs), keepDocuments: false)
        if outageSeconds > 0 {
            es.setOutage(503)
            Task {
                try await Task.sleep(for: .seconds(outageSeconds))
                es.setOutage(nil)
            }
        }
        print("url=\(es.url)")
        fflush(nil)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                while readLine() != nil {}
                continuation.resume()
            }.start()
        }
        print("documents=\(es.documentCount) conflicts=\(es.conflicts) requests=\(es.requests) gzip_requests=\(es.gzipRequests)")
        fflush(nil)
        await es.shutdown()
    }
}
