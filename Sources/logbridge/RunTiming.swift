import Foundation
import LogBridge
import LogBridgeCore

/// Timings of a run that stops after a known number of records (`run --until-delivered N`).
struct RunTiming {
    var consumed = 0
    var spooled = 0
    var delivered = 0
    /// Seconds from start until the first record was fetched (group join, assignment).
    var firstRecord: Double?
    /// Seconds from start until N records were in the spool.
    var allSpooled: Double?
    /// Seconds from start until every sink had delivered N records.
    var allDelivered: Double?
    var elapsed = 0.0

    var json: String {
        func number(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "null" }
        return """
            {"consumed":\(consumed),"spooled":\(spooled),"delivered":\(delivered),"first_record_s":\(number(firstRecord)),\
            "spooled_s":\(number(allSpooled)),"delivered_s":\(number(allDelivered)),"elapsed_s":\(number(elapsed))}
            """
    }

    /// Runs the gateway until every sink delivered `target` records, then shuts it down gracefully.
    static func measure(gateway: Gateway, sinks: [String], target: Int) async throws -> RunTiming {
        let start = ContinuousClock.now
        let statistics = gateway.statistics
        let timing = try await withThrowingTaskGroup(of: RunTiming?.self) { group in
            group.addTask {
                try await gateway.serviceGroup.run()
                return nil
            }
            group.addTask {
                // The counters are polled every 5 ms from a thread of its own, not from a task
                // that sleeps: each `Task.sleep` arms a Dispatch timer, and 200 of them a second
                // cost the Swift pool more CPU than some of the stages the bench measures.
                let stop = OnceFlag()
                let timing: RunTiming? = await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<RunTiming?, Never>) in
                        startNamedThread("lb-run-timing") {
                            var timing = RunTiming()
                            func now() -> Double { (ContinuousClock.now - start).secondsDouble }
                            while !stop.isSet {
                                if timing.firstRecord == nil, statistics.source.consumed.value > 0 { timing.firstRecord = now() }
                                if timing.allSpooled == nil, statistics.spool.spooled.value >= target { timing.allSpooled = now() }
                                if sinks.allSatisfy({ statistics.sink($0).delivered.value >= target }) {
                                    timing.allDelivered = now()
                                    continuation.resume(returning: timing)
                                    return
                                }
                                usleep(5_000)
                            }
                            continuation.resume(returning: nil)
                        }
                    }
                } onCancel: {
                    stop.set()
                }
                guard let timing else { return nil }
                await gateway.serviceGroup.triggerGracefulShutdown()
                return timing
            }
            var result = RunTiming()
            for try await value in group { if let value { result = value } }
            return result
        }
        var final = timing
        final.consumed = statistics.source.consumed.value
        final.spooled = statistics.spool.spooled.value
        final.delivered = sinks.map { statistics.sink($0).delivered.value }.min() ?? 0
        final.elapsed = (ContinuousClock.now - start).secondsDouble
        return final
    }
}
