/// An Azure Event Hubs namespace connection string, reduced to what the Kafka endpoint needs.
///
/// `Endpoint=sb://NAMESPACE.servicebus.windows.net/;SharedAccessKeyName=NAME;SharedAccessKey=KEY`
/// (optionally `;EntityPath=HUB`). Event Hubs' Kafka endpoint takes the whole string as the SASL
/// PLAIN password with the user name `$ConnectionString`.
public struct EventHubsConnectionString: Sendable, Equatable {
    /// `NAMESPACE.servicebus.windows.net`.
    public var host: String
    /// The event hub named by `EntityPath`, when the string is scoped to one hub.
    public var entityPath: String?
    /// The original string, to be used as the SASL password only.
    public var secret: String

    /// `host:9093`, the Kafka endpoint.
    public var bootstrapServer: String { "\(host):9093" }

    /// Parses and checks a connection string.
    /// - Throws: ``KafkaError/invalidConnectionString(reason:)`` naming what is wrong, never
    ///   echoing the key.
    public init(_ text: String) throws(KafkaError) {
        let trimmed = text.trimmingWhitespace()
        var fields: [String: String] = [:]
        for part in trimmed.split(separator: ";", omittingEmptySubsequences: true) {
            guard let equals = part.firstIndex(of: "=") else {
                throw .invalidConnectionString(reason: "expected NAME=VALUE pairs separated by ';'")
            }
            let name = part[..<equals].trimmingWhitespace().lowercased()
            fields[name] = String(part[part.index(after: equals)...]).trimmingWhitespace()
        }
        guard let endpoint = fields["endpoint"], !endpoint.isEmpty else {
            throw .invalidConnectionString(reason: "Endpoint=sb://NAMESPACE.servicebus.windows.net/ is missing")
        }
        guard endpoint.lowercased().hasPrefix("sb://") else {
            throw .invalidConnectionString(reason: "Endpoint must start with sb://")
        }
        let host = endpoint.dropFirst(5).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        guard !host.isEmpty, host.contains("."), !host.contains(" ") else {
            throw .invalidConnectionString(reason: "Endpoint has no namespace host name")
        }
        // Either a key (SharedAccessKeyName + SharedAccessKey) or a SAS token.
        if fields["sharedaccesssignature"]?.isEmpty == false {
            // The token carries its own scope.
        } else {
            guard fields["sharedaccesskeyname"]?.isEmpty == false else {
                throw .invalidConnectionString(reason: "SharedAccessKeyName is missing")
            }
            guard fields["sharedaccesskey"]?.isEmpty == false else {
                throw .invalidConnectionString(reason: "SharedAccessKey is missing or empty")
            }
        }
        self.host = host.split(separator: ":").first.map(String.init) ?? host
        self.entityPath = fields["entitypath"].flatMap { $0.isEmpty ? nil : $0 }
        self.secret = trimmed
    }
}

import LogBridgeCore
