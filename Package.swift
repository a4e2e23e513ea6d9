// swift-tools-version:6.0
import PackageDescription

// The data flow reads from the target list: Kafka source -> LMDB spool -> pipeline -> sinks,
// wired together by `LogBridge` and run by the `logbridge` executable.
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

        // Core holds the metric primitives and a registry abstraction, no metric names and no
        // exporter: each stage declares its series, and LogBridge exposes them with swift-prometheus.
        .target(
            name: "LogBridgeCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
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
                "CLMDB", "LogBridgeCore",
                .product(name: "Logging", package: "swift-log"),
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
        .target(
            name: "LogBridgeSinks",
            dependencies: [
                "LogBridgeCore", "LogBridgeSpool", "LogBridgePipeline", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // The TLS probe that tells an expired certificate from an untrusted one, and a
                // TLS port from a plain one, when a request fails.
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "LogBridge",
            dependencies: [
                "LogBridgeCore", "LogBridgeKafka", "LogBridgeSpool", "LogBridgePipeline", "LogBridgeSinks",
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
        .target(
            name: "LogBridgeTestKit",
            dependencies: [
                "LogBridgeCore", "LogBridgeKafka", "LogBridgeSpool", "LogBridgePipeline", "LogBridgeSinks", "LogBridge", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                // HTTPS for the protocol fakes (TLS tests of the sinks).
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "logbridge",
            dependencies: [
                "LogBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        // Protocol fakes in their own process, for `make bench` (not shipped with logbridge).
        .executableTarget(
            name: "logbridge-fakes",
            dependencies: [
                "LogBridgeTestKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "LogBridgeCoreTests", dependencies: ["LogBridgeCore"]),
        .testTarget(name: "LogBridgeKafkaTests", dependencies: ["LogBridgeKafka", "LogBridgeTestKit"]),
        .testTarget(name: "LogBridgeSpoolTests", dependencies: ["LogBridgeSpool", "LogBridgeTestKit"]),
        .testTarget(name: "LogBridgePipelineTests", dependencies: ["LogBridgePipeline", "LogBridgeTestKit"]),
        .testTarget(name: "LogBridgeSinksTests", dependencies: ["LogBridgeSinks", "LogBridgeTestKit"]),
        .testTarget(name: "LogBridgeTests", dependencies: ["LogBridge", "LogBridgeTestKit"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["LogBridge", "LogBridgeTestKit", "logbridge"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
