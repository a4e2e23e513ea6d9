import Foundation
import Testing

/// The GitOps workflow in `conf/gitops/`: one configuration for every environment, the differences
/// in env files, and `check.sh` (what CI runs on every change) validating it with the real binary.
@Suite struct GitOpsConfigurationTests {
    static let directory = PipelineCommandTests.root + "/conf/gitops"

    static func check(_ envFiles: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [directory + "/check.sh"] + envFiles
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LOGBRIDGE": try LogBridgeBinary.locate()]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func keys(of envFile: String) throws -> Set<String> {
        let text = try String(contentsOfFile: directory + "/" + envFile, encoding: .utf8)
        return Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("=") }.map { String($0.split(separator: "=")[0]) })
    }

    @Test func everyEnvironmentFileValidatesTheSharedConfiguration() throws {
        let result = try Self.check([])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("ok   dev.env"))
        #expect(result.output.contains("ok   prod.env"))
    }

    @Test func environmentsDifferOnlyInValuesNotInKeys() throws {
        let dev = try Self.keys(of: "dev.env")
        #expect(!dev.isEmpty)
        #expect(dev == (try Self.keys(of: "prod.env")))
    }

    @Test func aMissingVariableOrABadValueFailsTheCheckNamingKeyAndLine() throws {
        let prod = try String(contentsOfFile: Self.directory + "/prod.env", encoding: .utf8)
        let broken = prod.split(separator: "\n").filter { !$0.hasPrefix("SPLUNK_INDEX=") && !$0.hasPrefix("HEC_URL=") }
            .joined(separator: "\n") + "\nHEC_URL=ftp://splunk.example.internal\n"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).env").path
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Self.check([path])
        #expect(result.status == 1)
        #expect(result.output.contains("sinks.splunk.index: environment variable SPLUNK_INDEX is not set"))
        #expect(result.output.contains("sinks.splunk.endpoints[0]: expected an http:// or https:// URL"))
        // Errors point at the file in git, not at the stand-in copy the script checks.
        #expect(result.output.contains("conf/gitops/logbridge.yaml"))
    }
}
