/// `type: elasticsearch`: the bulk API with `create` actions and deterministic ids.
public struct ElasticsearchSinkConfiguration: Sendable, Equatable {
    public var http: HTTPSinkSettings
    /// Index name template, from event fields and the event date, so a retry lands in the same
    /// index. Default: `logs-%Y.%m.%d`.
    public var index: FieldTemplate
    /// Ingest pipeline to run on the documents, if any.
    public var pipeline: String?
    /// `index` names a data stream. The requests are the same (`create`, `@timestamp`), but
    /// `_id` uniqueness only holds within one backing index: a replay that crosses a rollover can
    /// index a record twice. Concrete time-based indices (the default) are duplicate-proof.
    public var dataStream: Bool = false

    public init(http: HTTPSinkSettings, index: FieldTemplate = try! FieldTemplate("logs-%Y.%m.%d"), pipeline: String? = nil) {
        self.http = http
        self.index = index
        self.pipeline = pipeline
    }
}
