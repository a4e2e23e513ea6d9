import Foundation
import LogBridgeTestKit
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import LogBridge

/// The admin endpoint against clients that misbehave, over real TCP: the real `AdminServer` with
/// a stand-in for the gateway, so a test can make a scrape slow or the process unhealthy.
@Suite(.serialized)
struct AdminServerTests {
    static let token = "0123456789abcdef-admin-token"

    /// What the server serves; `holdRendering` makes `/metrics` wait until released.
    final class FakeContent: AdminContent {
        private let state = Mutex<(renderings: Int, problems: [String])>((0, []))
        let hold = Mutex<Bool>(false)
        let renderingStarted = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)

        var renderings: Int { state.withLock { $0.renderings } }
        func setProblems(_ problems: [String]) { state.withLock { $0.problems = problems } }

        func metricsExposition() -> [UInt8] {
            let number = state.withLock { state in
                state.renderings += 1
                return state.renderings
            }
            if hold.withLock({ $0 }) {
                renderingStarted.signal()
                release.wait()
            }
            return Array("# TYPE test_renderings counter\ntest_renderings \(number)\n".utf8)
        }

        func healthProblems() -> [String] { state.withLock { $0.problems } }
        func readinessProblems() -> [String] { state.withLock { $0.problems } }
    }

    /// A running server on an ephemeral port; `stop()` shuts it down as the gateway would.
    struct Running {
        let server: AdminServer
        let content: FakeContent
        let group: ServiceGroup
        let task: Task<Void, any Error>
        let port: Int

        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }

    static func start(_ configuration: AdminConfiguration) async throws -> Running {
        let logger = Logger(label: "admin-test")
        let server = AdminServer(host: "127.0.0.1", port: 0, configuration: configuration, logger: logger)
        let content = FakeContent()
        server.attach(content)
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: logger))
        let task = Task { try await group.run() }
        let port = try #require(await server.boundPort())
        return Running(server: server, content: content, group: group, task: task, port: port)
    }

    @Test func anIdleConnectionIsClosedAfterIdleTimeoutAndAServedOneToo() async throws {
        let running = try await Self.start(AdminConfiguration(listen: "127.0.0.1:0", idleTimeout: .milliseconds(300)))
        let silent = try RawHTTPConnection(port: running.port)
        let started = ContinuousClock.now
        let idle = silent.readUntilClosed(timeout: .seconds(5))
        #expect(idle.closed, "a connection that never sends a request is closed")
        #expect(idle.text.isEmpty, "closed without a response")
        #expect(ContinuousClock.now - started < .seconds(3))

        // A keep-alive connection is served, then closed once idle again.
        let client = try RawHTTPConnection(port: running.port)
        client.get("/healthz")
        #expect(client.readResponse()?.status == 200)
        #expect(client.readUntilClosed(timeout: .seconds(5)).closed)
        #expect(running.server.statistics.limited[.idle]?.value == 2)
        try await running.stop()
    }

    @Test func headersTrickledSlowerThanRequestTimeoutGet408AndLoseTheirSlot() async throws {
        let running = try await Self.start(
            AdminConfiguration(listen: "127.0.0.1:0", idleTimeout: .seconds(30), requestTimeout: .milliseconds(400)))
        let slow = try RawHTTPConnection(port: running.port)
        // A byte every 100 ms (each would reset a plain idle timer), listening between bytes.
        let started = ContinuousClock.now
        var answer = (text: "", closed: false)
        for byte in "GET /metrics HTTP/1.1\r\nHost: x\r\n" where !answer.closed {
            slow.send(String(byte))
            let heard = slow.readUntilClosed(timeout: .milliseconds(100))
            answer = (answer.text + heard.text, heard.closed)
        }
        #expect(answer.closed)
        #expect(answer.text.hasPrefix("HTTP/1.1 408"))
        #expect(ContinuousClock.now - started < .seconds(3), "cut after request_timeout, not after the whole trickle")
        #expect(running.server.statistics.limited[.requestTimeout]?.value == 1)
        try await running.stop()
    }

    @Test func connectionsBeyondTheCapAreClosedAtOnceWhileEarlierOnesKeepWorking() async throws {
        let running = try await Self.start(AdminConfiguration(listen: "127.0.0.1:0", maxConnections: 3))
        // Three connections, each proven accepted by a response.
        var held: [RawHTTPConnection] = []
        for _ in 0..<3 {
            let connection = try RawHTTPConnection(port: running.port)
            connection.get("/healthz")
            #expect(connection.readResponse()?.status == 200)
            held.append(connection)
        }
        // The kernel completes the handshake; the server closes at once, without reading.
        for _ in 0..<5 {
            let extra = try RawHTTPConnection(port: running.port)
            extra.get("/metrics")
            let refused = extra.readUntilClosed(timeout: .seconds(2))
            #expect(refused.closed)
            #expect(refused.text.isEmpty)
        }
        #expect(running.server.statistics.connectionsRefused.value == 5)
        // The three that were in keep working.
        for connection in held {
            connection.get("/metrics")
            #expect(connection.readResponse()?.status == 200)
        }
        // One leaves: a slot frees up.
        held.removeLast().close()
        var served = false
        for _ in 0..<50 where !served {
            let next = try RawHTTPConnection(port: running.port)
            next.get("/healthz")
            served = next.readResponse(timeout: .milliseconds(500))?.status == 200
            if !served { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(served)
        try await running.stop()
    }

    @Test func theTokenGuardsMetricsWhileProbesAnswerWithoutItButHideTheirReasons() async throws {
        let running = try await Self.start(AdminConfiguration(listen: "127.0.0.1:0", token: Self.token))
        let client = try RawHTTPConnection(port: running.port)
        func status(_ path: String, _ headers: [String] = []) -> RawHTTPConnection.Response? {
            client.get(path, headers: headers)
            return client.readResponse()
        }
        let missing = status("/metrics")
        #expect(missing?.status == 401)
        #expect(missing?.headers["www-authenticate"] == #"Bearer realm="logbridge""#)
        #expect(missing?.body.contains(Self.token) == false)
        for wrong in [
            "Bearer wrong", "Bearer \(Self.token.dropLast())", "Bearer \(Self.token)x", "Basic \(Self.token)", "Bearer", Self.token,
            "Bearer \(Self.token.uppercased())",
        ] {
            #expect(status("/metrics", ["Authorization: \(wrong)"])?.status == 401, "\(wrong)")
        }
        #expect(status("/", [])?.status == 401, "everything but the probes needs the token")
        #expect(status("/nope", [])?.status == 401, "unknown paths too: no probing without it")
        #expect(status("/metrics", ["Authorization: Bearer \(Self.token)"])?.status == 200)
        #expect(status("/metrics", ["Authorization: bearer \(Self.token)"])?.status == 200, "the scheme ignores case")
        #expect(running.server.statistics.unauthorized.value == 10)

        // Probes: the kubelet sends no token.
        #expect(status("/healthz")?.body == "ok\n")
        #expect(status("/readyz")?.body == "ready\n")
        running.content.setProblems(["sink splunk: no healthy endpoint (https://idx1.internal:8088 ejected after failures)"])
        let anonymous = status("/readyz")
        #expect(anonymous?.status == 503)
        #expect(anonymous?.body == "not ready\n", "no sink or endpoint names without the token")
        #expect(status("/healthz")?.body == "unhealthy\n")
        let detailed = status("/readyz", ["Authorization: Bearer \(Self.token)"])
        #expect(detailed?.status == 503)
        #expect(detailed?.body.contains("sink splunk") == true)
        try await running.stop()
    }

    @Test func aReloadedTokenReplacesTheOldOneAtOnce() async throws {
        let running = try await Self.start(AdminConfiguration(listen: "127.0.0.1:0", token: Self.token))
        let rotated = "fedcba9876543210-rotated-token"
        running.server.apply(AdminConfiguration(listen: "127.0.0.1:0", token: rotated))
        let client = try RawHTTPConnection(port: running.port)
        client.get("/metrics", headers: ["Authorization: Bearer \(Self.token)"])
        #expect(client.readResponse()?.status == 401)
        client.get("/metrics", headers: ["Authorization: Bearer \(rotated)"])
        #expect(client.readResponse()?.status == 200)
        try await running.stop()
    }

    @Test func concurrentScrapesShareOneRenderingInsteadOfQueueingMore() async throws {
        let running = try await Self.start(AdminConfiguration(listen: "127.0.0.1:0"))
        running.content.hold.withLock { $0 = true }
        let scrapers = try (0..<12).map { _ in try RawHTTPConnection(port: running.port) }
        scrapers[0].get("/metrics")
        #expect(running.content.renderingStarted.wait(timeout: .now() + 5) == .success)
        for scraper in scrapers.dropFirst() { scraper.get("/metrics") }
        // Every other scrape has joined the rendering under way (none started its own).
        let statistics = running.server.statistics
        for _ in 0..<250 where statistics.scrapesShared.value < 11 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(statistics.scrapesShared.value == 11)
        // Probes are not stuck behind the slow scrape.
        let probe = try RawHTTPConnection(port: running.port)
        probe.get("/healthz")
        #expect(probe.readResponse()?.status == 200)
        running.content.release.signal()
        let bodies = scrapers.map { $0.readResponse()?.body }
        #expect(bodies.allSatisfy { $0 == "# TYPE test_renderings counter\ntest_renderings 1\n" })
        #expect(running.content.renderings == 1)
        #expect(running.server.rendering.renderingsStarted == 1)
        // The next scrape renders afresh.
        running.content.hold.withLock { $0 = false }
        scrapers[0].get("/metrics")
        #expect(scrapers[0].readResponse()?.body.contains("test_renderings 2") == true)
        try await running.stop()
    }

    @Test func requestsThatAreNotAScrapeAreRefusedBeforeAnyBodyIsRead() async throws {
        let running = try await Self.start(AdminConfiguration(listen: "127.0.0.1:0", token: Self.token))
        func refusal(_ request: String) throws -> (status: Int?, closed: Bool) {
            let client = try RawHTTPConnection(port: running.port)
            client.send(request)
            let response = client.readResponse()
            return (response?.status, client.readUntilClosed(timeout: .seconds(3)).closed)
        }
        let post = try refusal("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        #expect(post.status == 405 && post.closed)
        // A body announced, never sent: refused on the head, not waited for.
        let body = try refusal("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
        #expect(body.status == 413 && body.closed)
        let chunked = try refusal("GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(chunked.status == 413 && chunked.closed)
        let longURI = try refusal("GET /metrics?\(String(repeating: "a", count: 3000)) HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(longURI.status == 414 && longURI.closed)
        // 20 KiB of headers: over the 16 KiB a request may take.
        let padding = (0..<40).map { "X-Pad-\($0): \(String(repeating: "p", count: 500))\r\n" }.joined()
        let huge = try refusal("GET /metrics HTTP/1.1\r\nHost: x\r\n\(padding)\r\n")
        #expect(huge.status == 431 && huge.closed)
        #expect(running.server.statistics.limited[.requestTooLarge]?.value == 1)
        #expect(running.content.renderings == 0, "no refused request reached the gateway")
        try await running.stop()
    }

    @Test func tokenComparisonIsExactAndCoversEveryByte() {
        let expected = Array("0123456789abcdef".utf8)
        #expect(BearerToken.constantTimeEqual(expected, expected))
        #expect(!BearerToken.constantTimeEqual([], expected))
        #expect(!BearerToken.constantTimeEqual(Array("0123456789abcdeF".utf8), expected))
        #expect(!BearerToken.constantTimeEqual(Array("0123456789abcdef0".utf8), expected))
        #expect(!BearerToken.constantTimeEqual(Array("0123456789abcde".utf8), expected))
        // A presented value whose bytes XOR to the same differences in another order still fails.
        #expect(!BearerToken.constantTimeEqual(Array("1023456789abcdef".utf8), expected))
    }
}
