/// Where the scanned bytes sit; decides how a replacement is written.
public enum RedactionContext: Sendable {
    /// A whole JSON document (a log record). Replacements inside string values are written as
    /// is; a match outside strings (a JSON number such as `4111111111111111`) becomes a quoted
    /// JSON string (`"[REDACTED:credit_card]"`), so the output stays valid JSON whenever the input was.
    case jsonText
    /// The escaped bytes between the quotes of one JSON string (without the quotes). The output
    /// stays a valid JSON string body: replacements never contain `"` or `\` and never split an escape.
    case jsonString
    /// Raw text (not JSON): replacements are written as is.
    case plain
}

/// How a detected value is replaced.
public enum RedactionMode: String, Sendable, CaseIterable {
    /// `[REDACTED:<detector>]`.
    case mask
    /// `[<detector>:<hex>]`: the first `hashLength` hex characters of HMAC-SHA256(hashKey, value),
    /// so equal values map to equal tokens (joinable across records) without being readable.
    ///
    /// - Important: In the `.jsonText` and `.jsonString` contexts the hashed bytes are the value as
    ///   it appears in the JSON text, escapes included. Detected values rarely contain escapes
    ///   (none of the built-in detectors match across one except `private_key`), so the token of a
    ///   value is normally the same in JSON and in plain text.
    case hash
    /// Keeps a part that helps debugging and masks the rest:
    /// - `credit_card`: `[REDACTED:credit_card:1111]` (last 4 digits)
    /// - `email`: `[REDACTED:email]@example.com` (the domain)
    /// - `us_ssn`: `[REDACTED:us_ssn:6789]` (last 4 digits)
    /// - `phone`: `[REDACTED:phone:67]` (last 2 digits)
    /// - `iban`: `[REDACTED:iban:DE..3000]` (country code and last 4 characters)
    /// - `ipv4`: `10.1.x.x` (first two octets)
    /// - every other detector, custom ones included: as `.mask`.
    case partial
}

/// The detectors built into ``Redactor``; the raw value is the name used in masks, counters,
/// ``RedactionRules/modeOverrides`` and configuration.
public enum BuiltInDetector: String, Sendable, CaseIterable {
    case email
    case creditCard = "credit_card"
    case ipv4
    case ipv6
    case usSSN = "us_ssn"
    case phone
    case iban
    case jwt
    case bearerToken = "bearer_token"
    case azureConnectionString = "azure_connection_string"
    case awsAccessKey = "aws_access_key"
    case urlCredentials = "url_credentials"
    case privateKey = "private_key"
    /// The value of a secret-named URL query parameter (`?access_token=`, `&api_key=`, `&sig=`, ...).
    case urlQuerySecret = "url_query_secret"
    /// Well-known token formats wherever they stand: GitHub (`ghp_`, `github_pat_`, ...), Stripe
    /// (`sk_live_`, `rk_live_`, ...), Slack (`xoxb-`, `xapp-`, ...), Google OAuth (`ya29.`).
    case apiToken = "api_token"
}

/// A user-supplied PCRE2 pattern. The whole match is replaced, or only the group named `value`
/// when the pattern has one (and it took part in the match).
public struct CustomDetector: Sendable {
    public var name: String
    public var pattern: String

    public init(name: String, pattern: String) {
        self.name = name
        self.pattern = pattern
    }
}

/// What a ``Redactor`` looks for and how it replaces what it finds.
public struct RedactionRules: Sendable {
    /// Built-in detectors to run. Default: all of them, the secret detectors included: a
    /// forwarder that replaces a Splunk Heavy Forwarder is expected to mask secrets as well as
    /// personal data; drop one from the list to keep its values.
    public var detectors: [BuiltInDetector]
    /// Custom PCRE2 detectors, one pass each over the input. Default: none.
    public var custom: [CustomDetector]
    /// Replacement mode for every detector without an override. Default: `.mask`.
    public var mode: RedactionMode
    /// Per-detector modes, by name (built-in raw value or custom name). Default: none.
    public var modeOverrides: [String: RedactionMode]
    /// HMAC key for `.hash`; required when any detector resolves to `.hash`. Default: nil.
    public var hashKey: [UInt8]?
    /// Hex characters of the HMAC kept in a hash token, 4...64. Default: 16.
    public var hashLength: Int

    public init(
        detectors: [BuiltInDetector] = BuiltInDetector.allCases,
        custom: [CustomDetector] = [],
        mode: RedactionMode = .mask,
        modeOverrides: [String: RedactionMode] = [:],
        hashKey: [UInt8]? = nil,
        hashLength: Int = 16
    ) {
        self.detectors = detectors
        self.custom = custom
        self.mode = mode
        self.modeOverrides = modeOverrides
        self.hashKey = hashKey
        self.hashLength = hashLength
    }
}

/// A rule set or pattern that cannot be used; the message says what to change.
public struct RedactionError: Error, CustomStringConvertible, Sendable {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}
