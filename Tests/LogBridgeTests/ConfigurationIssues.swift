import LogBridge

/// The problems `check` would report for a configuration text; empty when it loads.
func configurationIssues(_ yaml: String, environment: [String: String] = [:]) -> [ConfigurationIssue] {
    do {
        _ = try LogBridgeConfiguration.parse(yaml: yaml, environment: environment)
        return []
    } catch {
        return error.issues
    }
}
