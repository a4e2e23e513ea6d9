import Foundation
import LogBridgeTestKit
import Testing

/// The commands the README shows work as written, from the repository's root: every line of its
/// ```sh blocks and every `# Try it:` line of `conf/examples/*.yaml` runs with the built
/// `logbridge` first on `PATH`, unless ``notRunnable`` says why it cannot run in a test. The
/// commands are read from the files, so a README change is covered without touching this suite.
@Suite struct ReadmeCommandTests {
    static let root = PipelineCommandTests.root

    /// Commands that cannot run in a test, each with the reason, matched exactly (continuation
    /// lines joined, a trailing `# comment` dropped). A README edit to one of them makes it a
    /// command to run again, and ``everyNotRunnableEntryIsStillInTheReadme`` keeps this list from
    /// outliving the README.
    static let notRunnable: [String: String] = [
        // Quick start: they build and run everything, this suite included.
        "make demo": "builds in release mode and runs the demo until stopped",
        "make test": "runs the whole test suite, this one included",
        // The command reference: long-running commands and synopses with placeholders.
        "logbridge run --config /etc/logbridge/logbridge.yaml": "runs until stopped, from an installed configuration (make install)",
        "logbridge check --config /etc/logbridge/logbridge.yaml": "needs the installed /etc/logbridge/logbridge.yaml; checkPassesOnEveryShippedConfiguration runs check on every example",
        "logbridge demo": "runs until stopped (make demo)",
        "logbridge dlq list --config FILE [--sink NAME] [--payload]": "synopsis: FILE and NAME are placeholders",
        "logbridge dlq replay --config FILE [--sink NAME]": "synopsis: FILE and NAME are placeholders",
        "logbridge dlq purge --config FILE (--sink NAME | --all)": "synopsis: FILE and NAME are placeholders",
        "logbridge status [--admin http://127.0.0.1:9180] [--json]": "synopsis; needs a running gateway",
        "logbridge status --config FILE | --token-file FILE": "synopsis: FILE is a placeholder",
        "logbridge spool stats --config FILE [--json]": "synopsis: FILE is a placeholder",
        "kill -HUP $(pidof logbridge)": "needs a running gateway",
        // Installing on a VM: root, systemd and an interactive editor.
        "make install": "installs into /usr/local and /etc as root",
        "sudoedit /etc/logbridge/logbridge.yaml": "interactive editor, as root",
        "sudo install -D -m 0640 -g logbridge /dev/stdin /etc/logbridge/secrets/eventhubs <<< 'Endpoint=sb://...'": "writes /etc as root",
        "sudo -u logbridge logbridge check --config /etc/logbridge/logbridge.yaml": "needs make install and the logbridge user",
        "sudo systemctl enable --now logbridge": "systemd",
        "journalctl -u logbridge -f": "systemd journal, follows forever",
        // Kubernetes and containers: no cluster, Helm binary or container engine here.
        "kubectl -n logging create secret generic logbridge-eventhubs --from-literal=connection-string='Endpoint=sb://...'": "needs a cluster",
        "kubectl -n logging create secret generic logbridge-splunk --from-literal=hec-token=...": "needs a cluster",
        "helm upgrade --install logbridge helm/logbridge -n logging -f my-values.yaml": "needs a cluster and helm",
        "kubectl -n logging port-forward logbridge-0 9180 & logbridge status": "needs a cluster",
        "podman build -t logbridge:1.0 -f Containerfile .": "needs a container engine",
        "podman run --rm -v logbridge-spool:/var/lib/logbridge -v ./logbridge.yaml:/etc/logbridge/logbridge.yaml:ro --stop-timeout 45 -p 9180:9180 logbridge:1.0": "needs a container engine",
    ]

    /// The commands of the README's ```sh blocks, continuation lines joined, comments dropped.
    static func readmeCommands() throws -> [String] {
        let text = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
        var commands: [String] = []
        var inBlock = false
        var pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") {
                inBlock = !inBlock && line.hasPrefix("```sh")
                continue
            }
            guard inBlock else { continue }
            pending += (pending.isEmpty ? "" : " ") + withoutComment(line).trimmingCharacters(in: .whitespaces)
            if pending.hasSuffix("\\") {
                pending = String(pending.dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            if !pending.isEmpty { commands.append(pending) }
            pending = ""
        }
        return commands
    }

    /// The `# Try it:` commands of the shipped examples (continued on `#` lines ending in `\`).
    static func exampleCommands() throws -> [String] {
        let directory = root + "/conf/examples"
        var commands: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where name.hasSuffix(".yaml") {
            let lines = try String(contentsOfFile: directory + "/" + name, encoding: .utf8).split(separator: "\n").map(String.init)
            for (index, line) in lines.enumerated() {
                guard let start = line.range(of: "# Try it:") else { continue }
                var command = String(line[start.upperBound...]).trimmingCharacters(in: .whitespaces)
                var next = index + 1
                while command.hasSuffix("\\"), next < lines.count, lines[next].hasPrefix("#") {
                    command = String(command.dropLast()).trimmingCharacters(in: .whitespaces) + " "
                        + lines[next].dropFirst().trimmingCharacters(in: .whitespaces)
                    next += 1
                }
                commands.append(command)
            }
        }
        return commands
    }

    /// `line` without a trailing shell comment (` # ...` outside quotes).
    static func withoutComment(_ line: String) -> String {
        var quote: Character?
        var previous: Character = " "
        for (offset, character) in line.enumerated() {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "#", previous == " " {
                return String(line.prefix(offset))
            }
            previous = character
        }
        return line
    }

    /// The commands to run, each once, in file order.
    static func runnable() throws -> [String] {
        var seen: Set<String> = []
        return try (readmeCommands() + exampleCommands()).filter { notRunnable[$0] == nil && seen.insert($0).inserted }
    }

    /// Runs `command` with `/bin/sh` from the repository root, the built binary first on `PATH`,
    /// and an environment without the caller's variables (no secret can come from there).
    static func shell(_ command: String, extraEnvironment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let directory = TemporaryDirectory(prefix: "logbridge-readme")
        defer { directory.remove() }
        let binDirectory = URL(fileURLWithPath: try LogBridgeBinary.locate()).deletingLastPathComponent().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        process.environment = ["PATH": "\(binDirectory):/usr/bin:/bin", "HOME": directory.path].merging(extraEnvironment) { _, new in new }
        FileManager.default.createFile(atPath: directory.file("out"), contents: nil)
        FileManager.default.createFile(atPath: directory.file("err"), contents: nil)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: directory.file("out"))
        process.standardError = FileHandle(forWritingAtPath: directory.file("err"))
        try process.run()
        process.waitUntilExit()
        return (
            process.terminationStatus, try String(contentsOfFile: directory.file("out"), encoding: .utf8),
            try String(contentsOfFile: directory.file("err"), encoding: .utf8)
        )
    }

    @Test func theReadmeAndTheExamplesShowRunnableCommands() throws {
        let runnable = try Self.runnable()
        // The dry runs of the README and of the two examples that offer one, and `version`.
        #expect(runnable.contains("logbridge version"))
        #expect(runnable.contains("logbridge pipeline test --config conf/examples/kubernetes-cri-redaction.yaml < conf/examples/samples/kubernetes-cri.ndjson"))
        #expect(runnable.contains("logbridge pipeline test --config conf/examples/meteo-csv-to-elasticsearch.yaml < conf/examples/samples/meteo.csv"))
    }

    // An unreadable README gives no arguments here; theReadmeAndTheExamplesShowRunnableCommands fails then.
    @Test(arguments: (try? ReadmeCommandTests.runnable()) ?? [])
    func commandRunsAsWritten(_ command: String) throws {
        let result = try Self.shell(command)
        #expect(result.status == 0, "\(command)\n\(result.stderr)")
        #expect(!result.stderr.contains("invalid configuration"), "\(result.stderr)")
        if command.contains("pipeline test") {
            #expect(!result.stdout.isEmpty, "a dry run on the sample prints the processed events")
        }
    }

    @Test func everyNotRunnableEntryIsStillInTheReadme() throws {
        let commands = Set(try Self.readmeCommands())
        for entry in Self.notRunnable.keys.sorted() {
            #expect(commands.contains(entry), "'\(entry)' is no longer in README.md: drop it from notRunnable")
        }
    }

    /// The README's dry run on a machine without the example's secrets: the source and sink
    /// secrets are noted and skipped, the redaction key is a placeholder said so on stderr, and
    /// the events come out redacted.
    @Test func theKubernetesDryRunSaysWhatItCouldNotRead() throws {
        let secrets = ["eventhubs", "redaction-hash-key", "hec-token", "elasticsearch-api-key"]
        let missing = secrets.filter { !FileManager.default.fileExists(atPath: "/run/secrets/\($0)") }
        try #require(missing.count == secrets.count, "this machine has /run/secrets: the dry run would read them")
        let result = try Self.shell("logbridge pipeline test --config conf/examples/kubernetes-cri-redaction.yaml < conf/examples/samples/kubernetes-cri.ndjson")
        #expect(result.status == 0, "\(result.stderr)")
        for path in ["source.kafka.connection_string", "sinks.splunk.token", "sinks.elasticsearch.api_key"] {
            #expect(result.stderr.contains("\(path): not resolved, not needed for a dry run"), "\(result.stderr)")
        }
        #expect(result.stderr.contains("pipeline[3].hash_key: cannot read /run/secrets/redaction-hash-key"))
        #expect(result.stderr.contains("hashing with a placeholder key"))
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 6)
        #expect(!result.stdout.contains("jane.doe@example.com"))
        #expect(lines.first?.contains("[email:") == true, "hash mode with the placeholder key")
    }

    /// `--hash-key-file` gives the dry run the gateway's key: its hashes match a run whose
    /// configuration reads the same key through `${file:}`, and no placeholder is announced.
    @Test func aHashKeyFileGivesTheGatewaysHashes() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-readme-key")
        defer { directory.remove() }
        let key = directory.file("key")
        try "0123456789abcdef-the-real-key".write(toFile: key, atomically: true, encoding: .utf8)
        var yaml = try String(contentsOfFile: Self.root + "/conf/examples/kubernetes-cri-redaction.yaml", encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "${file:/run/secrets/redaction-hash-key}", with: "${file:\(key)}")
        try yaml.write(toFile: directory.file("config.yaml"), atomically: true, encoding: .utf8)
        let sample = "conf/examples/samples/kubernetes-cri.ndjson"

        let configured = try Self.shell("logbridge pipeline test --config \(directory.file("config.yaml")) < \(sample)")
        let flagged = try Self.shell("logbridge pipeline test --config conf/examples/kubernetes-cri-redaction.yaml --hash-key-file \(key) < \(sample)")
        let placeholder = try Self.shell("logbridge pipeline test --config conf/examples/kubernetes-cri-redaction.yaml < \(sample)")
        #expect(configured.status == 0 && flagged.status == 0 && placeholder.status == 0)
        #expect(flagged.stdout == configured.stdout)
        #expect(!flagged.stderr.contains("placeholder"))
        #expect(placeholder.stdout != configured.stdout, "the placeholder key hashes differently")

        let short = directory.file("short")
        try "too-short".write(toFile: short, atomically: true, encoding: .utf8)
        let refused = try Self.shell("logbridge pipeline test --config conf/examples/kubernetes-cri-redaction.yaml --hash-key-file \(short) < \(sample)")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--hash-key-file"))
        #expect(!refused.stderr.contains("too-short"), "the key never shows")
    }

    /// `logbridge check` on every shipped configuration, each `${file:/run/secrets/NAME}` given as
    /// its own file (as a Secret mount would), the way an operator checks one before deploying.
    @Test func checkPassesOnEveryShippedConfiguration() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-readme-check")
        defer { directory.remove() }
        for relativePath in ["conf/logbridge.yaml"] + (try FileManager.default.contentsOfDirectory(atPath: Self.root + "/conf/examples"))
            .filter({ $0.hasSuffix(".yaml") }).sorted().map({ "conf/examples/\($0)" })
        {
            var yaml = try String(contentsOfFile: Self.root + "/" + relativePath, encoding: .utf8)
            var secrets: [String] = []
            while let range = yaml.range(of: #"\$\{file:/run/secrets/[a-z-]+\}"#, options: .regularExpression) {
                let name = String(yaml[range].dropFirst("${file:/run/secrets/".count).dropLast())
                // A connection string for the source, a distinct 16+-byte value for the others.
                let value = name == "eventhubs"
                    ? "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0LWZvci1jaGVjaw=="
                    : "secret-\(name)-0123456789"
                let file = directory.file(name)
                try value.write(toFile: file, atomically: true, encoding: .utf8)
                chmod(file, 0o600)
                secrets.append(value)
                yaml.replaceSubrange(range, with: "${file:\(file)}")
            }
            let config = directory.file(relativePath.replacingOccurrences(of: "/", with: "_"))
            try yaml.write(toFile: config, atomically: true, encoding: .utf8)
            let result = try Self.shell("logbridge check --config \(config)")
            #expect(result.status == 0, "\(relativePath): \(result.stderr)")
            #expect(result.stdout.contains("sinks:"), "\(relativePath)")
            for secret in secrets {
                #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret), "\(relativePath) printed a secret")
            }
        }
    }
}
