import LogBridgeCore
import LogBridgeDelivery
import LogBridgeSinks

/// `type: elasticsearch`: the bulk API, one document per record.
extension ElasticsearchSinkConfiguration: ConfiguredSinkKind {
    public static let typeName = "elasticsearch"
    static let keys = ["index", "ingest_pipeline", "api_key", "data_stream"]
    static let isHTTP = true

    static func credentialKeys(_ path: String) -> String { "\(path).user and \(path).password, or \(path).api_key" }

    static func decode(_ s: SinkEntries, runner: inout SinkRunnerConfiguration) -> ElasticsearchSinkConfiguration? {
        let r = s.reader
        let path = s.path
        guard let http = s.http else { return nil }
        var configuration = ElasticsearchSinkConfiguration(http: http)
        if let index = r.string(s["index"], "\(path).index") {
            do throws(TemplateError) { configuration.index = try FieldTemplate(index) } catch {
                r.report("\(path).index", s["index"], error.message)
            }
        }
        configuration.pipeline = r.string(s["ingest_pipeline"], "\(path).ingest_pipeline")
        if let dataStream = r.bool(s["data_stream"], "\(path).data_stream") {
            configuration.dataStream = dataStream
            if dataStream, s["index"] == nil {
                r.report("\(path).index", s.node, "name the data stream (data_stream: true writes to index)")
            } else if dataStream, configuration.index.source.replacingOccurrences(of: "%%", with: "").contains("%") {
                r.report("\(path).index", s["index"], "a data stream rolls over by itself: drop the date from its name")
            }
        }
        if let key = r.string(s["api_key"], "\(path).api_key", secret: true) {
            if s["user"] != nil { r.report("\(path).api_key", s["api_key"], "set either api_key or user/password, not both") }
            configuration.http.authentication = .header(name: "Authorization", value: "ApiKey \(key)")
        }
        return configuration
    }

    func describe(_ out: inout SinkDescription) {
        out.describeEndpoints(http)
        out.append("index: \(SinkDescription.quote(index.source))")
        if let pipeline { out.append("ingest_pipeline: \(SinkDescription.quote(pipeline))") }
        if dataStream { out.append("data_stream: true  # not duplicate-proof across a rollover") }
        out.describeHTTP(http)
    }

    public var adaptiveConcurrencyMaximum: Int? { http.adaptiveConcurrencyMaximum }

    public func makeSink(_ context: SinkKindContext) throws -> any Sink {
        try ElasticsearchSink(name: context.name, configuration: self, statistics: context.statistics, logger: context.logger)
    }
}
