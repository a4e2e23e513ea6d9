import Foundation
import LogBridgeCore
import Prometheus
import Synchronization

/// The standard `process_*` metrics Prometheus client libraries export (resident memory, CPU
/// time, open files, start time), read from `/proc/self` at scrape time. swift-prometheus does not
/// ship them, and operators' dashboards and alerts expect these names.
public enum ProcessMetrics {
    /// Registers the collector on `statistics`; `version` goes into `logbridge_build_info`.
    public static func register(on statistics: GatewayStatistics, version: String) {
        let registry = statistics.registry
        registry.makeGauge(name: "logbridge_build_info", labels: [("version", version)], help: "Always 1; the version in a label.")
            .set(Int64(1))
        let resident = registry.makeGauge(name: "process_resident_memory_bytes", help: "Resident memory size in bytes.")
        let virtual = registry.makeGauge(name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.")
        let openFiles = registry.makeGauge(name: "process_open_fds", help: "Open file descriptors.")
        let started = registry.makeGauge(name: "process_start_time_seconds", help: "Start time of the process since the epoch, in seconds.")
        let cpu = registry.makeCounter(name: "process_cpu_seconds_total", help: "User and system CPU time spent, in seconds.")
        let reported = Mutex<Double>(0)
        if let start = startTime() { started.set(start) }
        statistics.metrics.addCollector("process") {
            guard let sample = sample() else { return }
            resident.set(Int64(sample.residentBytes))
            virtual.set(Int64(sample.virtualBytes))
            openFiles.set(Int64(sample.openFiles))
            // A counter only goes up: add what was spent since the last scrape.
            let delta = reported.withLock { last -> Double in
                let delta = max(0, sample.cpuSeconds - last)
                last = max(last, sample.cpuSeconds)
                return delta
            }
            if delta > 0 { cpu.increment(by: delta) }
        }
    }

    public struct Sample: Sendable {
        public var residentBytes: Int
        public var virtualBytes: Int
        public var cpuSeconds: Double
        public var openFiles: Int
    }

    /// This process's memory and CPU use now; nil where `/proc` is missing.
    public static func sample() -> Sample? {
        guard let stat = statFields() else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        // Fields after the command name, counted from 3 (`state`) as in proc(5).
        func field(_ number: Int) -> Double { Double(stat[number - 3]) ?? 0 }
        let openFiles = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return Sample(
            residentBytes: Int(field(24)) * pageSize, virtualBytes: Int(field(23)),
            cpuSeconds: (field(14) + field(15)) / ticks, openFiles: openFiles)
    }

    /// `/proc/self/stat` after the `(comm)` field, which may itself hold spaces.
    private static func statFields() -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        return fields.count > 22 ? fields : nil
    }

    /// The start tick in `/proc/self/stat` counts from boot (suspend included). The boot time is
    /// taken from the clocks rather than `/proc/stat`'s `btime`: the systemd unit's `ProcSubset=pid`
    /// hides every `/proc` file but the processes'.
    private static func startTime() -> Double? {
        guard let stat = statFields(), let startTicks = Double(stat[22 - 3]) else { return nil }
        var realtime = timespec(), sinceBoot = timespec()
        guard clock_gettime(CLOCK_REALTIME, &realtime) == 0, clock_gettime(CLOCK_BOOTTIME, &sinceBoot) == 0 else { return nil }
        func seconds(_ t: timespec) -> Double { Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }
        let boot = seconds(realtime) - seconds(sinceBoot)
        return boot + startTicks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
