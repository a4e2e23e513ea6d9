// The test kit is what a test of the whole application imports: it brings the helpers, the
// protocol fakes and the mock cluster with it. A module's own tests import only the parts they
// use (LogBridgeTestSupport, LogBridgeFakes, LogBridgeMockCluster), so they build without the
// rest of the application.
@_exported import LogBridgeFakes
@_exported import LogBridgeMockCluster
@_exported import LogBridgeTestSupport
