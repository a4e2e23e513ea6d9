import Foundation
import LogBridgeCore

/// `type: console`: writes records to standard output, for trying pipelines out. At-least-once:
/// a terminal cannot be rewound.
public final class ConsoleSink: Sink, Sendable {
    public let name: String
    private let encoding: RecordEncoding

    public init(name: String, encoding: RecordEncoding = .envelope) {
        self.name = name
        self.encoding = encoding
    }

    /// As the file sink: the envelope finds each record's event time while validating it.
    public var resolvesEventTime: Bool { true }

    public func open(restoring checkpoint: SinkCheckpoint) async throws(SinkError) {}

    public func deliver(_ batch: RecordBatch) async throws(SinkError) -> SinkDelivery {
        let bytes = encoding.encode(batch)
        do {
            try FileHandle.standardOutput.write(contentsOf: bytes)
        } catch {
            throw SinkError(sink: name, message: "cannot write to standard output: \(error)")
        }
        return SinkDelivery()
    }

    public func close() async {}
}
