import LogBridgeCore
import LogBridgeSinks
import Testing

/// `{%kafka.…}` in sink templates (index, sourcetype, labels…).
struct MetadataTemplateTests {
    func render(_ template: String, key: String? = nil, headers: [UInt8]? = nil) throws -> String {
        let parsed = try FieldTemplate(template, fallback: "none")
        let value = Array(#"{"kubernetes":{"namespace_name":"shop"}}"#.utf8)
        var keyBytes = Array((key ?? "").utf8)
        var headerBytes = headers ?? []
        return value.withUnsafeBytes { v in
            keyBytes.withUnsafeMutableBytes { k in
                headerBytes.withUnsafeMutableBytes { h in
                    parsed.render(
                        value: v, timestampMs: 1_763_632_800_000,
                        metadata: KafkaRecordMetadata(
                            topic: "aks-prod", partition: 7, offset: 1234, timestampMs: 1_700_000_000_000,
                            key: key == nil ? nil : UnsafeRawBufferPointer(k), headers: headers == nil ? nil : UnsafeRawBufferPointer(h)))
                }
            }
        }
    }

    @Test func metadataFieldsAndDatesTogether() throws {
        #expect(try render("{%kafka.topic}-{kubernetes.namespace_name}-%Y.%m.%d") == "aks-prod-shop-2025.11.20")
        #expect(try render("{%kafka.partition}:{%kafka.offset}@{%kafka.timestamp}") == "7:1234@1700000000000")
        #expect(try render("k={%kafka.key}") == "k=none")
        #expect(try render("k={%kafka.key}", key: "tenant-1") == "k=tenant-1")
        var block: [UInt8] = []
        var name = Array("index".utf8)
        var value = Array("main".utf8)
        name.withUnsafeMutableBytes { n in value.withUnsafeMutableBytes { KafkaHeaders.append(name: UnsafeRawBufferPointer(n), value: UnsafeRawBufferPointer($0), to: &block) } }
        #expect(try render("{%kafka.headers.index}", headers: block) == "main")
        #expect(try render("{%kafka.headers.other}", headers: block) == "none")
    }

    @Test func unknownMetadataIsRefusedWithTheNamesThatExist() {
        #expect(throws: TemplateError.self) { try FieldTemplate("{%kafka.topik}") }
        do {
            _ = try FieldTemplate("logs-{%kafka.topik}")
        } catch {
            #expect(error.message.contains("%kafka.topic, %kafka.partition"))
        }
        #expect((try? FieldTemplate("{%kafka.topic}"))?.isConstant == false)
    }
}
