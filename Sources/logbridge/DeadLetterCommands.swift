import ArgumentParser
import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeSpool
import Logging

/// `logbridge dlq`: the records set aside with a reason (rejected by a sink, oversize, corrupt).
struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect, replay or purge the dead-letter store.",
        subcommands: [List.self, Replay.self, Purge.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List dead letters as JSON lines (safe while the gateway runs).")

        @Option(name: .long, help: "Path to the configuration file.") var config: String
        @Option(name: .long, help: "Only those of this sink (or 'source' for records refused on the way in).") var sink: String?
        @Option(name: .long, help: "At most this many, oldest first.") var limit = 1000
        @Flag(name: .long, help: "Include each record's payload (only its first bytes when truncated).") var payload = false

        func run() throws {
            let loaded = try loadConfiguration(config)
            let letters: [DeadLetter]
            do {
                letters = try SpoolInspector(path: loaded.configuration.spool.path).deadLetters(stage: sink, limit: limit)
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
            for letter in letters {
                var out: [UInt8] = Array(#"{"stage":"#.utf8)
                JSONBytes.appendString(letter.stage, to: &out)
                out += Array(#","status":"#.utf8)
                JSONBytes.appendString(letter.status, to: &out)
                out += Array(#","reason":"#.utf8)
                JSONBytes.appendString(letter.reason, to: &out)
                out += Array(#","topic":"#.utf8)
                JSONBytes.appendString(letter.topic, to: &out)
                out += Array(#","partition":\#(letter.partition),"offset":\#(letter.offset),"dead_lettered_at":""#.utf8)
                Timestamp.appendRFC3339(millis: letter.deadLetteredAtMs, to: &out)
                // `bytes` stays the record's size, as before the caps; `payload_bytes` is what the
                // store kept (and `--payload` prints), only a prefix when `truncated`.
                out += Array(#"","bytes":\#(letter.originalSize),"payload_bytes":\#(letter.payload.count),"truncated":\#(letter.isTruncated)"#.utf8)
                if payload {
                    out += Array(#","payload":"#.utf8)
                    letter.payload.withUnsafeBytes { _ = JSONBytes.appendString($0, to: &out) }
                }
                out.append(UInt8(ascii: "}"))
                print(String(decoding: out, as: UTF8.self))
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead letters again, each to the sink that rejected it (run with the gateway stopped).",
            discussion: """
                The letters move from the dead-letter store back into the spool in one transaction, \
                marked for their sink only; the gateway delivers them when it starts. Letters refused \
                on the way in (stage 'source') or quarantined by the spool are not replayed, nor are \
                truncated ones ("truncated":true in dlq list): their payload is only the record's \
                first bytes. They stay in the store until purged.
                """)

        @Option(name: .long, help: "Path to the configuration file.") var config: String
        @Option(name: .long, help: "Only the letters of this sink.") var sink: String?
        @Option(name: .long, help: "At most this many, oldest first.") var limit = Int.max

        func run() async throws {
            let loaded = try loadConfiguration(config)
            let sinks = Set(loaded.configuration.sinks.map(\.name))
            if let sink, !sinks.contains(sink) {
                fail("no sink '\(sink)' in \(config) (sinks: \(sinks.sorted().joined(separator: ", ")))")
            }
            let result = try await withWritableSpool(loaded.configuration) { spool throws(SpoolError) in
                try await spool.replayDeadLetters(sink: sink, sinks: sinks, limit: limit)
            }
            let count = result.handled
            print("replayed \(count) dead letter\(count == 1 ? "" : "s")\(sink.map { " for sink \($0)" } ?? ""); they are delivered when the gateway starts")
            if result.keptTruncated > 0 {
                let kept = result.keptTruncated
                print("""
                    kept \(kept) truncated dead letter\(kept == 1 ? "" : "s") (only a prefix of the record was stored, so it \
                    cannot be sent as the original): see them with logbridge dlq list --config FILE, \
                    re-send the originals from their source, then logbridge dlq purge
                    """)
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete dead letters for good (run with the gateway stopped).")

        @Option(name: .long, help: "Only the letters of this sink (or 'source').") var sink: String?
        @Option(name: .long, help: "Path to the configuration file.") var config: String
        @Flag(name: .long, help: "Delete the letters of every stage (required without --sink).") var all = false
        @Option(name: .long, help: "At most this many, oldest first.") var limit = Int.max

        func run() async throws {
            guard sink != nil || all else { fail("name the letters to delete: --sink NAME, or --all") }
            let loaded = try loadConfiguration(config)
            let count = try await withWritableSpool(loaded.configuration) { spool throws(SpoolError) in
                try await spool.purgeDeadLetters(stage: sink, limit: limit)
            }
            print("purged \(count) dead letter\(count == 1 ? "" : "s")")
        }
    }
}

/// Opens the spool for writing (the gateway must be stopped: the spool has one writer), runs
/// `body` and closes it.
private func withWritableSpool<T: Sendable>(
    _ configuration: LogBridgeConfiguration, _ body: (Spool) async throws(SpoolError) -> T
) async throws -> T {
    var logger = Logger(label: "logbridge")
    logger.logLevel = .warning
    let spool: Spool
    do {
        spool = try Spool(configuration: configuration.spool, sinks: configuration.sinks.map(\.name), statistics: SpoolStatistics(), logger: logger)
    } catch .lockedByAnotherProcess(let path) {
        fail("the spool at \(path) is in use: stop the gateway first (systemctl stop logbridge), then run this again")
    } catch {
        fail("\(error)")
    }
    defer { spool.close() }
    do {
        return try await body(spool)
    } catch {
        fail("\(error)")
    }
}

private func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("logbridge: \(message)\n".utf8))
    Foundation.exit(1)
}
