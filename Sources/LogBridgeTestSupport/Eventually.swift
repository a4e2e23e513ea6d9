/// Waits until `condition` holds or `timeout` passes, checking every `interval`; returns whether
/// it held.
///
/// Tests wait for what they expect to happen rather than sleeping a guessed time: a sleep that is
/// long enough on an idle machine is too short on a loaded one (the suite shares 2 cores), and
/// needlessly long everywhere else.
@discardableResult
public func eventually(
    timeout: Duration = .seconds(30), interval: Duration = .milliseconds(20), isolation: isolated (any Actor)? = #isolation,
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
