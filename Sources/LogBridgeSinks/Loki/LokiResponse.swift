/// What a push answer means for the batch (docs/sink-protocols.md §3.4): 204 on success,
/// plain-text errors otherwise.
enum LokiResponse {
    /// The verdict for a chunk sent in one push request. A 400 is final: Loki stored the valid
    /// entries and names the last refused one in its plain-text body, which becomes the reason.
    static func verdict(_ response: HTTPResponse) -> HTTPChunkVerdict {
        if (200..<300).contains(response.status) { return .partial(retry: [], rejected: []) }
        if response.status == 400 { return .rejectAll(status: 400, reason: "Loki: \(response.bodyText)") }
        return HTTPBatchDriver.commonVerdict(response)
    }
}
