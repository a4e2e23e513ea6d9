import AsyncHTTPClient
import Foundation
import LogBridgeCore
import Logging
import Synchronization

/// Keeps a valid Entra ID access token on a librdkafka handle: fetches one at start, refreshes it
/// well before it expires, retries with backoff when Entra ID fails, and reports the failure to
/// librdkafka, the logs, the metrics and `/readyz`.
///
/// The token is fetched by a task of its own (non-blocking HTTP), never on the poll thread:
/// librdkafka's refresh callback runs inside `rd_kafka_consumer_poll` and only hands over a token
/// already held. Every call on the handle is made under the state lock, and ``stop()`` clears the
/// handle before the consumer destroys it, so a late answer never touches a freed handle.
public final class OAuthBearerRefresher: Sendable {
    /// Retry and refresh timing.
    public struct Timing: Sendable {
        /// First retry delay after a failure, doubled up to `maxBackoff`. Default: 1 s.
        public var minBackoff: Duration = .seconds(1)
        /// Default: 60 s.
        public var maxBackoff: Duration = .seconds(60)
        /// Refresh this long before expiry at the latest (or at 80% of the lifetime, whichever
        /// comes first). Default: 5 min.
        public var refreshBeforeExpiry: Duration = .seconds(300)
        public init() {}
    }

    /// What the refresher has done so far (tests, `/readyz`).
    public struct Status: Sendable {
        /// Tokens librdkafka accepted.
        public var tokensSet = 0
        /// Failed attempts (token endpoint or librdkafka refused), in total and in a row.
        public var failures = 0
        public var consecutiveFailures = 0
        /// The last failure's reason, cleared by the next success.
        public var lastError: String?
        /// Times librdkafka's refresh callback fired.
        public var callbacks = 0
        /// When the token librdkafka holds expires.
        public var validUntil: ContinuousClock.Instant?
        public var validUntilMilliseconds: Int64?
    }

    /// `@unchecked Sendable`: the handle is only used under the state lock, with the calls
    /// librdkafka documents as thread-safe (`rd_kafka_oauthbearer_set_token[_failure]`).
    private struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private struct State {
        var handle: Handle?
        var token: AccessToken?
        var status = Status()
        var task: Task<Void, Never>?
        var stopped = false
    }

    private let state = Mutex(State())
    private let client: EntraTokenClient
    private let timing: Timing
    private let statistics: SourceStatistics
    private let logger: Logger

    /// One client for every token request: redirects are refused (a token request carries the
    /// credential, which must go to the configured authority only).
    private static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init(signIn: EntraIDSignIn, statistics: SourceStatistics, logger: Logger, timing: Timing = Timing()) {
        self.client = EntraTokenClient(signIn: signIn)
        self.timing = timing
        self.statistics = statistics
        var logger = logger
        logger[metadataKey: "entra.namespace"] = "\(signIn.namespaceHost)"
        logger[metadataKey: "entra.client_id"] = "\(signIn.clientID)"
        self.logger = logger
    }

    public var status: Status { state.withLock { $0.status } }

    /// Why sign-in is failing now, for `/readyz`; nil while the last attempt succeeded.
    public var problem: String? {
        state.withLock { state in
            guard let error = state.status.lastError else { return nil }
            let now = ContinuousClock.now
            let validity: String
            if let until = state.status.validUntil, until > now {
                validity = "the current token is valid for \(Int((until - now).components.seconds)) s more"
            } else {
                validity = "no valid token: Kafka cannot sign in"
            }
            return "source: Entra ID token for \(client.signIn.namespaceHost) failed \(state.status.consecutiveFailures) time(s) in a row (\(error)); \(validity); retrying"
        }
    }

    /// Gives the refresher the handle whose token it keeps (right after `rd_kafka_new`).
    func attach(_ handle: OpaquePointer) {
        let box = Handle(pointer: handle)
        state.withLock { $0.handle = box }
    }

    /// Starts fetching tokens.
    func start() {
        state.withLock { state in
            guard state.task == nil, !state.stopped else { return }
            state.task = Task { [self] in await run() }
        }
    }

    /// Stops refreshing and forgets the handle (call before `rd_kafka_destroy`).
    func stop() {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.stopped = true
            state.handle = nil
            defer { state.task = nil }
            return state.task
        }
        task?.cancel()
    }

    /// librdkafka's refresh callback (poll thread): hands over the token already held, if it is
    /// still valid; otherwise the refresh task is already fetching one and sets it on arrival.
    func refreshRequested() {
        state.withLock { state in
            state.status.callbacks += 1
            guard let handle = state.handle, let token = state.token, token.expiresAt > .now + .seconds(5) else { return }
            _ = RDKafkaOAuthBearer.setToken(
                handle.pointer, value: token.value, expiresAtMilliseconds: token.expiresAtMilliseconds, principal: client.signIn.clientID)
        }
    }

    /// When to refresh a token of `lifetime`: at 80% of it or `refreshBeforeExpiry` before the
    /// end, whichever comes first, but not before half of it (short-lived tokens in tests).
    public static func refreshDelay(lifetime: Duration, before: Duration) -> Duration {
        max(min(lifetime * 0.8, lifetime - before), lifetime / 2)
    }

    private func run() async {
        var backoff = timing.minBackoff
        while !Task.isCancelled {
            var delay: Duration
            do {
                let token = try await client.fetch(using: Self.http)
                if let refused = install(token) {
                    failed("librdkafka refused the token: \(refused)")
                    delay = backoff
                    backoff = min(backoff * 2, timing.maxBackoff)
                } else {
                    delay = Self.refreshDelay(lifetime: token.lifetime, before: timing.refreshBeforeExpiry)
                    backoff = timing.minBackoff
                    logger.info(
                        "Entra ID token obtained for the Kafka endpoint",
                        metadata: ["expires_in": "\(token.lifetime.components.seconds)s", "next_refresh_in": "\(delay.components.seconds)s"])
                }
            } catch {
                failed(error.description)
                delay = backoff
                backoff = min(backoff * 2, timing.maxBackoff)
            }
            do { try await Task.sleep(for: delay) } catch { return }
        }
    }

    /// Sets the token on the handle. Returns librdkafka's refusal, if any.
    private func install(_ token: AccessToken) -> String? {
        enum Outcome { case installed, refused(String), detached }
        let outcome: Outcome = state.withLock { state in
            // Stopped meanwhile: the handle is gone (or going); nothing to set, nothing to count.
            guard let handle = state.handle else { return .detached }
            if let refused = RDKafkaOAuthBearer.setToken(
                handle.pointer, value: token.value, expiresAtMilliseconds: token.expiresAtMilliseconds, principal: client.signIn.clientID)
            {
                return .refused(EntraTokenClient.scrub(refused, [token.value]))
            }
            state.token = token
            state.status.tokensSet += 1
            state.status.consecutiveFailures = 0
            state.status.lastError = nil
            state.status.validUntil = token.expiresAt
            state.status.validUntilMilliseconds = token.expiresAtMilliseconds
            return .installed
        }
        switch outcome {
        case .refused(let reason): return reason
        case .detached: return nil
        case .installed:
            statistics.oauthTokenRefreshes.add(1)
            statistics.oauthTokenExpiry.set(Int(token.expiresAtMilliseconds / 1000))
            return nil
        }
    }

    private func failed(_ reason: String) {
        let (count, stillValid) = state.withLock { state -> (Int, Bool) in
            state.status.failures += 1
            state.status.consecutiveFailures += 1
            state.status.lastError = reason
            let valid = state.token.map { $0.expiresAt > .now } ?? false
            // With a valid token the brokers keep signing in with it; without one librdkafka
            // reports the failure as an authentication error and its brokers keep waiting.
            if !valid, let handle = state.handle { RDKafkaOAuthBearer.setFailure(handle.pointer, reason: reason) }
            return (state.status.consecutiveFailures, valid)
        }
        statistics.oauthTokenRefreshFailures.add(1)
        logger.log(
            level: stillValid ? .warning : .error,
            "Entra ID token request failed; retrying",
            metadata: ["reason": "\(reason)", "failures_in_a_row": "\(count)", "current_token_valid": "\(stillValid)"])
    }
}
