# logbridge: the two quick-start commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := demo

# Debian packages the build, the tests and the benchmark need (openssl: the TLS tests generate
# their certificates with its command line tool).
DEBIAN_PACKAGES := librdkafka-dev liblmdb-dev liblz4-dev libzstd-dev zlib1g-dev libpcre2-dev libssl-dev pkg-config kcat openssl
# PyPI packages the tests need: the Prometheus project's reference parser reads /metrics; the
# real Helm engine (helm-sdkpy bundles Helm's Go library; there is no helm binary in Debian 12)
# and PyYAML lint and render the chart.
PYTHON_PACKAGES := prometheus_client helm-sdkpy pyyaml
# promtool (Debian's prometheus package) checks and unit-tests the chart's alert rules and the
# dashboard's queries. Only the static promtool binary is extracted from the package, so CI does not
# install (or start) a Prometheus server and its 300 MB of web assets.
PROMTOOL := .build/tools/usr/bin/promtool
# What `make bench` adds: the peer it is compared with (rsyslog with its Kafka input and
# Elasticsearch output, Debian's) and the chart's plotting library (PyPI).
BENCH_DEBIAN_PACKAGES := rsyslog rsyslog-kafka rsyslog-elasticsearch
BENCH_PYTHON_PACKAGES := matplotlib
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
SWIFT_BUILD_FLAGS ?=
RELEASE_BIN := .build/release/logbridge

.PHONY: deps test-deps bench-deps bench-profile bench-ab soak build release fakes demo test deploy-check bench chaos bench-micro fuzz clean install uninstall install-check

## deps: install the Debian packages logbridge needs, if any is missing.
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## test-deps: the PyPI packages and promtool the tests need, if missing.
test-deps: $(PROMTOOL)
	@python3 -c "import prometheus_client, helm_sdkpy, yaml" 2>/dev/null || \
		python3 -m pip install -q --ignore-requires-python $(PYTHON_PACKAGES)

$(PROMTOOL):
	@mkdir -p .build/tools
	@cd .build/tools && { apt-get download prometheus >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -qq && apt-get download prometheus >/dev/null; }; } && \
		dpkg-deb -x prometheus_*.deb . && rm -f prometheus_*.deb
	@$(PROMTOOL) --version | head -1

## build: debug build.
build: deps
	swift build $(SWIFT_BUILD_FLAGS)

## release: optimised build of the logbridge binary.
release: deps
	swift build -c release --product logbridge $(SWIFT_BUILD_FLAGS)

## fakes: the protocol fakes as a process of their own (for make bench).
fakes: deps
	swift build -c release --product logbridge-fakes $(SWIFT_BUILD_FLAGS)

## demo: build in release mode and run the gateway on its embedded default.
demo: release
	$(RELEASE_BIN) demo

## test: the deployment checks (Helm chart with the real Helm engine, alert rules and dashboard
## with promtool, VM install into a staging root with systemd-analyze, Containerfile), then the
## whole Swift test suite (unit, mock-cluster integration, kill -9 crash test). The Swift suite runs
## last so its summary closes the output.
test: deps test-deps
	swift build $(SWIFT_BUILD_FLAGS)
	$(MAKE) --no-print-directory deploy-check LOGBRIDGE_BIN=.build/debug/logbridge
	swift test $(SWIFT_BUILD_FLAGS)

## deploy-check: the deployment checks alone, against LOGBRIDGE_BIN (default: the release binary).
LOGBRIDGE_BIN ?= $(RELEASE_BIN)
deploy-check: test-deps
	python3 helm/lint.py --logbridge $(LOGBRIDGE_BIN)
	PATH="$(abspath $(dir $(PROMTOOL))):$$PATH" python3 helm/validate_observability.py
	BINARY="$(LOGBRIDGE_BIN)" bash packaging/test-install.sh
	bash packaging/check-containerfile.sh

## bench-deps: rsyslog (the peer) and matplotlib (the chart), if missing.
bench-deps: deps
	@missing=""; for p in $(BENCH_DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@python3 -c "import matplotlib" 2>/dev/null || python3 -m pip install -q $(BENCH_PYTHON_PACKAGES)

## bench: logbridge (spool, file, Elasticsearch plain/redacted/gzip, Splunk HEC with acks, Loki)
## against kcat and rsyslog on the same 1,000,000 records: throughput, CPU, RSS, p50/p99 latency,
## a sink outage; writes Benchmarks/results/latest.md and latest.png.
bench: release fakes bench-deps
	python3 Benchmarks/e2e/bench.py --binary $(RELEASE_BIN)

## chaos: the chaos suite on 1,000,000 records against the mock cluster and the fakes (kill -9 x20,
## sink outage, brokers down, members joining and leaving, spool disk full, 429/503 flapping), each
## scenario ending with an exact count; writes Benchmarks/results/chaos.md, fails if a verdict fails.
## Extra options through CHAOS_FLAGS, e.g. CHAOS_FLAGS="--only kill9 --records 200000".
chaos: release fakes
	python3 Benchmarks/chaos/chaos.py --binary $(RELEASE_BIN) $(CHAOS_FLAGS)

## bench-profile: where logbridge's CPU goes in one bench scenario (perf record; SCENARIO=es by
## default, any bench.py key), written to Benchmarks/results/profile-SCENARIO.txt.
SCENARIO ?= es
bench-profile: release fakes
	@command -v perf >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq linux-perf; }
	cd Benchmarks/e2e && python3 profile.py --binary $(abspath $(RELEASE_BIN)) --fakes $(abspath .build/release/logbridge-fakes) --scenario $(SCENARIO)

## bench-ab: an A/B of two binaries on one bench scenario, by thread (Benchmarks/e2e/ab.py):
## A=path/to/old/logbridge (required), B the release build, SCENARIO=es by default, ROUNDS=5
## alternated runs of each; prints the median and lowest CPU s per 1M records of each thread, the
## fake's CPU, and seconds from the first record to the last spooled and delivered. PACE=RATE
## produces the records at RATE/s while logbridge runs (a sink keeping up) instead of a backlog.
ROUNDS ?= 5
PACE ?= 0
bench-ab: release fakes
	@test -n "$(A)" || { echo "bench-ab: set A to the old binary (A=/path/to/logbridge)"; exit 2; }
	cd Benchmarks/e2e && python3 ab.py --a $(abspath $(A)) --b $(abspath $(RELEASE_BIN)) \
		--fakes $(abspath .build/release/logbridge-fakes) --scenario $(SCENARIO) --rounds $(ROUNDS) --pace $(PACE)

## soak: fills a spool to its high watermark and drains part of it, SOAK_ROUNDS times (400 by
## default, ~2 minutes): every round must reach the watermark with the spool writable (freed LMDB
## overflow pages reused, no MDB_MAP_FULL before max_bytes); writes Benchmarks/results/spool-soak.csv.
SOAK_ROUNDS ?= 400
soak: deps
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	LOGBRIDGE_SOAK_ROUNDS=$(SOAK_ROUNDS) LOGBRIDGE_SOAK_REPORT=$(abspath Benchmarks/results/spool-soak.csv) \
		swift test --skip-build $(SWIFT_BUILD_FLAGS) --filter SpoolCapacitySoakTests

## bench-micro: micro-benchmarks (package-benchmark, its own package in Benchmarks/): spool ingest
## against raw liblmdb, JSON validation, envelope encoding. Extra plugin options through
## BENCH_MICRO_FLAGS, e.g. BENCH_MICRO_FLAGS="--filter SpoolIngest".
bench-micro: deps
	cd Benchmarks && swift package benchmark $(BENCH_MICRO_FLAGS)

## fuzz: libFuzzer targets (JSON, cri, logfmt, kv, csv, redact, config loader, sink responses), each
## for a fixed number of inputs from its corpus in Fuzz/Corpus (its own package and build folder,
## Fuzz/.build; not part of make test). Some targets: FUZZ_TARGETS="cri kv"; see Fuzz/README.md.
fuzz: deps
	bash Fuzz/run.sh $(FUZZ_TARGETS)

## install: install the release binary, the reference config (kept if present), the examples and
## the systemd unit (packaging/install.sh). DESTDIR=/stage for a staging root, PREFIX=/opt/x for
## another prefix; SWIFT_BUILD_FLAGS=--static-swift-stdlib for hosts without the Swift runtime.
PREFIX ?= /usr/local
DESTDIR ?=
install: release
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" BINARY="$(RELEASE_BIN)" sh packaging/install.sh

## uninstall: remove binary, unit and examples; PURGE=1 also the config, the spool and the user.
uninstall:
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" sh packaging/uninstall.sh $(if $(filter 1,$(PURGE)),--purge)

## install-check: install into a temporary root and check the tree, upgrade and uninstall.
install-check: release
	BINARY="$(RELEASE_BIN)" bash packaging/test-install.sh

clean:
	rm -rf .build demo-data Benchmarks/.build Fuzz/.build
