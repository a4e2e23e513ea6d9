import Foundation
import LogBridgeCore
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgeSinks
import Logging
import ServiceLifecycle
import Synchronization

/// Runs the sink runners and swaps them for new ones on a configuration reload.
///
/// A swap asks every current runner to stop after its batches in flight (``SinkRunner/stopAfterInFlight()``),
/// waits for them, then starts the new runners, which continue from the committed cursors. On
/// graceful shutdown the runners drain the spool themselves (up to `shutdown_timeout`).
final class SinkSupervisor: Service, Sendable {
    private struct State {
        var runners: [SinkRunner]
        /// Runners waiting to be started, with the continuation told once they run.
        var replacement: (runners: [SinkRunner], started: CheckedContinuation<Void, Never>)?
        var listener: CheckedContinuation<[SinkRunner]?, Never>?
        var listenerEnded = false
        var finished = false
    }
    private enum Event: Sendable {
        case runnerEnded
        case replacement([SinkRunner])
        case listenerEnded
    }
    private let state: Mutex<State>
    private let logger: Logger

    init(runners: [SinkRunner], logger: Logger) {
        state = Mutex(State(runners: runners))
        self.logger = logger
    }

    var runners: [SinkRunner] { state.withLock { $0.runners } }

    func run() async throws {
        defer { finishReplacement(finished: true)?.resume() }
        var current = runners
        while true {
            let next: [SinkRunner]? = try await withThrowingTaskGroup(of: Event.self) { group in
                for runner in current {
                    group.addTask {
                        try await runner.run()
                        return .runnerEnded
                    }
                }
                group.addTask { await self.nextReplacement().map { .replacement($0) } ?? .listenerEnded }
                var running = current.count
                var listening = true
                var replacement: [SinkRunner]?
                while running > 0 || listening, let event = try await group.next() {
                    switch event {
                    case .runnerEnded:
                        running -= 1
                        // Every runner ended on its own (graceful shutdown): stop listening.
                        if running == 0 && listening { group.cancelAll() }
                    case .replacement(let runners):
                        listening = false
                        replacement = runners
                        // Hand over: the current runners finish their batches in flight and return.
                        for runner in current { runner.stopAfterInFlight() }
                    case .listenerEnded:
                        listening = false
                    }
                }
                return replacement
            }
            guard let next else { return }
            current = next
            state.withLock { $0.runners = next }
            logger.info("sinks restarted with the new configuration", metadata: ["sinks": "\(next.count)"])
            finishReplacement(finished: false)?.resume()
        }
    }

    /// Replaces the running sinks; returns once the new runners are started (or the gateway ended).
    func replace(with runners: [SinkRunner]) async {
        await withCheckedContinuation { (started: CheckedContinuation<Void, Never>) in
            let outcome = state.withLock { state -> (accepted: Bool, listener: CheckedContinuation<[SinkRunner]?, Never>?) in
                guard !state.finished, state.replacement == nil else { return (false, nil) }
                state.replacement = (runners, started)
                defer { state.listener = nil }
                return (true, state.listener)
            }
            if outcome.accepted {
                outcome.listener?.resume(returning: runners)
            } else {
                started.resume()
            }
        }
    }

    private func finishReplacement(finished: Bool) -> CheckedContinuation<Void, Never>? {
        state.withLock { state in
            if finished { state.finished = true }
            defer { state.replacement = nil }
            return state.replacement?.started
        }
    }

    /// Waits for a replacement; nil on graceful shutdown or cancellation.
    private func nextReplacement() async -> [SinkRunner]? {
        await withTaskCancellationOrGracefulShutdownHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[SinkRunner]?, Never>) in
                let immediate = state.withLock { state -> [SinkRunner]?? in
                    if let runners = state.replacement?.runners { return .some(runners) }
                    if state.listenerEnded { return .some(nil) }
                    state.listener = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancelOrGracefulShutdown: {
            self.state.withLock { state in
                state.listenerEnded = true
                defer { state.listener = nil }
                return state.listener
            }?.resume(returning: nil)
        }
    }
}

/// Runs the Kafka source's poll thread, and replaces the source when a reload changes `source:`
/// (the old one commits its offsets and leaves the group before the new one joins).
final class SourceSupervisor: Service, Sendable {
    private struct State {
        var source: KafkaSource
        var replacement: (source: KafkaSource, started: CheckedContinuation<Void, Never>)?
        var finished = false
    }
    private let state: Mutex<State>
    private let stopDeadline: StopDeadline
    private let shutdownTimeout: Duration
    private let logger: Logger

    init(source: KafkaSource, stopDeadline: StopDeadline, shutdownTimeout: Duration, logger: Logger) {
        state = Mutex(State(source: source))
        self.stopDeadline = stopDeadline
        self.shutdownTimeout = shutdownTimeout
        self.logger = logger
    }

    var current: KafkaSource { state.withLock { $0.source } }

    /// How long the source may take to commit and leave the group: half of `shutdown_timeout`
    /// (the sinks' drain gets the rest), at most 10 s (a reachable coordinator answers within
    /// milliseconds; waiting longer only delays the restart) and at least 1 s.
    var leaveTimeout: Duration { max(.seconds(1), min(.seconds(10), shutdownTimeout / 2)) }

    func run() async throws {
        var source = current
        defer {
            let pending = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.finished = true
                defer { state.replacement = nil }
                return state.replacement?.started
            }
            pending?.resume()
        }
        while true {
            try source.start()
            var replaced: KafkaSource?
            let running = source
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await gracefulShutdown() }
                group.addTask {
                    // librdkafka reports fatal errors asynchronously; surface them as a failed service.
                    while !Task.isCancelled, running.fatalError == nil {
                        if self.state.withLock({ $0.replacement != nil }) { return }
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
                await group.next()
                group.cancelAll()
            }
            if !Task.isShuttingDownGracefully, source.fatalError == nil {
                replaced = state.withLock { $0.replacement?.source }
            }
            if replaced == nil {
                // The gateway stops: the source leaves first, the sinks drain after it, all by
                // one deadline.
                stopDeadline.begin(timeout: shutdownTimeout)
            }
            // stop() blocks while the final offsets are committed: keep it off the cooperative pool.
            await Self.stopOffPool(source, within: leaveTimeout)
            if let fatal = source.fatalError { throw fatal }
            guard let next = replaced else { return }
            source = next
            let started = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.source = next
                defer { state.replacement = nil }
                return state.replacement?.started
            }
            logger.info("Kafka source restarted with the new configuration")
            started?.resume()
        }
    }

    /// Replaces the source; returns once the new one has started (or the gateway ended).
    func replace(with source: KafkaSource) async {
        await withCheckedContinuation { (started: CheckedContinuation<Void, Never>) in
            let accepted = state.withLock { state -> Bool in
                guard !state.finished else { return false }
                state.replacement = (source, started)
                return true
            }
            if !accepted {
                let timeout = leaveTimeout
                Task.detached { await Self.stopOffPool(source, within: timeout) }
                started.resume()
            }
        }
    }

    private static func stopOffPool(_ source: KafkaSource, within timeout: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            startNamedThread("lb-kafka-stop") {
                source.stop(within: timeout)
                continuation.resume()
            }
        }
    }
}
