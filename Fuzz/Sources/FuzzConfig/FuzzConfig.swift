import FuzzSupport
import LogBridge
import LogBridgeCore
import LogBridgePipeline

/// The configuration loader (`LogBridgeConfiguration.parse`, what `logbridge check`, `run` and a
/// reload call on the file's text). A bad file must end in a `ConfigurationError` that names at
/// least one problem, never a crash. A file it accepts must print (`effectiveYAML`, the `check`
/// output) and must give every sink a pipeline the gateway can build, which then runs over a few
/// sample records (so fuzzed processor options reach the processors).
///
/// `${file:` references are read as `${env:` ones from a fixed environment: the fuzzer is not let
/// loose on the file system (`${file:/dev/zero}` would only measure the machine).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeRawBufferPointer(start: data, count: size))
    withoutFileReferences(&bytes)
    let text = String(decoding: bytes, as: UTF8.self)
    let loaded: LoadedConfiguration
    do {
        loaded = try LogBridgeConfiguration.parse(yaml: text, file: "fuzz.yaml", environment: environment)
    } catch {
        require(!error.issues.isEmpty, "a ConfigurationError without a problem: \(error)")
        _ = error.description
        return 0
    }
    _ = loaded.effectiveYAML()
    let configuration = loaded.configuration
    let names = configuration.sinks.map(\.name)
    for (index, sink) in configuration.sinks.enumerated() {
        let pipeline: SinkPipeline
        do {
            pipeline = try SinkPipeline(
                shared: configuration.pipeline, own: sink.pipeline, sinkName: sink.name, sinkIndex: index, sinkNames: names,
                metrics: PipelineMetrics(), countsShared: index == 0)
        } catch {
            require(false, "the configuration was accepted but the gateway cannot build sink \(sink.name)'s pipeline: \(error)")
            return 0
        }
        _ = pipeline.process(samples, flush: false)
        _ = pipeline.process(samples, flush: true)
    }
    return 0
}

private func withoutFileReferences(_ bytes: inout [UInt8]) {
    let file = Array("${file:".utf8)
    var i = 0
    while i + file.count <= bytes.count {
        if bytes[i..<(i + file.count)].elementsEqual(file) {
            bytes.replaceSubrange(i..<(i + file.count), with: Array("${env:".utf8))
        }
        i += 1
    }
}

/// The variables and secrets the shipped configurations refer to.
private let environment: [String: String] = [
    "ADMIN_LISTEN": "127.0.0.1:8686", "CONSUMER_GROUP": "logbridge", "ENVIRONMENT": "dev", "EVENTHUB_NAME": "aks-logs",
    "HEC_URL": "https://splunk.example.internal:8088", "LOG_LEVEL": "info", "NAME": "x", "SPLUNK_INDEX": "k8s",
    "SPOOL_MAX_BYTES": "1GiB",
    "/run/secrets/eventhubs": eventHubs, "/etc/logbridge/secrets/eventhubs": eventHubs,
    "/run/secrets/hec-token": "00000000-0000-0000-0000-000000000000", "/etc/logbridge/secrets/hec-token": "token",
    "/run/secrets/elasticsearch-api-key": "a2V5OnNlY3JldA==", "/run/secrets/es-api-key": "a2V5OnNlY3JldA==",
    "/run/secrets/elasticsearch-password": "pw", "/run/secrets/es-password": "pw",
    "/run/secrets/redaction-hash-key": "0123456789abcdef0123456789abcdef",
]
private let eventHubs =
    "Endpoint=sb://logs-ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0;EntityPath=aks-logs"

/// A Fluent Bit CRI record, an application JSON line, logfmt, kv and a CSV line.
private let samples = recordBatch(records: [
    #"{"log":"2026-11-21T10:00:00.101Z stdout P {\"level\":\"info\",\"msg\":\"order placed\",","kubernetes":{"namespace_name":"shop","pod_name":"checkout-1","container_name":"app"}}"#,
    #"{"log":"2026-11-21T10:00:00.102Z stdout F \"user\":\"jane.doe@example.com\",\"card\":\"4111 1111 1111 1111\"}","kubernetes":{"namespace_name":"shop","pod_name":"checkout-1","container_name":"app"}}"#,
    #"{"log":"level=error msg=\"payment refused\" duration=12ms status=502 path=/healthz","time":"2026-11-21T10:00:00Z","kubernetes":{"namespace_name":"pay"}}"#,
    #"{"message":"user=bob, action=login, ip=10.1.2.3","@timestamp":"1795255200.5"}"#,
    "LFPG;21/11/2026 10:00;7.5;81;1013.2",
].map { Array($0.utf8) }, timestampMs: 1_795_255_200_000)
