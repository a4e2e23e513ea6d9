import Foundation
import LogBridgeCore
import Logging
import UnixSignals

/// A second SIGTERM or SIGINT during a graceful stop ends the process at once, and so does a stop
/// that overruns its bound by far: an operator's second Ctrl-C, or a restart during an outage, is
/// never left waiting.
///
/// The service group starts the graceful stop on the first signal and listens no further (its
/// listener ends with the first signal while the signals stay trapped, so a second one used to be
/// ignored). This is a second listener on the same signals.
enum SignalEscalation {
    /// Watches SIGTERM and SIGINT for the life of the process.
    /// - Parameter stopBound: how long a stop may run after the first signal before the process
    ///   ends anyway (well past `shutdown_timeout`, which bounds every stage of a normal stop).
    static func watch(stopBound: Duration, logger: Logger) {
        Task.detached {
            var signals = await UnixSignalsSequence(trapping: .sigterm, .sigint).makeAsyncIterator()
            guard let first = await signals.next() else { return }
            startNamedThread("lb-stop-watchdog") {
                Thread.sleep(forTimeInterval: stopBound.secondsDouble)
                logger.critical(
                    "the stop did not end within its bound; exiting now (the spool is consistent: LMDB commits are atomic)",
                    metadata: ["bound_s": "\(stopBound.milliseconds / 1000)", "signal": "\(first)"])
                exitNow(1)
            }
            guard let second = await signals.next() else { return }
            logger.warning(
                "second \(second) during the stop: exiting now; the spool is consistent (LMDB commits are atomic) and what was not delivered is delivered after the restart")
            exitNow(128 + second.rawValue)
        }
    }

    /// Ends the process without running exit handlers: threads still inside librdkafka or a
    /// sink's TLS stack must not race the libraries' own teardown.
    static func exitNow(_ status: Int32) -> Never {
        fflush(nil)
        _exit(status)
    }
}
