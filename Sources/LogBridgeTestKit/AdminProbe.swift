import AsyncHTTPClient
import Foundation
import LogBridge
import NIOCore

/// What tests use to look at a gateway from outside: its admin endpoint, its `/metrics` read by
/// the Prometheus project's own Python parser, and a process's resident memory.
public enum AdminProbe {
    public struct Response: Sendable {
        public var status: Int
        public var body: String
    }

    /// `GET url`, answered or failed within 5 s; with `bearer`, as the holder of that admin token.
    public static func get(_ url: String, bearer: String? = nil) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 64 << 20)
        return Response(status: Int(response.status.code), body: String(buffer: body))
    }

    /// `GET url`, or nil while nothing answers (the process is starting).
    public static func tryGet(_ url: String) async -> Response? { try? await get(url) }

    public struct ParserUnavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses Prometheus text with `prometheus_client.parser` (the reference Python client, `pip
    /// install prometheus_client`, which `make test` installs): a format error fails the test.
    public static func parseWithReferenceParser(_ text: String) throws -> [PrometheusSample] {
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.stdin.read()):
                for s in family.samples:
                    print(json.dumps({"name": s.name, "labels": s.labels, "value": s.value, "type": family.type}))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Write on another thread: a large exposition would fill the pipe before python reads it all.
        let data = Data(text.utf8)
        let writer = Thread {
            input.fileHandleForWriting.write(data)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ParserUnavailable(description: "prometheus_client parser failed: \(String(decoding: err, as: UTF8.self))")
        }
        return try String(decoding: out, as: UTF8.self).split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let name = object["name"] as? String, let value = object["value"] as? Double
            else { throw ParserUnavailable(description: "unexpected parser output: \(line)") }
            return PrometheusSample(name: name, labels: object["labels"] as? [String: String] ?? [:], value: value)
        }
    }

    /// A TCP port nothing listens on right now (for a child process's `admin.listen`).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A process's resident memory (VmRSS), in bytes.
    public static func residentBytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }
}
