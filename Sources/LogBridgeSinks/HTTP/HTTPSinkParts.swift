import LogBridgeCore
import Logging

/// What every HTTP sink is built from: the transport, the endpoint pool, the delivery loop and,
/// with `concurrency: adaptive`, the AIMD controller whose permits the runner uses.
struct HTTPSinkParts: Sendable {
    let transport: HTTPTransport
    let pool: EndpointPool
    let driver: HTTPBatchDriver
    let adaptive: AdaptiveConcurrency?
    /// The gateway's logger, tagged with the sink's name.
    let logger: Logger

    init(settings: HTTPSinkSettings, sinkName: String, statistics: SinkStatistics?, logger: Logger) throws {
        var logger = logger
        logger[metadataKey: LogKey.sink] = "\(sinkName)"
        self.logger = logger
        transport = try HTTPTransport(settings: settings, logger: logger)
        pool = EndpointPool(urls: settings.endpoints, ejectAfterFailures: settings.ejectAfterFailures, ejectionTime: settings.ejectionTime)
        adaptive = settings.adaptiveConcurrencyMaximum.map { AdaptiveConcurrency(maximum: $0) }
        var driver = HTTPBatchDriver(
            pool: pool, sinkName: sinkName, logger: logger, adaptive: adaptive, statistics: statistics ?? SinkStatistics(name: sinkName))
        driver.maxBackoff = settings.maxBackoff
        self.driver = driver
    }
}
