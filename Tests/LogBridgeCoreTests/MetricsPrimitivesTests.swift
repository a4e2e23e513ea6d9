import LogBridgeCore
import Testing

/// Core's metric primitives: values readable without an exporter, family shapes judged alike by
/// every registry, heartbeats by loop name.
@Suite struct MetricsPrimitivesTests {
    @Test func countersAndGaugesAreReadableWithoutAnExporter() {
        let registry = UnexportedMetrics()
        let counter = registry.counter("test_events_total", help: "Events.")
        counter.add(3)
        counter.add(0)
        counter.add(2)
        #expect(counter.value == 5)
        let gauge = registry.gauge("test_in_flight", help: "In flight.")
        gauge.set(7)
        gauge.add(-2)
        #expect(gauge.value == 5)
    }

    @Test func aFamilyKeepsItsShape() throws {
        let registry = UnexportedMetrics()
        let family = MetricFamily(name: "test_total", kind: .counter, help: "Test.", labelNames: ["sink"])
        try registry.declare(family)
        // Again with the same kind and labels (another help text too): the same family.
        try registry.declare(MetricFamily(name: "test_total", kind: .counter, help: "Other words.", labelNames: ["sink"]))
        #expect(throws: MetricsRegistryError.self) {
            try registry.declare(MetricFamily(name: "test_total", kind: .gauge, help: "Test.", labelNames: ["sink"]))
        }
        #expect(throws: MetricsRegistryError.self) {
            try registry.declare(MetricFamily(name: "test_total", kind: .counter, help: "Test.", labelNames: ["sink", "reason"]))
        }
    }

    @Test func collectorsRunOnCollectAndCanBeReplaced() {
        let registry = UnexportedMetrics()
        let gauge = Gauge()
        registry.addCollector("a") { gauge.add(1) }
        registry.addCollector("a") { gauge.add(10) }
        registry.collect()
        #expect(gauge.value == 10)
        registry.removeCollector("a")
        registry.collect()
        #expect(gauge.value == 10)
    }

    @Test func aStoppedLoopIsNotStalledAndARestartGetsAFreshHeartbeat() {
        let heartbeats = Heartbeats()
        let first = heartbeats.heartbeat("loop")
        #expect(heartbeats.heartbeat("loop") === first)
        #expect(heartbeats.stalledLoops(olderThan: .zero) == ["loop"])
        first.stop()
        #expect(heartbeats.stalledLoops(olderThan: .zero).isEmpty)
        #expect(heartbeats.heartbeat("loop") !== first)
    }
}
