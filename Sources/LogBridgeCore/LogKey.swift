/// Dotted metadata keys used in every log line, so logs can be filtered the same way everywhere.
public enum LogKey {
    public static let topic = "kafka.topic"
    public static let partition = "kafka.partition"
    public static let offset = "kafka.offset"
    public static let group = "kafka.group"
    public static let kafkaError = "kafka.error"
    public static let spoolPath = "spool.path"
    public static let spoolBytes = "spool.bytes"
    public static let deadLetterBytes = "spool.dead_letter_bytes"
    public static let sink = "sink.name"
    public static let sinkPath = "sink.path"
    public static let error = "error"
    public static let records = "records"
    public static let sequence = "spool.sequence"
}
