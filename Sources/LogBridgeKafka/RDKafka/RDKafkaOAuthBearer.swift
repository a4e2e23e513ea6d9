import CRdKafka

/// The SASL OAUTHBEARER calls logbridge makes on a librdkafka handle: a refresh callback that
/// only asks for a token (it runs inside `rd_kafka_consumer_poll`, on the poll thread, and must
/// not wait for HTTP), and the thread-safe calls that hand a token, or a failure, to librdkafka.
enum RDKafkaOAuthBearer {
    /// Registers the refresh callback; it reaches the ``CallbackContext`` through the
    /// configuration's opaque pointer.
    static func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, oauthBearerRefreshCallback)
    }

    /// Hands `token` to librdkafka, which wakes the broker threads waiting to sign in.
    /// - Returns: nil, or librdkafka's reason for refusing the token (it checks the characters,
    ///   the principal and that the expiry is in the future). The reason never holds the token.
    static func setToken(_ handle: OpaquePointer, value: String, expiresAtMilliseconds: Int64, principal: String) -> String? {
        var errorBuffer = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_oauthbearer_set_token(handle, value, expiresAtMilliseconds, principal, nil, 0, &errorBuffer, errorBuffer.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        let message = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return "\(RDKafkaConfig.errorMessage(code)): \(message)"
    }

    /// Tells librdkafka no token could be had: it reports `reason` as an authentication error
    /// and its brokers keep waiting for a token.
    static func setFailure(_ handle: OpaquePointer, reason: String) {
        _ = rd_kafka_oauthbearer_set_token_failure(handle, reason)
    }
}

private let oauthBearerRefreshCallback: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    _, _, opaque in
    // `sasl.oauthbearer.config` is never set by logbridge: the configuration argument is unused.
    CallbackContext.from(opaque)?.refresher?.refreshRequested()
}
