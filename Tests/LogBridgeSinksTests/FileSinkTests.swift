import Foundation
import LogBridgeCore
import LogBridgeSinks
import LogBridgeTestSupport
import Logging
import Testing

@Suite struct FileSinkTests {
    func batch(_ values: [String], from sequence: UInt64 = 0) -> RecordBatch {
        var batch = RecordBatch(topics: ["logs"])
        for (i, value) in values.enumerated() {
            let start = batch.bytes.count
            batch.bytes.append(contentsOf: value.utf8)
            batch.records.append(.init(
                sequence: sequence + UInt64(i), topicIndex: 0, partition: 2, offset: Int64(sequence) + Int64(i),
                timestampMs: 1_795_000_000_123, key: nil, value: start..<batch.bytes.count))
        }
        batch.nextSequence = sequence + UInt64(values.count)
        return batch
    }

    @Test func reopeningCutsTheFileBackToTheCommittedLength() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("out/events.ndjson")
        let sink = FileSink(name: "archive", configuration: FileSinkConfiguration(path: path), logger: Logger(label: "t"))
        try await sink.open(restoring: SinkCheckpoint(nextSequence: 0))
        let committed = try await sink.deliver(batch([#"{"a":1}"#, "plain text"])).state
        // Delivered but never committed (the process dies before the cursor moves).
        _ = try await sink.deliver(batch(["lost"], from: 2))
        await sink.close()

        let reopened = FileSink(name: "archive", configuration: FileSinkConfiguration(path: path), logger: Logger(label: "t"))
        try await reopened.open(restoring: SinkCheckpoint(nextSequence: 2, state: committed))
        _ = try await reopened.deliver(batch(["again"], from: 2))
        await reopened.close()

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0] == #"{"topic":"logs","partition":2,"offset":0,"timestamp":"2026-11-18T11:06:40.123Z","event":{"a":1}}"#)
        #expect(lines[1].hasSuffix(#""event":"plain text"}"#))
        #expect(lines[2].hasSuffix(#""event":"again"}"#))
    }

    /// Each line names its own record's topic (the envelope renders each topic's head once per
    /// batch), escaped as a JSON string; one record alone gives the same line.
    @Test func envelopeLinesNameEachRecordsTopic() throws {
        var mixed = RecordBatch(topics: ["logs", #"audit"trail\x"#])
        // Partitions and offsets of every width, the extremes and negative ones included.
        let positions: [(Int32, Int64)] = [(0, 0), (1, 1), (2, 2), (3, 3), (95, 9_223_372_036_854_775_807), (.min, .min), (-1, -10)]
        for (i, topic) in [0, 1, 1, 0, 0, 1, 0].enumerated() {
            let start = mixed.bytes.count
            mixed.bytes.append(contentsOf: #"{"n":\#(i)}"#.utf8)
            mixed.records.append(.init(
                sequence: UInt64(i), topicIndex: topic, partition: positions[i].0, offset: positions[i].1, timestampMs: -1, key: nil,
                value: start..<mixed.bytes.count))
        }
        let lines = String(decoding: RecordEncoding.envelope.encode(mixed), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines == [
            #"{"topic":"logs","partition":0,"offset":0,"event":{"n":0}}"#,
            #"{"topic":"audit\"trail\\x","partition":1,"offset":1,"event":{"n":1}}"#,
            #"{"topic":"audit\"trail\\x","partition":2,"offset":2,"event":{"n":2}}"#,
            #"{"topic":"logs","partition":3,"offset":3,"event":{"n":3}}"#,
            #"{"topic":"logs","partition":95,"offset":9223372036854775807,"event":{"n":4}}"#,
            #"{"topic":"audit\"trail\\x","partition":-2147483648,"offset":-9223372036854775808,"event":{"n":5}}"#,
            #"{"topic":"logs","partition":-1,"offset":-10,"event":{"n":6}}"#,
        ])
        for (i, record) in mixed.records.enumerated() {
            var one: [UInt8] = []
            RecordEncoding.envelope.append(record, of: mixed, to: &one)
            #expect(String(decoding: one, as: UTF8.self) == lines[i] + "\n")
        }
    }

    @Test func aSymlinkPlantedWhereTheFileWasIsRefusedAndItsTargetLeftAlone() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("out/events.ndjson")
        let configuration = FileSinkConfiguration(path: path)
        let sink = FileSink(name: "archive", configuration: configuration, logger: Logger(label: "t"))
        try await sink.open(restoring: SinkCheckpoint(nextSequence: 0))
        let committed = try await sink.deliver(batch(["first"])).state
        await sink.close()
        let created = try FileManager.default.attributesOfItem(atPath: directory.file("out"))[.posixPermissions] as? Int
        #expect(created.map { $0 & 0o027 == 0 } == true, "the directory it made is 0750 at most")

        // Someone with write access to the directory swaps the file for a link to another file.
        let target = directory.file("precious")
        try "keep me\n".write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        let reopened = FileSink(name: "archive", configuration: configuration, logger: Logger(label: "t"))
        do {
            try await reopened.open(restoring: SinkCheckpoint(nextSequence: 1, state: committed))
            Issue.record("a symbolic link was followed")
        } catch {
            #expect(error.message.contains(path))
            #expect(error.message.contains("symbolic link"))
            #expect(error.message.contains("follow_symlink"))
        }
        await reopened.close()
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me\n")

        // A link the operator declared is followed; /dev/ paths always are (/dev/stdout is a link).
        let declared = FileSink(
            name: "archive", configuration: FileSinkConfiguration(path: path, encoding: .raw, followSymlink: true),
            logger: Logger(label: "t"))
        try await declared.open(restoring: SinkCheckpoint(nextSequence: 1))
        _ = try await declared.deliver(batch(["appended"], from: 1))
        await declared.close()
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me\nappended\n")
        let stdout = FileSink(name: "out", configuration: FileSinkConfiguration(path: "/dev/stdout"), logger: Logger(label: "t"))
        try await stdout.open(restoring: SinkCheckpoint(nextSequence: 0))
        await stdout.close()
    }

    @Test func aFileRotatedAwayIsStartedAfresh() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.ndjson")
        let sink = FileSink(name: "archive", configuration: FileSinkConfiguration(path: path, encoding: .raw), logger: Logger(label: "t"))
        try await sink.open(restoring: SinkCheckpoint(nextSequence: 0))
        let state = try await sink.deliver(batch(["one", "two"])).state
        await sink.close()
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")

        let reopened = FileSink(name: "archive", configuration: FileSinkConfiguration(path: path, encoding: .raw), logger: Logger(label: "t"))
        try await reopened.open(restoring: SinkCheckpoint(nextSequence: 2, state: state))
        _ = try await reopened.deliver(batch(["three"], from: 2))
        await reopened.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "three\n")
        #expect(try String(contentsOfFile: path + ".1", encoding: .utf8) == "one\ntwo\n")
    }
}
