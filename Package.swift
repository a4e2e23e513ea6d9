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

        .target(
            name: "LogBridgeCore",
            dependencies: [.product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "LogBridgeKafka",
            dependencies: [
                "CRdKafka", "LogBridgeCore",
                .product(name: "Logging", package: "swift-log"),
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
            dependencies: ["LogBridgeCore"]
        ),
        .target(
            name: "LogBridgeSinks",
            dependencies: [
                "LogBridgeCore", "LogBridgeSpool", "LogBridgePipeline",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "LogBridge",
            dependencies: [
                "LogBridgeCore", "LogBridgeKafka", "LogBridgeSpool", "LogBridgePipeline", "LogBridgeSinks",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "LogBridgeTestKit",
            dependencies: ["LogBridgeCore", "LogBridgeKafka", "LogBridgeSpool", "LogBridge"]
        ),
        .executableTarget(
            name: "logbridge",
            dependencies: [
                "LogBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "LogBridgeCoreTests", dependencies: ["LogBridgeCore"]),
        .testTarget(name: "LogBridgeKafkaTests", dependencies: ["LogBridgeKafka", "LogBridgeTestKit"]),
        .testTarget(name: "LogBridgeSpoolTests", dependencies: ["LogBridgeSpool", "LogBridgeTestKit"]),
        .testTarget(name: "LogBridgeSinksTests", dependencies: ["LogBridgeSinks", "LogBridgeTestKit"]),
        .testTarget(name: "LogBridgeTests", dependencies: ["LogBridge", "LogBridgeTestKit"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["LogBridge", "LogBridgeTestKit", "logbridge"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
