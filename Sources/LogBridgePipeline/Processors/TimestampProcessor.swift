import LogBridgeCore

/// One way `timestamp` reads a time.
public enum TimestampFormat: Sendable, Equatable {
    /// RFC 3339 / ISO 8601 (`rfc3339`, `iso8601`).
    case iso8601
    /// Epoch numbers (`unix`, `unix_ms`, `unix_us`, `unix_ns`).
    case epoch(TimestampParser.EpochUnit)
    /// A strftime-style pattern such as `%d/%m/%Y %H:%M`.
    case pattern(String)

    /// Parses a format name from the configuration.
    public init(_ text: String) throws(PipelineError) {
        switch text {
        case "rfc3339", "iso8601": self = .iso8601
        case "unix", "unix_s": self = .epoch(.seconds)
        case "unix_ms": self = .epoch(.milliseconds)
        case "unix_us": self = .epoch(.microseconds)
        case "unix_ns": self = .epoch(.nanoseconds)
        default:
            guard text.contains("%") else {
                throw PipelineError("unknown time format '\(text)' (use rfc3339, unix, unix_ms, unix_us, unix_ns or a pattern such as %d/%m/%Y %H:%M)")
            }
            do {
                _ = try StrftimeFormat(text)
            } catch {
                throw PipelineError("bad time format '\(text)': \(error.message)")
            }
            self = .pattern(text)
        }
    }
}

/// `timestamp`: parses a field into the event time (what sinks use as `@timestamp`, HEC `time`
/// and the Loki entry time), trying each format in order; optionally also writes the time as
/// RFC 3339 to a field.
public struct TimestampOptions: Sendable, Equatable {
    public var field: FieldPath
    public var formats: [TimestampFormat]
    public var timezone: TimeZoneRule
    /// Also write the parsed time, RFC 3339 in UTC, to this field.
    public var target: FieldPath?
    public init(field: FieldPath, formats: [TimestampFormat] = [.iso8601], timezone: TimeZoneRule = .utc, target: FieldPath? = nil) {
        self.field = field
        self.formats = formats
        self.timezone = timezone
        self.target = target
    }
}

final class TimestampProcessor: EventProcessor {
    private enum Compiled {
        case iso8601
        case epoch(TimestampParser.EpochUnit)
        case pattern(StrftimeFormat)
    }

    let options: TimestampOptions
    private let formats: [Compiled]

    init(_ options: TimestampOptions) throws(PipelineError) {
        self.options = options
        var formats: [Compiled] = []
        for format in options.formats {
            switch format {
            case .iso8601: formats.append(.iso8601)
            case .epoch(let unit): formats.append(.epoch(unit))
            case .pattern(let text):
                do {
                    formats.append(.pattern(try StrftimeFormat(text)))
                } catch {
                    throw PipelineError("bad time format '\(text)': \(error.message)")
                }
            }
        }
        self.formats = formats
    }

    func process(_ event: Event, _ context: ProcessingContext) {
        guard let node = event.lookup(options.field) else { return }
        let parsed: Int64? = event.withText(of: node) { text in
            for format in formats {
                let value: Int64?
                switch format {
                case .iso8601: value = TimestampParser.parseISO8601(text, zone: options.timezone)
                case .epoch(let unit): value = TimestampParser.parseEpoch(text, unit: unit)
                case .pattern(let pattern): value = pattern.parse(text, zone: options.timezone)
                }
                if let value { return value }
            }
            return nil
        }
        guard let parsed else {
            event.markFailure("timestamp: \(options.field) matches none of the formats")
            return
        }
        event.timeNanos = parsed
        if let target = options.target {
            context.scratch.removeAll(keepingCapacity: true)
            Timestamp.appendRFC3339(millis: parsed / 1_000_000, to: &context.scratch)
            context.scratch.withUnsafeBytes { event.set(target, .string($0)) }
        }
    }
}
