import LogBridgeCore
import LogBridgeTestSupport
import Testing

@testable import LogBridgeSinks

/// The builder makes each distinct index name safe once per batch: every record must still get
/// its own record's index, however the names interleave.
@Suite struct ElasticsearchIndexNameTests {
    @Test func interleavedNamespacesEachGetTheirOwnIndex() throws {
        let builder = ElasticsearchRequestBuilder(index: try FieldTemplate("logs-{kubernetes.namespace_name}-%Y.%m.%d"))
        let namespaces = ["shop", "Payments", "shop", "ingress nginx", "payments", "_x/y", "shop", "Payments"]
        // 70 distinct names too, past the builder's cache of 64, so uncached names are made safe as well.
        let many = (0..<70).map { "ns\($0)" }
        let all = namespaces + many + namespaces
        let lines = all.map { #"{"log":"hello","kubernetes":{"namespace_name":"\#($0)"}}"# }
        let batch = RecordBatches.lines(lines, timestampMs: 1_795_000_000_000)  // 2026-11-18 UTC
        let body = builder.body(for: Array(batch.records.indices), of: batch)
        let actions = String(decoding: body.bytes, as: UTF8.self).split(separator: "\n").enumerated()
            .filter { $0.offset % 2 == 0 }.map { String($0.element) }
        #expect(actions.count == all.count)
        func expected(_ namespace: String) -> String {
            let safe = namespace.lowercased().replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "/", with: "_")
            return "\"_index\":\"logs-\(safe)-2026.11.18\""
        }
        for (action, namespace) in zip(actions, all) {
            #expect(action.contains(expected(namespace)), "\(namespace): \(action)")
        }
    }
}
