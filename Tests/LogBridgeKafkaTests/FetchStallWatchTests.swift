@testable import LogBridgeKafka
import Testing

/// When the poll loop restarts fetching: only after draining a queue run as large as the
/// thresholds librdkafka stops at, and only once a poll has waited for nothing.
@Suite struct FetchStallWatchTests {
    @Test func restartsOnceAfterAFullQueueDrainedAndAnEmptyWait() {
        var watch = FetchStallWatch(queuedMaxKilobytes: 100, queuedMinMessages: 1_000)
        #expect(watch.bytesThreshold == 92_160 && watch.messagesThreshold == 900)
        for _ in 0..<300 { watch.took(bytes: 320) }  // 96,000 bytes: over 90% of 100 KiB
        let restart1 = watch.foundEmpty(waited: false)
        #expect(!restart1, "an empty queue right after a run is no stall yet")
        for _ in 0..<10 { watch.took(bytes: 320) }  // a straggler answer
        let restart2 = watch.foundEmpty(waited: false)
        #expect(!restart2)
        let restart3 = watch.foundEmpty(waited: true)
        #expect(restart3, "a wait for nothing after the full queue drained")
        let restart4 = watch.foundEmpty(waited: true)
        #expect(!restart4, "once per drained queue")
    }

    @Test func smallRunsNeverRestart() {
        var watch = FetchStallWatch(queuedMaxKilobytes: 100, queuedMinMessages: 1_000)
        for _ in 0..<20 {
            for _ in 0..<200 { watch.took(bytes: 320) }  // 64,000 bytes, 200 messages
            let restart5 = watch.foundEmpty(waited: false)
            #expect(!restart5)
            let restart6 = watch.foundEmpty(waited: true)
            #expect(!restart6)
        }
    }

    @Test func manySmallMessagesCountToo() {
        var watch = FetchStallWatch(queuedMaxKilobytes: 65_536, queuedMinMessages: 1_000)
        for _ in 0..<950 { watch.took(bytes: 10) }
        let restart7 = watch.foundEmpty(waited: true)
        #expect(restart7, "queued.min.messages reached though the bytes were few")
    }
}
