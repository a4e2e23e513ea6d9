import Foundation

/// `type: loki`: Grafana Loki's push API, JSON bodies (gzip optional).
public struct LokiSinkConfiguration: Sendable, Equatable {
    /// One stream label, its name already sanitised to Loki's rules.
    public struct Label: Sendable, Equatable {
        public var name: String
        public var template: FieldTemplate

        public init(name: String, template: FieldTemplate) {
            self.name = name
            self.template = template
        }
    }

    /// One structured metadata entry (Loki 3): a name and the template of its value.
    public struct MetadataField: Sendable, Equatable {
        /// Sanitised like a label name, so LogQL can filter on it (`| trace_id="..."`).
        public var name: String
        public var template: FieldTemplate

        public init(name: String, template: FieldTemplate) {
            self.name = name
            self.template = template
        }
    }

    public var http: HTTPSinkSettings
    /// Stream labels, fixed or templated from event fields. Default: `job: logbridge`.
    public var labels: [Label]
    /// Structured metadata attached to each entry (Loki 3 push API, the entry's third element):
    /// per-record values such as trace ids or pod uids, kept out of the labels (a stream per
    /// value) and out of the line. A name whose template reads a field the record lacks is left
    /// out of that entry; an entry left with none is sent without metadata. Default: none.
    public var structuredMetadata: [MetadataField]
    /// `X-Scope-OrgID` for multi-tenant Loki; nil sends none (single-tenant).
    public var tenantID: String?
    /// Distinct label sets (streams) this sink creates; records that would open a new stream past
    /// the limit get `overflow` as their templated label values, and a warning. Default: 1000.
    public var maxStreams: Int
    /// Push path. Default: `/loki/api/v1/push`.
    public var path: String

    public init(
        http: HTTPSinkSettings, labels: [Label] = [Label(name: "job", template: try! FieldTemplate("logbridge"))],
        structuredMetadata: [MetadataField] = [], tenantID: String? = nil, maxStreams: Int = 1000, path: String = "/loki/api/v1/push"
    ) {
        self.http = http
        self.labels = labels
        self.structuredMetadata = structuredMetadata
        self.tenantID = tenantID
        self.maxStreams = maxStreams
        self.path = path
    }

    /// Loki allows 15 label names per stream by default (`max_label_names_per_series`).
    public static let maxLabels = 15
    /// Loki 3 refuses an entry with more structured metadata entries than this by default
    /// (`max_structured_metadata_entries_count`); `check` refuses a configuration that always would.
    public static let maxStructuredMetadataEntries = 128

    /// Fields that differ for (almost) every record: as labels they would create a stream per
    /// line and take Loki down, so templates that read them are refused.
    public static let uniqueFields: Set<String> = [
        "log", "message", "msg", "time", "timestamp", "@timestamp", "ts", "trace_id", "traceid", "span_id", "spanid",
        "request_id", "requestid", "id", "uuid", "docker_id", "container_id", "pod_id", "offset", "event_id",
    ]

    /// Why a label template is refused, or nil.
    public static func cardinalityProblem(_ template: FieldTemplate) -> String? {
        if template.source.replacingOccurrences(of: "%%", with: "").contains("%") {
            return "dates in labels create a stream per hour or day; Loki indexes time itself"
        }
        for path in template.fieldPaths where uniqueFields.contains(path.last!.lowercased()) {
            return "'\(path.joined(separator: "."))' differs for nearly every record: as a label it creates a stream per line (put it in the line, or use the pipeline to extract a bounded value)"
        }
        return nil
    }

    /// Loki label names match `[a-zA-Z_][a-zA-Z0-9_]*` and `__` is reserved: other characters
    /// become `_`, a leading digit gets a `_` in front, leading underscores are reduced to one.
    public static func sanitize(_ name: String) -> String {
        var out = String(name.unicodeScalars.map { scalar -> Character in
            let ascii = scalar.isASCII
            let ok = ascii && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_")
            return ok ? Character(scalar) : "_"
        })
        if out.isEmpty { return "_" }
        if out.first!.isNumber { out = "_" + out }
        while out.hasPrefix("__") { out.removeFirst() }
        return out
    }
}
