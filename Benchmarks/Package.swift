// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks for logbridge, run with `make bench-micro` (or `swift package benchmark` here).
// A package of its own so that the root package stays free of the benchmark dependencies.
let package = Package(
    name: "LogBridgeBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "logbridge", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    ],
    targets: [
        // The raw liblmdb baseline: the same records written with mdb_put, without the spool.
        .target(
            name: "CLMDBBaseline",
            linkerSettings: [.linkedLibrary("lmdb")]
        ),
        .executableTarget(
            name: "LogBridgeBenchmarks",
            dependencies: [
                "CLMDBBaseline",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LogBridge", package: "logbridge"),
                .product(name: "LogBridgeTestKit", package: "logbridge"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/LogBridgeBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
