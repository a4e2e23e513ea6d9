// swift-tools-version:6.0
import PackageDescription

// The data flow reads from the target list: Kafka source -> LMDB spool -> pipeline -> delivery
// -> sinks, wired together by `LogBridge` and run by the `logbridge` executable. The README's
// "Layout" draws this graph; a test keeps the two in step.
let package = Package(
    name: "logbridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "logbridge", targets: ["logbridge"]),
        .library(name: "LogBridge", targets: ["LogBridge"]),
        .library(name: "LogBridgeTestKit", targets: ["LogBridgeTestKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
    ],
    targets: [
        // C libraries from Debian (librdkafka-dev, liblmdb-dev), found through pkg-config.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // gzip request bodies (sinks) and their decoding (fake servers in the test kit).
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // Spool segment compression (`spool.compression: lz4 | zstd`).
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        // glibc's mallopt, for the allocator thresholds the executable sets (AllocatorTuning.swift).
        .systemLibrary(name: "CMalloc"),

        // PCRE2 with JIT for user-supplied patterns (regex processor, custom redaction detectors)
        // and OpenSSL's libcrypto for the keyed HMAC-SHA256 of redaction's hash mode.
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),

        // The types every stage shares: record batches, checkpoints, dead letters, time and
        // calendar, JSON and ASCII byte scanners, gzip, and the metric primitives with a registry
        // abstraction: no metric names and no exporter (each stage declares its series; LogBridge
        // exposes them with swift-prometheus).
        .target(
            name: "LogBridgeCore",
            dependencies: [
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),

        // The stages, in the order records flow. Kafka and the spool meet only through Core's
        // `IngestTarget`; the pipeline knows neither; sinks know only Core.
        .target(
            name: "LogBridgeKafka",
            dependencies: [
                "CRdKafka", "LogBridgeCore",
                .product(name: "Logging", package: "swift-log"),
                // Entra ID token requests for Event Hubs' OAUTHBEARER sign-in.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "LogBridgeSpool",
            dependencies: [
                "CLMDB", "CLZ4", "CZstd", "CZlib", "LogBridgeCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "LogBridgePipeline",
            dependencies: ["LogBridgeCore", "CPCRE2", "CCrypto"],
            // The per-event code works on class-held buffers (the event arena, scratch space);
            // the runtime exclusivity checks on those took ~20% of the pipeline's time in
            // `perf`. Release builds skip them; debug builds (the tests) keep them on.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // Destinations: each receives record batches and reports what it confirmed.
        .target(
            name: "LogBridgeSinks",
            dependencies: [
                "LogBridgeCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // The TLS probe that tells an expired certificate from an untrusted one, and a
                // TLS port from a plain one, when a request fails.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // Moves records spool -> pipeline -> sink: reads windows after each sink's cursor,
        // retries, and commits the cursor with the sink's state and dead letters.
        .target(
            name: "LogBridgeDelivery",
            dependencies: [
                "LogBridgeCore", "LogBridgeSpool", "LogBridgePipeline", "LogBridgeSinks",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // The one registry `/metrics` renders: Core's registry abstraction on swift-prometheus.
        .target(
            name: "LogBridgeMetrics",
            dependencies: ["LogBridgeCore", .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        // The application: one YAML file, the gateway that wires the stages, the admin endpoint.
        .target(
            name: "LogBridge",
            dependencies: [
                "LogBridgeCore", "LogBridgeKafka", "LogBridgeSpool", "LogBridgePipeline", "LogBridgeSinks",
                "LogBridgeDelivery", "LogBridgeMetrics",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        // librdkafka's mock cluster and the synthetic Fluent Bit records it is seeded with:
        // `logbridge demo` and `mock-cluster`, the bench and the tests use the same ones.
        .target(
            name: "LogBridgeMockCluster",
            dependencies: ["CRdKafka", "LogBridgeCore", "LogBridgeKafka"]
        ),
        // `logbridge demo`: a gateway fed by the mock cluster.
        .target(
            name: "LogBridgeDemo",
            dependencies: [
                "LogBridge", "LogBridgeMockCluster", "LogBridgeCore", "LogBridgeKafka", "LogBridgeSpool",
                "LogBridgePipeline", "LogBridgeSinks", "LogBridgeDelivery",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "logbridge",
            dependencies: [
                "LogBridge", "LogBridgeDemo", "LogBridgeMockCluster", "LogBridgeMetrics", "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        // Test helpers, split so each module's tests build only what they use:
        // - TestSupport: temporary directories, log capture, corpora, delivery audits (Core only);
        // - Fakes: HEC, Elasticsearch, Loki and Entra ID servers that check and fail as the real
        //   ones do, over HTTP or HTTPS, and the certificates for them (no product module but Core);
        // - TestKit: a whole gateway in the test process, and the admin endpoint's client.
        .target(
            name: "LogBridgeTestSupport",
            dependencies: ["LogBridgeCore", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "LogBridgeFakes",
            dependencies: [
                "LogBridgeCore", "LogBridgeTestSupport",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "LogBridgeTestKit",
            dependencies: [
                "LogBridge", "LogBridgeTestSupport", "LogBridgeFakes", "LogBridgeMockCluster",
                "LogBridgeCore", "LogBridgeKafka", "LogBridgeSpool", "LogBridgePipeline", "LogBridgeSinks",
                "LogBridgeDelivery",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Protocol fakes in their own process, for `make bench` (not shipped with logbridge).
        .executableTarget(
            name: "logbridge-fakes",
            dependencies: [
                "LogBridgeFakes", "LogBridgeTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        .testTarget(name: "LogBridgeCoreTests", dependencies: ["LogBridgeCore", "LogBridgeTestSupport"]),
        .testTarget(
            name: "LogBridgeKafkaTests",
            dependencies: [
                "LogBridgeKafka", "LogBridgeMockCluster", "LogBridgeSpool", "LogBridgeMetrics", "LogBridgeFakes", "LogBridgeTestSupport",
            ]
        ),
        .testTarget(
            name: "LogBridgeSpoolTests", dependencies: ["LogBridgeSpool", "LogBridgeMetrics", "LogBridgeTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "LogBridgePipelineTests", dependencies: ["LogBridgePipeline", "LogBridgeMetrics", "LogBridgeTestSupport"]),
        .testTarget(name: "LogBridgeSinksTests", dependencies: ["LogBridgeSinks", "LogBridgeFakes", "LogBridgeTestSupport"]),
        .testTarget(
            name: "LogBridgeDeliveryTests",
            dependencies: ["LogBridgeDelivery", "LogBridgeFakes", "LogBridgeTestSupport"]
        ),
        .testTarget(name: "LogBridgeTests", dependencies: ["LogBridge", "LogBridgeTestKit"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["LogBridge", "LogBridgeTestKit", "logbridge"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
