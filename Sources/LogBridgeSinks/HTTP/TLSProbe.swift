import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// One TLS handshake to an endpoint that failed, to tell apart what the failure itself does not:
/// BoringSSL reports an untrusted and an expired certificate alike (`CERTIFICATE_VERIFY_FAILED`),
/// and an `http://` request to a TLS port just sees the connection closed.
///
/// The probe sends no request and no credentials: it reads the certificate the server presents
/// (accepting it, so the handshake goes far enough to see it) and closes the connection.
enum TLSProbe {
    /// What the server did with a ClientHello.
    enum Outcome: Sendable {
        /// It answered in TLS and presented this leaf certificate's validity (seconds since the
        /// epoch).
        case presented(notBefore: Int, notAfter: Int)
        /// It answered in TLS without presenting a certificate (a handshake alert).
        case spokeTLS
        /// No TLS answer: closed, reset, refused, not TLS, or nothing within the deadline.
        case noTLS
    }

    /// - Parameters:
    ///   - host: the endpoint's host; sent as SNI unless it is an IP address.
    ///   - configuration: the sink's TLS configuration (client certificate and all), so the server
    ///     sees the same hello as for real requests.
    ///   - timeout: the whole probe's deadline.
    static func handshake(host: String, port: Int, configuration: TLSConfiguration, timeout: Duration) async -> Outcome {
        var configuration = configuration
        // The custom callback below replaces chain verification; BoringSSL only calls it while
        // verification is on. Host names are not checked: the probe asks only about dates.
        configuration.certificateVerification = .noHostnameVerification
        guard let context = try? NIOSSLContext(configuration: configuration) else { return .noTLS }
        let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let isAddress = (try? SocketAddress(ipAddress: bareHost, port: port)) != nil
        let group = MultiThreadedEventLoopGroup.singleton
        let result = group.any().makePromise(of: Outcome.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(
                        context: context, serverHostname: isAddress ? nil : bareHost,
                        customVerificationCallback: { certificates, verification in
                            if let leaf = certificates.first {
                                result.succeed(.presented(notBefore: Int(leaf.notValidBefore), notAfter: Int(leaf.notValidAfter)))
                            } else {
                                result.succeed(.spokeTLS)
                            }
                            // Refused, so the handshake stops here and nothing is ever sent.
                            verification.succeed(.failed)
                        })
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHandler(ProbeEndHandler(result: result))
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: bareHost, port: port).get()
        } catch {
            result.succeed(.noTLS)
            return .noTLS
        }
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            result.succeed(.noTLS)
        }
        let outcome = (try? await result.futureResult.get()) ?? .noTLS
        deadline.cancel()
        try? await channel.close()
        return outcome
    }
}

/// Ends the probe when the handshake fails before the certificate callback ran: a TLS alert from
/// the server still proves the port speaks TLS; anything else (garbage, EOF) does not.
private final class ProbeEndHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let result: EventLoopPromise<TLSProbe.Outcome>

    init(result: EventLoopPromise<TLSProbe.Outcome>) { self.result = result }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reasons = NetworkFaultClassifier.boringSSLReasons(error)
        result.succeed(reasons.contains { $0.contains("ALERT") } ? .spokeTLS : .noTLS)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        result.succeed(.noTLS)
        context.fireChannelInactive()
    }
}
