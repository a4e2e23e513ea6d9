// swift-tools-version:5.4
import PackageDescription

// libFuzzer targets for logbridge's parsers, run with `make fuzz` (Fuzz/run.sh, see README.md).
// A package of its own, like Benchmarks/, so the root package carries no fuzzing flags.
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's entry point to
// `<module>_main` and links `main` to it, which leaves no room for libFuzzer's own `main`.
// Each target is one `@_cdecl("LLVMFuzzerTestOneInput")` function compiled `-parse-as-library`.
let targets = [
    "FuzzJSON", "FuzzJSONProcessor", "FuzzCRI", "FuzzLogfmt", "FuzzKV", "FuzzCSV", "FuzzRedact", "FuzzConfig",
    "FuzzElasticsearchResponse", "FuzzHECResponse", "FuzzLokiResponse", "FuzzEncoders",
]

let package = Package(
    name: "LogBridgeFuzz",
    dependencies: [
        .package(name: "logbridge", path: ".."),
    ],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "LogBridge", package: "logbridge")]
        ),
    ] + targets.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzSupport", .product(name: "LogBridge", package: "logbridge")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    }
)
