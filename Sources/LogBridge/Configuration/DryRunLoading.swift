/// How `logbridge pipeline test` loads a configuration: a dry run needs only what the pipeline
/// needs, so the secrets of the source, spool, sinks and admin endpoint may be missing on the
/// machine it runs on (a workstation has no `/run/secrets/...`).
///
/// - Outside the pipeline sections, a `${file:}` or `${env:}` reference that cannot be resolved
///   becomes ``unresolvedValue``, problems about that key are dropped, and a note says so.
/// - Inside them (`pipeline:` and `sinks.NAME.pipeline:`) references must resolve, with one
///   exception: a redact processor's `hash_key` becomes ``placeholderHashKey`` with a note saying
///   that hashed values differ from the gateway's, unless ``hashKeyFile`` gives the key.
public struct DryRunLoading: Sendable, Equatable {
    /// A file holding the key for every redact processor's `hash_key` (read like `${file:}`),
    /// instead of the configured ones. `pipeline test --hash-key-file`.
    public var hashKeyFile: String?

    public init(hashKeyFile: String? = nil) {
        self.hashKeyFile = hashKeyFile
    }

    /// What an unresolved reference outside the pipeline sections reads as.
    public static let unresolvedValue = "unresolved-in-dry-run"
    /// The `hash_key` of a redact processor whose key cannot be read in a dry run: fixed, so a dry
    /// run's hashes are stable from one run to the next, and never the gateway's.
    public static let placeholderHashKey = "logbridge-pipeline-test-placeholder-key"
}

/// A value a pipeline key may take in a dry run when its reference cannot be resolved, and the
/// note that says so.
struct DryRunPlaceholder {
    var value: String
    var notice: String
}
