import Foundation
import FuzzSupport
import LogBridgeCore
@testable import LogBridgeSinks

/// The Loki sink's reading of push answers (`LokiResponse.verdict`): plain-text error bodies,
/// status and `Retry-After` (up to the first newline) from the input.
///
/// - 2xx: delivered. 400: final, with Loki's text (at most 4 KiB of it) as the reason. Otherwise
///   the common HTTP handling, whose delays stay within the 5-minute cap.
/// - A `Retry-After` of whole seconds is honoured up to the cap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLokiResponse(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let status = httpStatus(input.byte())
    let (retryAfter, body) = headerAndBody(input.rest)
    let response = HTTPResponse(status: status, headers: retryAfter.map { [("Retry-After", $0)] } ?? [], body: body)
    let verdict = LokiResponse.verdict(response)
    checkVerdict(verdict, chunk: [0])
    switch status {
    case 200..<300:
        require(verdict == .partial(retry: [], rejected: []), "\(status) judged \(verdict)")
    case 400:
        guard case .rejectAll(400, let reason) = verdict else { return fail("400 judged \(verdict)") }
        // Bytes, not Characters: a combining mark at the start of the body joins the prefix's space.
        require(reason.utf8.starts(with: "Loki: ".utf8) && reason.utf8.count <= 6 + 3 * 4096, "reason \(show(reason.utf8))")
    case 429, 500..<600:
        guard case .retryAll(let after, _) = verdict else { return fail("\(status) judged \(verdict)") }
        if let text = retryAfter?.trimmingCharacters(in: .whitespaces), let seconds = Int(text), seconds >= 0 {
            require(after == min(.seconds(seconds), .seconds(300)), "Retry-After \(text) read as \(String(describing: after))")
        }
    default:
        break
    }
    return 0
}

private func fail(_ message: String) -> CInt {
    require(false, message)
    return 0
}
