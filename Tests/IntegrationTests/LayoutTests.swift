import Foundation
import Testing

/// The README's "Layout" lists each module with the modules of this package it depends on; this
/// keeps that list and `Package.swift` in step, so a newcomer reads the real graph.
@Suite struct LayoutTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func theReadmeLayoutIsThePackageGraph() throws {
        let package = try Self.packageGraph(String(contentsOfFile: Self.root + "/Package.swift", encoding: .utf8))
        let readme = try Self.readmeGraph(String(contentsOfFile: Self.root + "/README.md", encoding: .utf8))
        #expect(!package.isEmpty && !readme.isEmpty)
        for (module, dependencies) in package.sorted(by: { $0.key < $1.key }) {
            #expect(readme[module] != nil, "\(module) is in Package.swift but not in the README's Layout")
            if let listed = readme[module] {
                #expect(listed == dependencies, "\(module): README lists \(listed.sorted()), Package.swift has \(dependencies.sorted())")
            }
        }
        for module in readme.keys where package[module] == nil {
            Issue.record("\(module) is in the README's Layout but not a target of Package.swift")
        }
    }

    @Test func theParserSeesEachTargetAndIgnoresProducts() throws {
        let graph = try Self.packageGraph("""
            .systemLibrary(name: "CZ", pkgConfig: "z"),
            .target(
                name: "A",
                dependencies: ["CZ", .product(name: "Logging", package: "swift-log")]
            ),
            .executableTarget(name: "b", dependencies: ["A", "CZ"]),
            .testTarget(name: "ATests", dependencies: ["A"]),
            """)
        #expect(graph == ["A": ["CZ"], "b": ["A", "CZ"]], "system libraries and test targets are not listed")
    }

    /// Each regular and executable target and the targets it names (products of other packages
    /// left out).
    static func packageGraph(_ text: String) throws -> [String: Set<String>] {
        var graph: [String: Set<String>] = [:]
        let starts = [".target(", ".executableTarget("]
        var rest = Substring(text)
        while let start = starts.compactMap({ rest.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            let body = try balanced(rest[start.upperBound...])
            rest = rest[body.endIndex...]
            guard let name = firstQuoted(after: "name:", in: body) else { continue }
            var dependencies: Set<String> = []
            if let list = body.range(of: "dependencies:") {
                let open = try #require(body[list.upperBound...].firstIndex(of: "["))
                var items = try balanced(body[body.index(after: open)...], open: "[", close: "]")
                // Products of other packages: `.product(name: "X", package: "y")`.
                while let product = items.range(of: ".product(") {
                    let inner = try balanced(items[product.upperBound...])
                    items = items[..<product.lowerBound] + items[items.index(after: inner.endIndex)...]
                }
                dependencies = Set(quoted(in: items))
            }
            graph[name] = dependencies
        }
        return graph
    }

    /// The fenced block between `<!-- layout: start -->` and `<!-- layout: end -->`: a module, then
    /// its dependencies separated by commas.
    static func readmeGraph(_ text: String) throws -> [String: Set<String>] {
        let start = try #require(text.range(of: "<!-- layout: start -->"))
        let end = try #require(text.range(of: "<!-- layout: end -->"))
        var graph: [String: Set<String>] = [:]
        for line in text[start.upperBound..<end.lowerBound].split(separator: "\n") where !line.hasPrefix("```") {
            let words = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard let module = words.first else { continue }
            let dependencies = words.count > 1 ? words[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } : []
            graph[String(module)] = Set(dependencies.filter { !$0.isEmpty })
        }
        return graph
    }

    /// The text up to the bracket closing the one already opened before `text`.
    static func balanced(_ text: Substring, open: Character = "(", close: Character = ")") throws -> Substring {
        var depth = 1
        var inString = false
        for index in text.indices {
            let c = text[index]
            if c == "\"" { inString.toggle() }
            if inString { continue }
            if c == open { depth += 1 }
            if c == close {
                depth -= 1
                if depth == 0 { return text[..<index] }
            }
        }
        throw LayoutError.unbalanced
    }

    static func quoted(in text: Substring) -> [String] {
        text.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    static func firstQuoted(after key: String, in text: Substring) -> String? {
        guard let range = text.range(of: key) else { return nil }
        return quoted(in: text[range.upperBound...]).first
    }

    enum LayoutError: Error { case unbalanced }
}
