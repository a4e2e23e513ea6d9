/// An HTTP sink endpoint as configured: `http(s)://host[:port][/path prefix]`.
///
/// The endpoint string is shown as is in `check` output, in the `endpoint` label of the sink
/// metrics, in `/readyz` reasons and in log lines, so it must not carry credentials: userinfo
/// (`https://user:token@host`) is refused at load and credentials go in the sink's own keys
/// (`user`/`password`, `token`, `api_key`), which are masked everywhere. A query or fragment is
/// refused too: the sink appends its API path to the endpoint, which would land after them.
public struct EndpointURL: Sendable, Equatable {
    /// `http` or `https`.
    public var scheme: String
    /// As written; an IPv6 address keeps its brackets.
    public var host: String
    public var port: Int?

    /// `scheme://host[:port]`, the only part of an endpoint a message about it may show.
    public var origin: String { "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")" }

    /// Why an endpoint was refused. No case holds the endpoint's text: at most its origin, and
    /// only once that origin parsed cleanly.
    public enum Problem: Error, Equatable, Sendable {
        case notHTTP
        case credentials(origin: String?)
        case queryOrFragment(origin: String?)
        case invalidCharacters
        case invalidHost
        case invalidPort

        /// The message for `check`. `credentialKeys` names the keys that take credentials instead.
        public func message(credentialKeys: String) -> String {
            switch self {
            case .notHTTP:
                return "expected an http:// or https:// URL (http(s)://host:port)"
            case .credentials(let origin):
                return "\(origin.map { "\($0): " } ?? "")credentials in the URL (user:password@) are refused: they would show in "
                    + "logs, metrics and check output; set \(credentialKeys) (read them with ${file:})"
            case .queryOrFragment(let origin):
                return "\(origin.map { "\($0): " } ?? "")a query (?...) or fragment (#...) is refused: the sink appends its own "
                    + "path, and credentials go in \(credentialKeys)"
            case .invalidCharacters:
                return "expected http(s)://host:port: the URL contains spaces, control characters or backslashes"
            case .invalidHost:
                return "expected http(s)://host:port: the host is missing or not a host name or IP address"
            case .invalidPort:
                return "expected http(s)://host:port with a port from 1 to 65535"
            }
        }
    }

    public static func parse(_ text: String) -> Result<EndpointURL, Problem> {
        let scheme: String
        if text.hasPrefix("https://") {
            scheme = "https"
        } else if text.hasPrefix("http://") {
            scheme = "http"
        } else {
            return .failure(.notHTTP)
        }
        let rest = text.utf8.dropFirst(scheme.utf8.count + 3)
        // Authority ends at the first '/', '?' or '#'; '\' counts as '/' for WHATWG parsers, so
        // it is refused outright rather than letting two parsers disagree about the host.
        guard rest.allSatisfy({ $0 > 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "\\") }) else {
            return .failure(.invalidCharacters)
        }
        let end = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? rest.endIndex
        let authority = Substring(rest[..<end])
        let afterAuthority = Substring(rest[end...])
        // Userinfo is everything up to the last '@' of the authority; only what follows is shown.
        // An '@' after the authority is refused as well: `https://user:pa/ss@host` puts part of
        // the password in what a lenient parser reads as the path.
        let hostPort = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority[...]
        let parsed = parseHostPort(hostPort, scheme: scheme)
        if authority.contains("@") || afterAuthority.contains("@") {
            return .failure(.credentials(origin: try? parsed.get().origin))
        }
        if afterAuthority.contains("?") || afterAuthority.contains("#") {
            return .failure(.queryOrFragment(origin: try? parsed.get().origin))
        }
        return parsed
    }

    private static func parseHostPort(_ text: Substring, scheme: String) -> Result<EndpointURL, Problem> {
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return .failure(.invalidHost) }
            host = text[...close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return .failure(.invalidHost) }
                portText = after.dropFirst()
            }
            let inside = host.dropFirst().dropLast()
            guard !inside.isEmpty, inside.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "%" }) else {
                return .failure(.invalidHost)
            }
        } else {
            if let colon = text.firstIndex(of: ":") {
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            }
            let allowed: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || "-._~%".contains($0)) }
            guard !host.isEmpty, host.allSatisfy(allowed) else { return .failure(.invalidHost) }
        }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int(portText), (1...65535).contains(value)
            else {
                return .failure(.invalidPort)
            }
            port = value
        }
        return .success(EndpointURL(scheme: scheme, host: String(host), port: port))
    }
}
