import LogBridgeCore

/// `logbridge pipeline test`: newline-delimited events in, processed events out, in order, with
/// no Kafka and no spool. The lines go through the very ``SinkPipeline`` the gateway runs, in
/// windows like the spool's, so what operators see here is what the sinks will get.
public final class PipelineDryRun {
    /// Something for standard output (an event) or standard error (a note about an input line).
    public enum Result: Equatable {
        case event([UInt8])
        case note(line: Int, String)
    }

    private let pipeline: SinkPipeline
    private let window: Int
    private var pending: [(line: Int, bytes: [UInt8])] = []
    private var reportedText = false
    private var eventTime: EventTimeResolver

    private let topic: String

    /// - Parameters:
    ///   - window: lines processed together (a CRI line may span windows).
    ///   - topic: the topic the lines pretend to come from (`%kafka.topic`); partition 0, the
    ///     line number as offset.
    public init(pipeline: SinkPipeline, window: Int = 1000, topic: String = "stdin") {
        self.pipeline = pipeline
        self.topic = topic
        self.window = max(window, 1)
        eventTime = pipeline.eventTimeFields.makeResolver()
    }

    /// Adds input line `number` (1-based); emits whatever became ready.
    public func add(_ bytes: [UInt8], line number: Int, _ emit: (Result) -> Void) {
        if !reportedText, !Self.startsObject(bytes) {
            // Once: text input (CSV, syslog) is legitimate, and a note per line would bury the rest.
            reportedText = true
            emit(.note(line: number, "not a JSON object; processed as text in 'message' (further text lines are not reported)"))
        }
        pending.append((number, bytes))
        if pending.count >= window { run(flush: false, emit) }
    }

    /// Processes what is left, joining or flushing any unfinished CRI line.
    public func finish(_ emit: (Result) -> Void) {
        while !pending.isEmpty { run(flush: true, emit) }
    }

    private func run(flush: Bool, _ emit: (Result) -> Void) {
        var bytes: [UInt8] = []
        var records: [RecordBatch.Record] = []
        for entry in pending {
            let start = bytes.count
            bytes.append(contentsOf: entry.bytes)
            records.append(RecordBatch.Record(
                sequence: UInt64(entry.line), topicIndex: 0, partition: 0, offset: Int64(entry.line), timestampMs: -1, key: nil,
                value: start..<bytes.count))
        }
        let batch = RecordBatch(topics: [topic], bytes: bytes, records: records)
        let output = pipeline.process(batch, flush: flush)
        var failures: [Int: String] = [:]
        for failure in output.failures { failures[Int(batch.records[failure.recordIndex].sequence)] = failure.message }
        // The line number is the sequence: where each output event's input record is.
        let inputIndex = Dictionary(batch.records.enumerated().map { ($1.sequence, $0) }, uniquingKeysWith: { a, _ in a })
        for record in output.batch.records {
            if let message = failures[Int(record.sequence)] { emit(.note(line: Int(record.sequence), message)) }
            emit(.note(line: Int(record.sequence), describeTime(record, input: inputIndex[record.sequence].map { (batch, $0) })))
            emit(.event(Array(output.batch.bytes[record.value])))
        }
        let cut = output.batch.nextSequence
        pending.removeAll { UInt64($0.line) < cut }
    }

    /// `event time 2025-11-20T10:00:00.123Z (from @timestamp)`: what the sinks would use, and why.
    private func describeTime(_ record: RecordBatch.Record, input: (batch: RecordBatch, index: Int)?) -> String {
        guard record.timestampMs >= 0 else {
            return "event time: none in the record (\(fieldList)); the Kafka message timestamp would be used"
        }
        let time = Timestamp.rfc3339(millis: record.timestampMs)
        guard let input else { return "event time \(time)" }
        let names = pipeline.eventTimeFields.names
        let own = input.batch.withValue(of: input.batch.records[input.index]) { value in eventTime.resolveField(value) }
        let source = own.flatMap { EventTimeResolver.millis($0.nanos) == record.timestampMs ? names[$0.field] : nil }
        return "event time \(time) (\(source.map { "from \($0)" } ?? "set by the pipeline"))"
    }

    private var fieldList: String {
        let names = pipeline.eventTimeFields.names
        return names.isEmpty ? "source.event_time_fields is empty" : "looked for " + names.joined(separator: ", ")
    }

    private static func startsObject(_ bytes: [UInt8]) -> Bool {
        bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D } == UInt8(ascii: "{")
    }
}
