import Foundation
import LogBridgeCore
import LogBridgeFakes
import LogBridgeSinks
import LogBridgeTestSupport
import Logging
import Testing

/// `concurrency: adaptive`: AIMD on latency and push-back, and the permits the runner uses.
@Suite struct AdaptiveConcurrencyTests {
    @Test func steadySuccessesGrowTheLimitUpToTheMaximum() {
        let control = AdaptiveConcurrency(initial: 1, maximum: 8)
        let start = ContinuousClock.now
        for i in 0..<200 { control.record(.success(.milliseconds(20)), now: start + .milliseconds(i * 20)) }
        #expect(control.limit == 8)
        #expect(control.permits.limit == 8)
    }

    @Test func pushBackHalvesTheLimitAtMostOncePerRoundTrip() {
        let control = AdaptiveConcurrency(initial: 1, maximum: 16)
        let start = ContinuousClock.now
        for i in 0..<400 { control.record(.success(.milliseconds(20)), now: start + .milliseconds(i)) }
        #expect(control.limit == 16)
        let storm = start + .seconds(1)
        control.record(.overloaded, now: storm)
        control.record(.overloaded, now: storm + .milliseconds(1))
        control.record(.overloaded, now: storm + .milliseconds(2))
        #expect(control.limit == 8, "a burst of 429s from one round counts once")
        control.record(.overloaded, now: storm + .milliseconds(200))
        #expect(control.limit == 4)
        for i in 0..<10 { control.record(.overloaded, now: storm + .seconds(1 + i)) }
        #expect(control.limit == 1, "never below one request")
    }

    @Test func latencyClimbingWellAboveItsLongRunLevelTrimsTheLimit() {
        let control = AdaptiveConcurrency(initial: 1, maximum: 16)
        let start = ContinuousClock.now
        for i in 0..<400 { control.record(.success(.milliseconds(10)), now: start + .milliseconds(i)) }
        #expect(control.limit == 16)
        for i in 0..<20 { control.record(.success(.milliseconds(200)), now: start + .seconds(1) + .milliseconds(i * 100)) }
        #expect(control.limit < 16)
    }

    @Test func aSinkUnderA429StormBacksOffAndStillDeliversEverything() async throws {
        let es = try await FakeElasticsearch()
        es.inject(.status(429), .status(429), .status(429), .status(429))
        var http = HTTPSinkSettings(endpoints: [es.url])
        http.adaptiveConcurrencyMaximum = 8
        let sink = try ElasticsearchSink(name: "es", configuration: ElasticsearchSinkConfiguration(http: http), logger: Logger(label: "adaptive"))
        let permits = try #require(sink.sendPermits, "the runner takes its permits from the controller")
        _ = try await sink.deliver(TestBatches.batch(TestBatches.records(20)))
        #expect(es.documentCount == 20)
        #expect(permits.limit <= 2)
        await sink.close()
        await es.shutdown()
    }
}
