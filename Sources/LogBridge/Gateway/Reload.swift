import Foundation
import LogBridgeCore
import Logging
import Synchronization
import UnixSignals

/// Why a configuration reload was refused; the running configuration stays in force.
public struct ReloadError: Error, CustomStringConvertible, Sendable {
    public var problems: [String]
    public init(problems: [String]) { self.problems = problems }
    public var description: String { "configuration not reloaded: " + problems.joined(separator: "; ") }

    /// The changes a running gateway cannot apply in place.
    static func restartOnlyChanges(from old: LogBridgeConfiguration, to new: LogBridgeConfiguration) -> [String] {
        var problems: [String] = []
        if old.spool != new.spool {
            problems.append("spool: changing the spool's path or sizes needs a restart")
        }
        let (oldSinks, newSinks) = (Set(old.sinks.map(\.name)), Set(new.sinks.map(\.name)))
        if oldSinks != newSinks {
            let added = newSinks.subtracting(oldSinks).sorted(), removed = oldSinks.subtracting(newSinks).sorted()
            problems.append(
                "sinks: adding or removing sinks needs a restart (the spool keeps a cursor per sink; added: "
                    + "\(added.isEmpty ? "none" : added.joined(separator: ",")), removed: \(removed.isEmpty ? "none" : removed.joined(separator: ",")))")
        }
        // The rest of `admin:` (token, limits) applies in place: a rotated token needs no restart.
        if old.admin.listen != new.admin.listen { problems.append("admin.listen: moving the admin endpoint needs a restart") }
        if old.log.format != new.log.format { problems.append("log.format: needs a restart (log.level reloads)") }
        return problems
    }
}

/// SIGHUP reloads the configuration file (`systemctl reload logbridge`, the Helm chart's config
/// watcher): the new file is loaded and checked like `logbridge check`, then applied with
/// ``Gateway/reload(_:)``; a file with errors is logged with every problem and the running
/// configuration is kept. Reloads run one at a time; a signal during a reload runs one more after it.
enum ConfigurationReloader {
    private struct State {
        var running = false
        var again = false
    }
    private static let state = Mutex(State())

    /// Reloads `gateway` on each SIGHUP; the listener ends with the first signal after the
    /// gateway is gone.
    static func watch(gateway: Gateway, path: String, logger: Logger) {
        // Ignored at once: the listener below starts in a task, and a SIGHUP before it is set up
        // would otherwise end the process (the default action). The listener still receives it.
        signal(SIGHUP, SIG_IGN)
        Task.detached { [weak gateway] in
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                guard let gateway else { return }
                // A task per signal, so a signal during a reload sets `again` instead of queueing
                // one reload per signal.
                Task { await reload(gateway: gateway, path: path, logger: logger) }
            }
        }
    }

    static func reload(gateway: Gateway, path: String, logger: Logger) async {
        let start = state.withLock { state -> Bool in
            if state.running {
                state.again = true
                return false
            }
            state.running = true
            return true
        }
        guard start else { return }
        repeat {
            logger.notice("SIGHUP: reloading the configuration", metadata: ["config": "\(path)"])
            do {
                let loaded = try LogBridgeConfiguration.load(path: path)
                for warning in loaded.warnings {
                    logger.warning("configuration: \(warning)", metadata: ["config": "\(path)"])
                }
                try await gateway.reload(loaded.configuration)
            } catch let error as ReloadError {
                logger.error("\(error.description)", metadata: ["config": "\(path)"])
            } catch {
                gateway.statistics.configReloadFailures.add(1)
                logger.error(
                    "configuration not reloaded; the running configuration is kept",
                    metadata: ["config": "\(path)", "errors": "\(error)"])
            }
        } while state.withLock({ state -> Bool in
            let again = state.again
            state.again = false
            state.running = again
            return again
        })
    }
}

/// The log level every handler bootstrapped by ``bootstrapLogging(_:)`` reads, so a reload can
/// change it for loggers that already exist.
public enum LogLevelControl {
    private static let level = Atomic<Int>(Logger.Level.info.index)

    public static func set(_ newLevel: Logger.Level) { level.store(newLevel.index, ordering: .relaxed) }
    public static var current: Logger.Level { Logger.Level.allCases[level.load(ordering: .relaxed)] }
}

extension Logger.Level {
    fileprivate var index: Int { Self.allCases.firstIndex(of: self) ?? 2 }
}
