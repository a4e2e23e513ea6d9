import CRdKafka
#if canImport(Glibc)
import Glibc
#endif
import LogBridgeCore
import Synchronization

/// Collects fetched messages into an ``IngestBatch``.
///
/// Each message's key and value are copied into one contiguous arena and the message is destroyed
/// at once. Holding the librdkafka messages instead would save that copy but pins every fetch
/// response buffer (up to `fetch.max.bytes` each) that any queued message points into: measured
/// here, 150-200 MiB of resident memory on a 96-partition backlog against ~30 MiB with the copy.
/// Flat memory wins over one memcpy per record.
struct BatchBuilder {
    /// Whether headers are read (``KafkaSourceConfiguration/keepsHeaders``).
    let keepsHeaders: Bool
    private var arena = ByteArena()
    private var slots: [Slot] = []
    private var topics: [String] = []
    /// Topic handle -> index in `topics`; one dictionary probe on a pointer per message.
    private var topicIndexes: [OpaquePointer: Int] = [:]
    /// The last message's topic handle and index.
    private var lastTopic: (handle: OpaquePointer?, index: Int) = (nil, 0)

    /// Where a record's bytes are in the arena, until the arena is final and pointers can be made.
    private struct Slot {
        var topicIndex: Int
        var partition: Int32
        var offset: Int64
        var timestampMs: Int64
        var key: Range<Int>?
        var value: Range<Int>?
        var headers: Range<Int>?
    }
    /// One message's headers, encoded before they go to the arena.
    private var headerBlock: [UInt8] = []

    init(keepsHeaders: Bool) {
        self.keepsHeaders = keepsHeaders
    }

    var isEmpty: Bool { slots.isEmpty }

    func isFull(_ configuration: KafkaSourceConfiguration) -> Bool {
        slots.count >= configuration.batchMaxRecords || arena.count >= configuration.batchMaxBytes
    }

    /// Copies the message into the batch and destroys it.
    mutating func add(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let m = message.pointee
        let rkt = m.rkt!
        let topicIndex: Int
        if rkt == lastTopic.handle {
            // Messages come in runs of one partition: no dictionary probe (hashing) per message.
            topicIndex = lastTopic.index
        } else if let known = topicIndexes[rkt] {
            topicIndex = known
            lastTopic = (rkt, known)
        } else {
            topicIndex = topics.count
            topics.append(String(cString: rd_kafka_topic_name(rkt)))
            topicIndexes[rkt] = topicIndex
            lastTopic = (rkt, topicIndex)
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        let key = m.key.map { arena.append(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        let value = m.payload.map { arena.append(UnsafeRawBufferPointer(start: $0, count: m.len)) }
        let headers = keepsHeaders ? readHeaders(message).map { block in block.withUnsafeBytes { arena.append($0) } } : nil
        slots.append(Slot(
            topicIndex: topicIndex, partition: m.partition, offset: m.offset, timestampMs: timestamp, key: key, value: value,
            headers: headers))
        rd_kafka_message_destroy(message)
    }

    /// The message's headers as a ``KafkaHeaders`` block, nil when it has none. librdkafka parses
    /// headers only when asked, and a message without any answers at once (`RD_KAFKA_RESP_ERR__NOENT`).
    /// Headers past ``KafkaHeaders/maxBlockBytes`` are left out (the record is kept).
    private mutating func readHeaders(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> [UInt8]? {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return nil }
        headerBlock.removeAll(keepingCapacity: true)
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR, let name {
            index += 1
            let nameBytes = UnsafeRawBufferPointer(start: name, count: strlen(name))
            let valueBytes = value.map { UnsafeRawBufferPointer(start: $0, count: size) }
            guard headerBlock.count + nameBytes.count + (valueBytes?.count ?? 0) + 6 <= KafkaHeaders.maxBlockBytes else { break }
            KafkaHeaders.append(name: nameBytes, value: valueBytes, to: &headerBlock)
        }
        return headerBlock.isEmpty ? nil : headerBlock
    }

    /// Drops pending records of `partitions` (their bytes stay in the arena until the batch is made).
    mutating func remove(partitions: Set<TopicPartition>) {
        guard !partitions.isEmpty, !slots.isEmpty else { return }
        slots.removeAll { partitions.contains(TopicPartition(topic: topics[$0.topicIndex], partition: $0.partition)) }
    }

    /// Hands the collected records over and starts a new batch.
    mutating func makeBatch() -> IngestBatch {
        let storage = arena.take()
        let bytes = UnsafeRawBufferPointer(storage)
        func pointer(_ range: Range<Int>?) -> UnsafeRawBufferPointer? {
            range.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) }
        }
        let records = slots.map { slot in
            IngestRecord(
                topicIndex: slot.topicIndex, partition: slot.partition, offset: slot.offset, timestampMs: slot.timestampMs,
                key: pointer(slot.key), value: pointer(slot.value), headers: pointer(slot.headers))
        }
        slots.removeAll(keepingCapacity: true)
        // Topic handles stay valid while the consumer lives; keep the index table across batches.
        let pool = arena.pool
        let buffer = ArenaPool.Buffer(bytes: storage)
        return IngestBatch(topics: topics, records: records, release: { pool.recycle(buffer) })
    }
}

/// Arena buffers handed back once their batch is spooled, for the next batches to fill.
///
/// Why: profiling the end-to-end path (`perf record` on `make bench`'s Elasticsearch runs) showed
/// about a fifth of logbridge's CPU in the kernel zeroing fresh pages (`clear_page_erms` under
/// `do_anonymous_page`), most of it for a new multi-megabyte arena per batch that the allocator had
/// just returned to the kernel. Reusing a few buffers keeps their pages mapped. The pool is bounded
/// (`limit` buffers of at most one batch each), so memory stays flat.
final class ArenaPool: Sendable {
    /// A buffer crossing to the spool writer's thread and back; owned by exactly one holder at a time.
    struct Buffer: @unchecked Sendable {
        let bytes: UnsafeMutableRawBufferPointer
    }

    private let buffers = Mutex<[Buffer]>([])
    private let limit: Int

    init(limit: Int = 4) { self.limit = limit }

    /// A pooled buffer of at least `capacity` bytes, if one is free. Smaller ones are freed: the
    /// arena only grows, so they would never fit again.
    func take(capacity: Int) -> UnsafeMutableRawBufferPointer? {
        let (found, small) = buffers.withLock { free -> (Buffer?, [Buffer]) in
            let small = free.filter { $0.bytes.count < capacity }
            free.removeAll { $0.bytes.count < capacity }
            return (free.popLast(), small)
        }
        for buffer in small { buffer.bytes.deallocate() }
        return found?.bytes
    }

    func recycle(_ buffer: Buffer) {
        let kept = buffers.withLock { free -> Bool in
            guard free.count < limit else { return false }
            free.append(buffer)
            return true
        }
        if !kept { buffer.bytes.deallocate() }
    }

    deinit {
        buffers.withLock { free in
            for buffer in free { buffer.bytes.deallocate() }
        }
    }
}

/// A growable byte buffer whose final storage is handed to the batch without another copy.
private struct ByteArena {
    private var storage = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private(set) var count = 0
    let pool = ArenaPool()
    /// The largest arena so far: a new batch starts at that size instead of doubling up to it again.
    private var highWater = 256 << 10

    mutating func append(_ bytes: UnsafeRawBufferPointer) -> Range<Int> {
        let start = count
        if count + bytes.count > storage.count { grow(to: count + bytes.count) }
        if bytes.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: storage[count..<(count + bytes.count)]).copyMemory(from: bytes)
        }
        count += bytes.count
        return start..<count
    }

    private mutating func grow(to needed: Int) {
        let capacity = max(needed, storage.count * 2, highWater)
        highWater = capacity
        let bigger = storage.baseAddress == nil
            ? pool.take(capacity: capacity) ?? .allocate(byteCount: capacity, alignment: 16)
            : .allocate(byteCount: capacity, alignment: 16)
        if count > 0 { bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[0..<count])) }
        if storage.baseAddress != nil { pool.recycle(ArenaPool.Buffer(bytes: storage)) }
        storage = bigger
    }

    /// The bytes written so far; the caller owns (and deallocates) them. The arena starts empty.
    mutating func take() -> UnsafeMutableRawBufferPointer {
        defer {
            storage = UnsafeMutableRawBufferPointer(start: nil, count: 0)
            count = 0
        }
        if storage.baseAddress == nil { return .allocate(byteCount: 1, alignment: 16) }
        return storage
    }
}
