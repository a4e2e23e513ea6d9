import ArgumentParser
import AsyncHTTPClient
import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeSpool
import NIOCore

/// `logbridge status` (alias `top`): a live view of a running gateway, read from its admin
/// endpoint's `/metrics` every second: throughput in and out per sink, lag, spool use, retries and
/// dead letters, for the operator watching a cut-over.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Live view of a running gateway (throughput per sink, lag, spool, retries), from its admin endpoint.",
        aliases: ["top"])

    @Option(name: .long, help: "The gateway's admin endpoint (default: admin.listen of --config, else http://127.0.0.1:9180).")
    var admin: String?
    @Option(name: .long, help: "Seconds between refreshes.") var interval = 1.0
    @Option(name: .long, help: "Stop after this many refreshes (default: until interrupted).") var count: Int?
    @Flag(name: .long, help: "One JSON object per refresh instead of the screen (for scripts).") var json = false
    @Option(name: .long, help: "A file holding the endpoint's bearer token (admin.token); wins over --config.")
    var tokenFile: String?
    @Option(name: .long, help: "The gateway's configuration file: its admin section gives the token and the address.")
    var config: String?

    func run() async throws {
        let (admin, token) = try endpoint()
        let url = admin.hasSuffix("/") ? admin + "metrics" : admin + "/metrics"
        let interactive = !json && isatty(STDOUT_FILENO) != 0
        var previous: StatusSnapshot?
        var refreshes = 0
        while count.map({ refreshes < $0 }) ?? true {
            let current: StatusSnapshot
            do {
                let samples = try PrometheusText.parse(try await fetch(url, token: token))
                current = StatusSnapshot(samples: samples, at: .now)
            } catch {
                FileHandle.standardError.write(Data("logbridge status: \(url): \(error)\n".utf8))
                throw ExitCode(1)
            }
            if json {
                print(StatusView.json(current: current, previous: previous))
            } else {
                let screen = StatusView.render(previous: previous, current: current, adminURL: admin)
                // Clear the screen and home the cursor on a terminal; plain frames when piped.
                print(interactive ? "\u{1B}[H\u{1B}[2J" + screen : screen + "\n")
            }
            fflush(nil)
            previous = current
            refreshes += 1
            if count.map({ refreshes < $0 }) ?? true { try await Task.sleep(for: .seconds(interval)) }
        }
    }

    /// The endpoint's URL and token, from the options and the configuration's `admin:` section.
    private func endpoint() throws -> (url: String, token: String?) {
        var settings: AdminConfiguration?
        if let config {
            do {
                settings = try LogBridgeConfiguration.loadAdmin(path: config)
            } catch {
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(1)
            }
        }
        var token = settings?.token
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                FileHandle.standardError.write(Data("logbridge status: cannot read --token-file \(tokenFile)\n".utf8))
                throw ExitCode(1)
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let admin { return (admin, token) }
        if let address = settings?.address {
            // A wildcard bind is reached on the loopback address.
            let host = ["0.0.0.0", "::", ""].contains(address.host) ? "127.0.0.1" : address.host
            return ("http://\(host.contains(":") ? "[\(host)]" : host):\(address.port)", token)
        }
        return ("http://127.0.0.1:9180", token)
    }

    private func fetch(_ url: String, token: String?) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 64 << 20)
        if response.status == .unauthorized {
            throw StatusError(
                message: token == nil
                    ? "HTTP 401: the endpoint requires its token (admin.token): add --config FILE or --token-file FILE"
                    : "HTTP 401: the token was refused; check that it matches the gateway's admin.token")
        }
        guard response.status == .ok else { throw StatusError(message: "HTTP \(response.status.code)") }
        return String(buffer: body)
    }

    struct StatusError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

/// `logbridge spool ...`: the spool seen from outside the gateway (safe while it runs).
struct SpoolCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spool", abstract: "Inspect the spool.", subcommands: [Stats.self])

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print spool usage and each sink's backlog (safe while the gateway runs).")

        @Option(name: .long, help: "Path to the configuration file.") var config: String
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let loaded = try loadConfiguration(config)
            let spool = loaded.configuration.spool
            let stats: SpoolStats
            do {
                stats = try SpoolInspector(path: spool.path).stats()
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let age = stats.oldestTimestampMs.map { max(0, Double(now - $0) / 1000) }
            if json {
                var out = #"{"path":"# + JSONBytes.quoted(spool.path)
                out += #","used_bytes":\#(stats.usedBytes),"max_bytes":\#(spool.maxBytes),"file_bytes":\#(stats.fileBytes)"#
                out += #","used_fraction":\#(String(format: "%.4f", Double(stats.usedBytes) / Double(max(1, spool.maxBytes))))"#
                out += #","records":\#(stats.records),"dead_letters":\#(stats.deadLetters)"#
                out += #","dead_letter_bytes":\#(stats.deadLetterBytes),"dead_letter_max_bytes":\#(spool.deadLetterByteLimit),"next_sequence":\#(stats.nextSequence)"#
                out += #","oldest_record_age_s":\#(age.map { String(format: "%.1f", $0) } ?? "null"),"sinks":["#
                out += stats.sinks.map { #"{"name":\#(JSONBytes.quoted($0.name)),"cursor":\#($0.cursor),"backlog":\#($0.backlog)}"# }
                    .joined(separator: ",")
                out += "]}"
                print(out)
                return
            }
            let percent = 100 * Double(stats.usedBytes) / Double(max(1, spool.maxBytes))
            print("spool \(spool.path)")
            print("  used          \(ByteSize.format(stats.usedBytes)) of \(ByteSize.format(spool.maxBytes)) (\(String(format: "%.1f", percent))%), file \(ByteSize.format(stats.fileBytes))")
            print("  records       \(stats.records)  (next sequence \(stats.nextSequence))")
            print("  oldest        \(age.map { String(format: "%.0f s ago", $0) } ?? "-")")
            print("  dead letters  \(stats.deadLetters)  (\(ByteSize.format(stats.deadLetterBytes)) of \(ByteSize.format(spool.deadLetterByteLimit)))")
            print("  sinks (backlog = records not yet delivered):")
            let width = max(4, stats.sinks.map(\.name.count).max() ?? 4)
            for sink in stats.sinks {
                print("    \(sink.name.padding(toLength: width, withPad: " ", startingAt: 0))  backlog \(sink.backlog)  cursor \(sink.cursor)")
            }
        }
    }
}
