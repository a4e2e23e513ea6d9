/// Waits until `condition` holds or `timeout` of this waiter's running time passes, checking
/// every `interval`; returns whether it held.
///
/// Tests wait for what they expect to happen rather than sleeping a guessed time: a sleep that is
/// long enough on an idle machine is too short on a loaded one (the suite shares 2 cores), and
/// needlessly long everywhere else.
///
/// The timeout is not a wall-clock deadline. `swift test` runs every suite at once on the
/// cooperative pool, which has one thread per core, and CPU-bound tests (fuzzing, property tests,
/// corpora) can hold both threads for tens of seconds: CI once saw every test in the process
/// stall for 26 s at start-up, so a 20 s deadline expired before either the waiter or the code
/// under test ran again. Here each poll counts at most `4 * interval` toward `timeout`, so a stall
/// of the whole process does not use it up, while a condition that never holds still fails after
/// `timeout` of polling. `ceiling` (default: four times `timeout`) bounds the wall-clock wait.
@discardableResult
public func eventually(
    timeout: Duration = .seconds(30), interval: Duration = .milliseconds(20), ceiling: Duration? = nil,
    isolation: isolated (any Actor)? = #isolation, _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let clock = ContinuousClock()
    let wallDeadline = clock.now + (ceiling ?? timeout * 4)
    var waited = Duration.zero
    while waited < timeout, clock.now < wallDeadline, !Task.isCancelled {
        if try await condition() { return true }
        let before = clock.now
        try? await Task.sleep(for: interval)
        waited += min(clock.now - before, interval * 4)
    }
    return try await condition()
}
