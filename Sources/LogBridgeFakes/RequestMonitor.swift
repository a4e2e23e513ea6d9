import Foundation
import LogBridgeCore
import Synchronization

/// What a benchmark or chaos harness wants to know about the requests a fake served, whatever its
/// protocol: requests per wall-clock second (is the forwarder's retrying bounded, or a storm?) and,
/// when `probeLatency` is on, the end-to-end latency of every record in every request body.
///
/// Latency: records produced by `logbridge mock-cluster`'s `pace` command carry their production
/// time in `date` as epoch seconds with six decimals. The probe finds each `date` key in the
/// (inflated) body however the sink framed the record (a bulk document, a HEC event object, a Loki
/// line with escaped quotes), reads the stamp and records arrival minus stamp. Producer and fake run
/// on the same machine, so their wall clocks agree.
public final class RequestMonitor: Sendable {
    /// The monitor every `FakeHTTPServer` in this process reports to.
    public static let shared = RequestMonitor()

    private struct State {
        var probeLatency = false
        var perSecond: [Int: Int] = [:]
        /// Latency histogram, 1 ms buckets; the last bucket holds everything slower.
        var histogram = [Int](repeating: 0, count: 120_001)
        var samples = 0
    }

    private let state = Mutex(State())

    public var probeLatency: Bool {
        get { state.withLock { $0.probeLatency } }
        set { state.withLock { $0.probeLatency = newValue } }
    }

    func observe(_ request: FakeHTTPServer.Request) {
        let now = Date().timeIntervalSince1970
        let probe = state.withLock { state in
            state.perSecond[Int(now), default: 0] += 1
            return state.probeLatency
        }
        guard probe else { return }
        var body = request.body
        if request.header("Content-Encoding")?.lowercased() == "gzip", let inflated = Gzip.decompress(body) {
            body = inflated
        }
        let nowMicros = Int64(now * 1e6)
        var latencies: [Int] = []
        body.withUnsafeBytes { bytes in
            Self.forEachStamp(in: bytes) { micros in
                latencies.append(Int(max(0, nowMicros - micros) / 1000))
            }
        }
        guard !latencies.isEmpty else { return }
        state.withLock { state in
            for ms in latencies { state.histogram[min(ms, state.histogram.count - 1)] += 1 }
            state.samples += latencies.count
        }
    }

    /// Calls `body` with each `date` stamp (seconds.micros, 10 + 6 digits) in `bytes`, skipping the
    /// key's closing quote however escaped (`"date":`, `\"date\":`) and one space after the colon.
    public static func forEachStamp(in bytes: UnsafeRawBufferPointer, _ body: (Int64) -> Void) {
        let count = bytes.count
        var i = 0
        while i + 4 < count {
            // The key starts right after its opening quote (escaped or not): `"date`, not `"update`.
            guard bytes[i] == UInt8(ascii: "d"), bytes[i + 1] == UInt8(ascii: "a"), bytes[i + 2] == UInt8(ascii: "t"),
                bytes[i + 3] == UInt8(ascii: "e"), i > 0, bytes[i - 1] == UInt8(ascii: "\"")
            else {
                i += 1
                continue
            }
            // The key's closing quote, escaped once or twice inside a string: `"`, `\"`, `\\\"`.
            var j = i + 4
            while j < count, j - i < 10, bytes[j] == UInt8(ascii: "\"") || bytes[j] == UInt8(ascii: "\\") { j += 1 }
            guard j > i + 4, j < count, bytes[j] == UInt8(ascii: ":") else {
                i += 4
                continue
            }
            j += 1
            if j < count, bytes[j] == UInt8(ascii: " ") { j += 1 }
            var micros: Int64 = 0
            var digits = 0
            var fraction = -1
            while j < count {
                let byte = bytes[j]
                if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    micros = micros * 10 + Int64(byte - UInt8(ascii: "0"))
                    digits += 1
                    if fraction >= 0 { fraction += 1 }
                } else if byte == UInt8(ascii: "."), fraction < 0 {
                    fraction = 0
                } else {
                    break
                }
                j += 1
            }
            if digits == 16, fraction == 6 { body(micros) }
            i = j
        }
    }

    /// The busiest wall-clock second's request count.
    public var maxRequestsPerSecond: Int { state.withLock { $0.perSecond.values.max() ?? 0 } }

    /// Records whose latency was measured, and their 50th and 99th percentiles in milliseconds.
    public var latency: (samples: Int, p50: Int, p99: Int, max: Int) {
        state.withLock { state in
            guard state.samples > 0 else { return (0, 0, 0, 0) }
            func percentile(_ p: Double) -> Int {
                let rank = Int((Double(state.samples) * p).rounded(.up))
                var seen = 0
                for (ms, n) in state.histogram.enumerated() {
                    seen += n
                    if seen >= rank { return ms }
                }
                return state.histogram.count - 1
            }
            let slowest = state.histogram.lastIndex { $0 > 0 } ?? 0
            return (state.samples, percentile(0.5), percentile(0.99), slowest)
        }
    }

    /// One line for a harness: `max_rps=N latency_samples=N p50_ms=N p99_ms=N max_ms=N`.
    public var summary: String {
        let l = latency
        return "max_rps=\(maxRequestsPerSecond) latency_samples=\(l.samples) p50_ms=\(l.p50) p99_ms=\(l.p99) max_ms=\(l.max)"
    }
}
