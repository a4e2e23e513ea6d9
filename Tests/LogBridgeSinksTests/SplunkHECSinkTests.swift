import Foundation
import LogBridgeCore
import LogBridgeFakes
import LogBridgeSinks
import LogBridgeTestSupport
import Logging
import Synchronization
import Testing

/// The Splunk HEC sink against the protocol fake: event format and metadata, channels and
/// indexer acknowledgements (including across a restart), code 6, retries and health.
@Suite struct SplunkHECSinkTests {
    let logger = Logger(label: "hec-test")

    func configuration(
        _ endpoints: [String], acks: Bool = true, timeout: Duration = .seconds(60), ackTimeout: Duration = .seconds(300),
        ackPollInterval: Duration = .milliseconds(100), compression: HTTPSinkSettings.Compression = .none
    ) throws -> SplunkHECSinkConfiguration {
        // A generous request timeout: on a loaded CI machine a short one can expire after the fake
        // indexed the events, and the resend shows up as duplicates.
        var http = HTTPSinkSettings(endpoints: endpoints, compression: compression, requestTimeout: timeout)
        http.ejectionTime = .seconds(30)
        var configuration = SplunkHECSinkConfiguration(
            http: http, host: try FieldTemplate("{kubernetes.host}"), source: try FieldTemplate("kafka:logs"),
            sourcetype: try FieldTemplate("_json"), index: try FieldTemplate("main"),
            fields: [.init(name: "namespace", template: try FieldTemplate("{kubernetes.namespace_name}"))],
            acknowledgements: acks, ackPollInterval: ackPollInterval, ackTimeout: ackTimeout)
        configuration.setToken("hec-token")
        return configuration
    }

    func sink(_ configuration: SplunkHECSinkConfiguration, notebook: SinkNotebook? = nil) async throws -> SplunkHECSink {
        let sink = try SplunkHECSink(name: "hec", configuration: configuration, notebook: notebook, logger: logger)
        try await sink.open(restoring: SinkCheckpoint(nextSequence: 0))
        return sink
    }

    static func records(_ count: Int, marker: (Int) -> String = { _ in "" }) -> [String] {
        (0..<count).map { #"{"log":"line \#($0) \#(marker($0))","kubernetes":{"host":"node-\#($0 % 3)","namespace_name":"shop"}}"# }
    }

    /// A notebook kept in memory, where the sink keeps channels and acks across its restarts (the
    /// spool-backed one is tested with the delivery module).
    func memoryNotebook() -> SinkNotebook {
        let notes = Mutex<[String: [UInt8]]>([:])
        return SinkNotebook(
            load: { name in notes.withLock { $0[name] } },
            save: { name, value in notes.withLock { $0[name] = value } })
    }

    /// Waits for the batch's confirmation, as the runner does.
    func confirmed(_ delivery: SinkDelivery) async -> Bool {
        guard let confirmation = delivery.confirmation else { return true }
        return await confirmation.wait()
    }

    @Test func eventsCarryMetadataAndAStableEventIDAndCountOnlyOnceAcknowledged() async throws {
        let hec = try await FakeSplunkHEC()
        let sink = try await sink(try configuration([hec.url]))
        let delivery = try await sink.deliver(TestBatches.batch(Self.records(120)))
        #expect(delivery.deadLetters.isEmpty)
        #expect(delivery.confirmation != nil, "with acknowledgements the batch waits for the indexer")
        #expect(await confirmed(delivery))
        #expect(hec.eventCount == 120)
        #expect(hec.duplicates == 0)
        #expect(hec.ackPolls >= 1)
        #expect(hec.channelIDs.count == 1, "one GUID channel per endpoint")
        let event = try #require(hec.events.first { $0.eventID == "logs-1-7" })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(event.object)) as? [String: Any])
        #expect(object["time"] as? Double == 1_795_000_000.0)
        #expect(object["host"] as? String == "node-1")
        #expect(object["source"] as? String == "kafka:logs")
        #expect(object["sourcetype"] as? String == "_json")
        #expect(object["index"] as? String == "main")
        #expect((object["event"] as? [String: Any])?["log"] as? String == "line 7 ", "JSON values are sent as JSON")
        #expect(object["fields"] as? [String: String] == ["event_id": "logs-1-7", "namespace": "shop"])
        await sink.close()
        await hec.shutdown()
    }

    /// Objects are read in one pass, everything else as before: each shape keeps its event form
    /// and its templated metadata.
    @Test func everyShapeOfRecordKeepsItsEventAndMetadata() async throws {
        let hec = try await FakeSplunkHEC()
        let sink = try await sink(try configuration([hec.url]))
        let values = [
            #"{"kubernetes":{"namespace_name":"shop","host":"node-a"},"kubernetes":{"host":"second"},"log":"x"}"#,
            #"  {"kubernetes":{"host":"node-b"}}"#,
            #"{"kubernetes":{"host":"node-c"},"log":"bad \x escape"}"#,
            "[1,2]",
            "plain",
        ]
        let delivery = try await sink.deliver(TestBatches.batch(values))
        #expect(await confirmed(delivery))
        func object(_ offset: Int) throws -> [String: Any] {
            let event = try #require(hec.events.first { $0.eventID == "logs-1-\(offset)" })
            return try #require(try JSONSerialization.jsonObject(with: Data(event.object)) as? [String: Any])
        }
        #expect(try object(0)["host"] as? String == "node-a", "the first member of a repeated key, as lookup finds it")
        #expect(try object(0)["fields"] as? [String: String] == ["event_id": "logs-1-0", "namespace": "shop"])
        #expect((try object(0)["event"] as? [String: Any])?["log"] as? String == "x")
        #expect(try object(1)["host"] as? String == "node-b")
        #expect((try object(1)["event"] as? [String: Any]) != nil, "valid JSON after blanks is sent as JSON")
        #expect(try object(2)["host"] as? String == "node-c", "invalid JSON: fields still looked up")
        #expect(try object(2)["event"] as? String == values[2], "and the event sent as a string")
        #expect(try object(3)["event"] as? [Int] == [1, 2])
        #expect(try object(3)["host"] as? String == "unknown")
        #expect(try object(4)["event"] as? String == "plain")
        await sink.close()
        await hec.shutdown()
    }

    @Test func plainTextIsSentAsAStringAndGzipIsAccepted() async throws {
        let hec = try await FakeSplunkHEC()
        let sink = try await sink(try configuration([hec.url], compression: .gzip))
        let delivery = try await sink.deliver(TestBatches.batch(["plain \"quoted\" line", #"{"log":"x"}"#]))
        #expect(await confirmed(delivery))
        #expect(hec.gzipRequests == 1)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(hec.events[0].object)) as? [String: Any])
        #expect(first["event"] as? String == "plain \"quoted\" line")
        await sink.close()
        await hec.shutdown()
    }

    @Test func code6DeadLettersTheBadEventAndResendsOnlyTheOnesAfterIt() async throws {
        var options = FakeSplunkHEC.Options()
        options.poison = "POISON"
        let hec = try await FakeSplunkHEC(options: options)
        let sink = try await sink(try configuration([hec.url]))
        let delivery = try await sink.deliver(TestBatches.batch(Self.records(50) { $0 == 20 ? "POISON" : "" }))
        #expect(await confirmed(delivery))
        #expect(delivery.deadLetters.count == 1)
        #expect(delivery.deadLetters.first?.offset == 20)
        #expect(delivery.deadLetters.first?.status == "400")
        #expect(delivery.deadLetters.first?.reason.contains("code 6") == true)
        #expect(delivery.deadLetters.first?.stage == "hec")
        #expect(hec.eventCount == 49, "the 20 events before it were indexed by the first request, the 29 after it by the second")
        #expect(hec.duplicates == 0)
        #expect(hec.eventRequests == 2)
        await sink.close()
        await hec.shutdown()
    }

    @Test func busyInternalErrors429AndDroppedConnectionsAreRetried() async throws {
        let hec = try await FakeSplunkHEC()
        hec.inject(.status(503, code: 9), .status(500, code: 8), .status(429, code: nil, retryAfter: "1"), .drop)
        let sink = try await sink(try configuration([hec.url]))
        let started = ContinuousClock.now
        let delivery = try await sink.deliver(TestBatches.batch(Self.records(10)))
        #expect(await confirmed(delivery))
        #expect(ContinuousClock.now - started >= .seconds(1), "Retry-After was honoured")
        #expect(hec.eventCount == 10)
        #expect(hec.eventRequests == 5)
        await sink.close()
        await hec.shutdown()
    }

    /// A restarted indexer hands out ack ids from 0 again: the request still waiting on the
    /// reused id hears `false` (its records are sent again) instead of waiting forever.
    @Test(.timeLimit(.minutes(1))) func anAckIDReusedAfterAnIndexerRestartReleasesTheEarlierWaiter() async throws {
        let hec = try await FakeSplunkHEC()
        hec.holdAcks(true)
        let sink = try await sink(try configuration([hec.url]))
        let first = try await sink.deliver(TestBatches.batch(Self.records(10)))
        let waiting = Task { await confirmed(first) }
        hec.restartIndexer()
        let second = try await sink.deliver(TestBatches.batch(Self.records(10), from: 10))
        #expect(await waiting.value == false, "the reused id no longer answers for the first request")
        hec.holdAcks(false)
        #expect(await confirmed(second))
        await sink.close()
        await hec.shutdown()
    }

    /// A poll that comes after the deadline (a stalled machine; here a poll interval longer than
    /// `ack_timeout`) still asks about the ids first: Splunk confirmed them, so nothing is sent again.
    @Test func aLatePollAsksBeforeItGivesUp() async throws {
        var options = FakeSplunkHEC.Options()
        options.ackDelay = .zero
        let hec = try await FakeSplunkHEC(options: options)
        let sink = try await sink(try configuration([hec.url], ackTimeout: .milliseconds(200), ackPollInterval: .seconds(2)))
        let delivery = try await sink.deliver(TestBatches.batch(Self.records(10)))
        #expect(await confirmed(delivery), "indexed and reported true by the first poll, past the deadline")
        #expect(hec.eventRequests == 1)
        #expect(hec.ackPolls >= 1)
        await sink.close()
        await hec.shutdown()
    }

    @Test func aLostAcknowledgementFailsTheConfirmationAfterTheDeadline() async throws {
        let hec = try await FakeSplunkHEC()
        hec.inject(.loseAck)
        // 2 s, not less: the second delivery's acknowledgement must be polled within the deadline
        // while the whole suite loads both cores (600 ms failed there once).
        let sink = try await sink(try configuration([hec.url], ackTimeout: .seconds(2)))
        let batch = TestBatches.batch(Self.records(10))
        let delivery = try await sink.deliver(batch)
        #expect(await confirmed(delivery) == false, "never acknowledged: the runner must send the batch again")
        // The runner sends the same records again; this time they are acknowledged.
        let again = try await sink.deliver(batch)
        #expect(await confirmed(again))
        #expect(hec.eventCount == 20, "HEC has no server-side de-duplication: the resend duplicates")
        #expect(Set(hec.eventIDs).count == 10, "but every copy carries the same event_id, so `dedup event_id` works")
        await sink.close()
        await hec.shutdown()
    }

    @Test func aRestartedSinkPollsTheAcksItSavedInsteadOfResending() async throws {
        var options = FakeSplunkHEC.Options()
        options.ackDelay = .seconds(1)
        let hec = try await FakeSplunkHEC(options: options)
        let notebook = memoryNotebook()
        let batch = TestBatches.batch(Self.records(30))

        let first = try await sink(try configuration([hec.url]), notebook: notebook)
        _ = try await first.deliver(batch)
        try await Task.sleep(for: .milliseconds(300))  // the sink saves outstanding acks once a second at most
        await first.close()  // a stop before the ack arrived; close saves what is outstanding
        #expect(hec.eventRequests == 1)

        let second = try await sink(try configuration([hec.url]), notebook: notebook)
        let replay = try await second.deliver(batch)
        #expect(await confirmed(replay))
        #expect(hec.eventRequests == 1, "the restarted sink polled the saved ack id instead of sending the batch again")
        #expect(hec.eventCount == 30)
        #expect(hec.channelIDs.count == 1, "the same channel GUID after the restart")
        await second.close()
        await hec.shutdown()
    }

    /// A stop while an ack poll is in flight: Splunk has already reported the id true (and
    /// forgotten it), so the answer must still be recorded and saved, or the restarted sink would
    /// poll an id that reads false until `restoredAckTimeout` (60 s).
    @Test func aStopDuringAnAckPollKeepsItsAnswer() async throws {
        var options = FakeSplunkHEC.Options()
        options.ackDelay = .zero
        options.ackPollDelay = .milliseconds(700)
        let hec = try await FakeSplunkHEC(options: options)
        let notebook = memoryNotebook()
        let batch = TestBatches.batch(Self.records(30))

        let first = try await sink(try configuration([hec.url]), notebook: notebook)
        _ = try await first.deliver(batch)
        #expect(await eventually(interval: .milliseconds(10)) { hec.ackPolls > 0 })
        await first.close()  // the poll's answer is still on its way

        let second = try await sink(try configuration([hec.url]), notebook: notebook)
        let started = ContinuousClock.now
        let replay = try await second.deliver(batch)
        #expect(await confirmed(replay))
        #expect(ContinuousClock.now - started < .seconds(10), "confirmed from the saved answer, not after restoredAckTimeout")
        #expect(hec.eventRequests == 1, "nothing sent twice")
        await second.close()
        await hec.shutdown()
    }

    /// The acks note is written before the runner hears of a confirmation, so a restart before
    /// the cursor moves finds the batch confirmed instead of polling an id Splunk has forgotten.
    @Test func aConfirmationIsSavedBeforeTheRunnerHearsOfIt() async throws {
        let hec = try await FakeSplunkHEC()
        let notebook = memoryNotebook()
        let sink = try await sink(try configuration([hec.url]), notebook: notebook)
        let delivery = try await sink.deliver(TestBatches.batch(Self.records(10)))
        #expect(await confirmed(delivery))
        let saved = try Self.savedAcks(notebook)
        #expect(saved.count == 1)
        #expect(saved.first?["acked"] as? Bool == true, "confirmed in the notebook by the time the runner knows")
        await sink.close()
        await hec.shutdown()
    }

    /// A crash after Splunk answered `true` and before the spool noted it: the restored ack id reads
    /// `false` forever. The restarted sink gives it `restoredAckTimeout`, not the whole `ack_timeout`.
    @Test func anAckSplunkAlreadyReportedIsSentAgainAfterTheRestoredDeadline() async throws {
        var options = FakeSplunkHEC.Options()
        options.ackDelay = .zero
        let hec = try await FakeSplunkHEC(options: options)
        hec.holdAcks(true)  // until the test says Splunk indexed: no clock to race on a loaded machine
        let notebook = memoryNotebook()
        let batch = TestBatches.batch(Self.records(10))

        let first = try await sink(try configuration([hec.url]), notebook: notebook)
        _ = try await first.deliver(batch)
        await first.close()  // saves the outstanding ack
        let saved = try #require(try Self.savedAcks(notebook).first)
        #expect(saved["acked"] as? Bool == false)
        // The poll whose `true` never reached the gateway: Splunk forgets the id once it answers.
        hec.holdAcks(false)
        let ackID = try #require(saved["ackID"] as? Int)
        let channel = try #require(hec.channelIDs.first)
        let poll = try await FakeSplunkHECTests.post(hec, #"{"acks":[\#(ackID)]}"#, channel: channel, path: "/services/collector/ack")
        #expect(poll.1 == #"{"acks":{"\#(ackID)":true}}"#)

        var restarted = try configuration([hec.url])
        restarted.restoredAckTimeout = .seconds(1)
        let second = try await sink(restarted, notebook: notebook)
        let started = ContinuousClock.now
        let replay = try await second.deliver(batch)
        #expect(await confirmed(replay) == false, "the forgotten id expires and the runner sends the batch again")
        #expect(ContinuousClock.now - started < .seconds(30), "well before ack_timeout (300 s here)")
        let again = try await second.deliver(batch)
        #expect(await confirmed(again))
        #expect(hec.eventRequests == 2)
        #expect(Set(hec.eventIDs).count == 10)
        await second.close()
        await hec.shutdown()
    }

    /// The acks note as the sink saved it.
    static func savedAcks(_ notebook: SinkNotebook) throws -> [[String: Any]] {
        guard let note = try notebook.load("acks") else { return [] }
        return try JSONSerialization.jsonObject(with: Data(note)) as? [[String: Any]] ?? []
    }

    @Test func withoutAcknowledgementsHTTP200IsDelivery() async throws {
        var options = FakeSplunkHEC.Options()
        options.acknowledgements = false
        let hec = try await FakeSplunkHEC(options: options)
        let sink = try await sink(try configuration([hec.url], acks: false))
        let delivery = try await sink.deliver(TestBatches.batch(Self.records(5)))
        #expect(delivery.confirmation == nil)
        #expect(hec.eventCount == 5)
        await sink.close()
        await hec.shutdown()
    }

    @Test func anUnhealthyEndpointIsEjectedAndBatchesGoToTheHealthyOne() async throws {
        let sick = try await FakeSplunkHEC()
        let healthy = try await FakeSplunkHEC()
        sick.setUnhealthy(true)
        sick.inject(.status(503, code: 18), .status(503, code: 18), .status(503, code: 18), .status(503, code: 18))
        let sink = try await sink(try configuration([sick.url, healthy.url]))
        for round in 0..<6 {
            let delivery = try await sink.deliver(TestBatches.batch(Self.records(10), from: Int64(round * 10)))
            #expect(await confirmed(delivery))
        }
        #expect(healthy.eventCount == 60)
        #expect(sick.eventCount == 0)
        #expect(sick.healthChecks >= 1, "/services/collector/health was consulted")
        await sink.close()
        await sick.shutdown()
        await healthy.shutdown()
    }

    @Test func badTokensAreHeldNotDropped() async throws {
        let hec = try await FakeSplunkHEC()
        var configuration = try configuration([hec.url], timeout: .seconds(2))
        configuration.setToken("wrong")
        let sink = try await sink(configuration)
        let attempt = Task { try await sink.deliver(TestBatches.batch(Self.records(3))) }
        // Refused (403, code 4) at least twice (the second request comes after the sink's 5 s
        // pause), and the cancellation is what ends the delivery: a sink that gave up would have
        // returned with dead letters, or thrown an error of its own, before it.
        #expect(await eventually(timeout: .seconds(30)) { hec.eventRequests >= 2 }, "requests: \(hec.eventRequests)")
        attempt.cancel()
        let result = await attempt.result
        let error = #expect(throws: SinkError.self) { try result.get() }
        #expect(error?.message.contains("delivery cancelled") == true, "\(String(describing: error))")
        #expect(hec.eventCount == 0)
        await sink.close()
        await hec.shutdown()
    }
}

/// The HEC fake refuses what Splunk refuses, so the sink tests above can trust it.
@Suite struct FakeSplunkHECTests {
    /// One request straight to the fake (status, body), as a gateway would send it.
    static func post(
        _ hec: FakeSplunkHEC, _ body: String, token: String = "hec-token", channel: String? = UUID().uuidString,
        path: String = "/services/collector/event"
    ) async throws -> (Int, String) {
        let settings = HTTPSinkSettings(endpoints: [hec.url], authentication: .header(name: "Authorization", value: "Splunk \(token)"))
        let transport = try HTTPTransport(settings: settings, logger: Logger(label: "hec-fake-test"))
        defer { Task { await transport.shutdown() } }
        let response = try await transport.post(
            EndpointPool(urls: [hec.url], ejectAfterFailures: 3, ejectionTime: .seconds(1)).next(), path: path, contentType: "application/json",
            body: Array(body.utf8), headers: channel.map { [("X-Splunk-Request-Channel", $0)] } ?? [])
        return (response.status, response.bodyText)
    }

    @Test func refusesWhatSplunkRefuses() async throws {
        let hec = try await FakeSplunkHEC()
        #expect(try await Self.post(hec, #"{"event":"a"}"#, token: "nope") == (403, #"{"text":"Invalid token","code":4}"#))
        #expect(try await Self.post(hec, #"{"event":"a"}"#, channel: nil).1.contains(#""code":10"#))
        #expect(try await Self.post(hec, #"{"event":"a"}"#, channel: "not-a-guid").1.contains(#""code":11"#))
        #expect(try await Self.post(hec, #"{"event":"a"}{"time":1}"#).1.contains(#""code":12"#))
        #expect(try await Self.post(hec, #"{"event":""}"#).1.contains(#""code":13"#))
        #expect(try await Self.post(hec, #"{"event":"a","fields":{"x":{"nested":1}}}"#).1.contains(#""code":15"#))
        #expect(try await Self.post(hec, #"{"event":"a","fields":{"x":["a","b"]}}"#).0 == 200)
        #expect(try await Self.post(hec, "{\"event\":\"a\"} {\"event\":").1.contains(#""invalid-event-number":1"#))
        #expect(hec.eventCount == 3, "the valid event, and the one before each bad event, were indexed")
        await hec.shutdown()
    }

    /// Events are split where their objects end, whatever their strings hold (escaped quotes and
    /// backslashes, braces, eight-byte runs and short tails), and each one's `event_id` is its own.
    @Test func splitsEventsAtTheirEndsAndReadsTheirIDs() async throws {
        let hec = try await FakeSplunkHEC()
        let tricky = #"{"event":"a}{\"b\\\"}{ }long enough to span words","fields":{"event_id":"t-1-1"}}"#
        let body = tricky + "\n" + #"{"time":1,"event":{"x":"}"},"fields":{"event_id":"t-1-2","k":"v"}} {"event":"\\"}"#
        #expect(try await Self.post(hec, body).0 == 200)
        #expect(hec.eventCount == 3)
        #expect(hec.eventIDs == ["t-1-1", "t-1-2"])
        #expect(hec.events.first.map { String(decoding: $0.object, as: UTF8.self) } == tricky)
        #expect(try await Self.post(hec, #"{"event":"a\"}{"}{"event":"b"}"#).0 == 200, "an escaped quote does not end the string")
        #expect(hec.eventCount == 5)
        #expect(try await Self.post(hec, #"{"event":"a"} "text""#).1.contains(#""code":12"#), "valid JSON but no object: no event")
        #expect(try await Self.post(hec, #"{"event":"a"} [1"#).1.contains(#""code":6"#), "not JSON")
        #expect(try await Self.post(hec, #"{"event":"a","fields":"x"}"#).1.contains(#""code":15"#))
        await hec.shutdown()
    }
}
