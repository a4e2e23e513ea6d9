import LogBridgeCore

extension Spool: IngestTarget {}
