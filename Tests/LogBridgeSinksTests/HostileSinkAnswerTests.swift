import Foundation
import LogBridgeCore
import LogBridgeFakes
@testable import LogBridgeSinks
import LogBridgeTestSupport
import Logging
import Synchronization
import Testing

/// Sinks that answer badly: a redirect to another origin, a body larger than any real answer, a
/// body trickled a byte at a time; and credentials configured for a plain-HTTP endpoint.
@Suite struct HostileSinkAnswerTests {
    func transport(_ url: String, timeout: Duration = .seconds(60), logger: Logger = Logger(label: "t")) throws -> HTTPTransport {
        try HTTPTransport(settings: HTTPSinkSettings(endpoints: [url], requestTimeout: timeout), logger: logger)
    }

    func endpoint(_ url: String) -> EndpointPool.Endpoint { EndpointPool(urls: [url], ejectAfterFailures: 3, ejectionTime: .seconds(5)).endpoints[0] }

    @Test func aRedirectIsNotFollowedAndTheBatchIsHeld() async throws {
        let elsewhere = Mutex(0)
        let other = try await FakeHTTPServer { _ in
            elsewhere.withLock { $0 += 1 }
            return .respond(status: 200, headers: [], body: Array(#"{"errors":false,"items":[]}"#.utf8))
        }
        let attempts = Mutex<[ContinuousClock.Instant]>([])
        let redirecting = try await FakeHTTPServer { _ in
            attempts.withLock { $0.append(.now) }
            return .respond(status: 307, headers: [("Location", "http://user:secret@127.0.0.1:\(other.port)/_bulk?x=1")], body: [])
        }
        // The transport hands the 3xx back instead of following it.
        let transport = try transport(redirecting.url)
        let response = try await transport.post(endpoint(redirecting.url), path: "/_bulk", contentType: "application/x-ndjson", body: Array("{}\n{}\n".utf8))
        #expect(response.status == 307)
        #expect(elsewhere.withLock { $0 } == 0, "no log body went to the other origin")
        #expect(HTTPBatchDriver.commonVerdict(response) == .retryAll(after: .seconds(5), endpointFailed: true))
        #expect(EndpointPool.displayOrigin("http://user:secret@127.0.0.1:\(other.port)/_bulk?x=1") == "http://127.0.0.1:\(other.port)")
        await transport.shutdown()

        // Through a whole sink: held (never dead-lettered), and the other origin never reached.
        var http = HTTPSinkSettings(endpoints: [redirecting.url], requestTimeout: .seconds(60))
        http.ejectionTime = .milliseconds(100)
        let statistics = SinkStatistics(name: "es")
        let sink = try ElasticsearchSink(
            name: "es", configuration: ElasticsearchSinkConfiguration(http: http, index: try FieldTemplate("logs")), statistics: statistics,
            logger: Logger(label: "t"))
        let attempt = Task { try await sink.deliver(TestBatches.batch(TestBatches.records(3))) }
        #expect(await eventually { statistics.failures.value >= 1 })
        // Time passes on purpose: no second attempt may come before the 5 s pause.
        try await Task.sleep(for: .seconds(1))
        attempt.cancel()
        await #expect(throws: SinkError.self) { try await attempt.value }
        #expect(elsewhere.withLock { $0 } == 0)
        // One attempt, then a 5 s pause: a redirect is not hammered. Asserted on the gaps between
        // the attempts the server saw (the transport's own request came first), so a machine
        // stalled past the pause, which lets a second attempt in, does not fail the test.
        let seen = attempts.withLock { $0 }
        #expect(seen.count >= 2)
        for (earlier, later) in zip(seen.dropFirst(), seen.dropFirst(2)) {
            #expect(later - earlier >= .milliseconds(4900), "attempts \(later - earlier) apart")
        }
        #expect(statistics.failures.value >= 1 && statistics.failures.value <= seen.count - 1)
        #expect(statistics.deadLettered.value == 0)
        await sink.close()
        await redirecting.shutdown()
        await other.shutdown()
    }

    @Test func aHugeAnswerIsReadOnlyUpToTheLimitAndMarkedTruncated() async throws {
        let server = try await FakeHTTPServer { _ in .respond(status: 200, headers: [], body: Array(repeating: UInt8(ascii: "x"), count: 20 << 20)) }
        let transport = try transport(server.url)
        let response = try await transport.post(endpoint(server.url), path: "/", contentType: "application/json", body: [])
        #expect(response.truncated)
        #expect(response.body.count == 4 << 20)
        // Elasticsearch reads a truncated bulk answer as a protocol error (bounded), not as items.
        guard case .protocolError = ElasticsearchResponse.verdict(response, chunk: [0, 1]) else {
            Issue.record("a truncated bulk answer must be a protocol error")
            return
        }
        await transport.shutdown()
        await server.shutdown()
    }

    @Test func aTrickledAnswerEndsAtTheRequestDeadline() async throws {
        let server = try await FakeHTTPServer { _ in .trickle(status: 200, body: Array(repeating: UInt8(ascii: "x"), count: 1000), interval: .milliseconds(100)) }
        let transport = try transport(server.url, timeout: .seconds(1))
        let started = ContinuousClock.now
        await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.post(endpoint(server.url), path: "/", contentType: "application/json", body: [])
        }
        let elapsed = ContinuousClock.now - started
        // The body trickles one byte per 100 ms: 100 s to the end without a deadline for the whole
        // answer. 30 s tells the two apart on a loaded CI machine (a fresh-clone run took 7.8 s
        // with the 1 s deadline while the rest of the suite ran beside it).
        #expect(elapsed < .seconds(30), "one deadline for the head and the whole body (took \(elapsed))")
        await transport.shutdown()
        await server.shutdown()
    }

    @Test func credentialsForAPlainHTTPEndpointAreWarnedAbout() async throws {
        let records = LogRecorder()
        let logger = Logger(label: "t") { _ in records }
        let settings = HTTPSinkSettings(endpoints: ["http://es.example:9200", "https://es2.example:9200"], authentication: .basic(user: "u", password: "hunter2"))
        await try HTTPTransport(settings: settings, logger: logger).shutdown()
        let warning = try #require(records.messages.first { $0.contains("without TLS") })
        #expect(warning.contains("http://es.example:9200") && !warning.contains("es2.example") && !warning.contains("hunter2"))
        let quiet = LogRecorder()
        await try HTTPTransport(settings: HTTPSinkSettings(endpoints: ["http://es.example:9200"]), logger: Logger(label: "t") { _ in quiet }).shutdown()
        #expect(quiet.messages.isEmpty, "no credentials, nothing to warn about")
        let hostname = LogRecorder()
        var tls = HTTPSinkSettings(endpoints: ["https://es.example:9200"])
        tls.tls.verifyHostname = false
        await try HTTPTransport(settings: tls, logger: Logger(label: "t") { _ in hostname }).shutdown()
        #expect(hostname.messages.contains { $0.contains("tls.verify_hostname: false") })
    }
}


@Suite struct BulkItemCountTests {
    @Test(arguments: [
        (#"{"took":3,"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]}"#, 2),
        (#"{"errors":true,"items":[{"create":{"status":400,"error":{"type":"x","reason":"a \"items\":[1,2] ] } , {"}}}]}"#, 1),
        (#"{"errors":false,"items":[]}"#, 0),
        (#"{"errors":false,"items": [ {"index":{}} , {"index":{}} , {"index":{}} ] }"#, 3),
        (#"{"errors":false}"#, nil),
        (#"{"errors":false,"items":[{"create":{"status":201}}"#, nil),
        (#"{"errors":false,"items":"x"}"#, nil),
        // Long strings, escapes on and across eight-byte words, brackets and commas inside strings.
        (#"{"errors":false,"items":[{"create":{"_index":"logs-kube-system-2026.12.04","_id":"logs-12-123456789","result":"created \"], {\" and, more"}},{"create":{"_id":"abcdefg\\"}},{"create":{"_id":"1234567\\\""}}]}"#, 3),
        (#"{"errors":false,"items":[{"create":{"_id":"an unterminated string that runs past the end of the answer"#, nil),
        (#"{"errors":false,"items":[{"create":{"_id":"ends in a backslash\"#, nil),
        // Inside items, runs of numbers, colons and commas longer than a word (skipped eight bytes
        // at a time), nested arrays, and answers that end inside such a run.
        (#"{"errors":false,"items":[{"index":{"_seq_no":123456789012345,"_primary_term":1,"n":[1,2,3,4,5,6,7,8,9,10,11],"status":201}},{"index":{"_seq_no":1234567890,"status":201}}]}"#, 2),
        (#"{"errors":false,"items":[{"index":{"_seq_no":1234567890123456"#, nil),
        (#"{"errors":false,"items":[{"index":{"_seq_no":12345678901234567890,"t":1234567}}"#, nil),
        (#"{"errors":false,"items":[{"index":{"a":[[[1111111111,22222222222],[3]]],"b":{"c":{"d":4444444444444}}}},{"index":{}}]}"#, 2),
    ] as [(String, Int?)])
    func countsTheItemsOfABulkAnswer(_ body: String, _ expected: Int?) {
        #expect(ElasticsearchResponse.itemCount(Array(body.utf8)) == expected)
    }
}
