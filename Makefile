# logbridge: the two quick-start commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := demo

# Debian packages the build, the tests and the benchmark need.
DEBIAN_PACKAGES := librdkafka-dev liblmdb-dev zlib1g-dev libpcre2-dev libssl-dev pkg-config kcat
# PyPI packages the tests need: the Prometheus project's reference parser reads /metrics.
PYTHON_PACKAGES := prometheus_client
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
SWIFT_BUILD_FLAGS ?=
RELEASE_BIN := .build/release/logbridge

.PHONY: deps test-deps build release fakes demo test bench bench-micro clean

## deps: install the Debian packages logbridge needs, if any is missing.
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## test-deps: the PyPI packages the tests need, if missing.
test-deps:
	@python3 -c "import prometheus_client" 2>/dev/null || python3 -m pip install -q $(PYTHON_PACKAGES)

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

## test: the whole test suite (unit, mock-cluster integration, kill -9 crash test).
test: deps test-deps
	swift test $(SWIFT_BUILD_FLAGS)

## bench: consume-to-spool and end-to-end (file, Elasticsearch) benchmark against kcat, 1,000,000 records.
bench: release fakes
	python3 Benchmarks/e2e/bench.py --binary $(RELEASE_BIN)

## bench-micro: micro-benchmarks (package-benchmark, its own package in Benchmarks/): spool ingest
## against raw liblmdb, JSON validation, envelope encoding. Extra plugin options through
## BENCH_MICRO_FLAGS, e.g. BENCH_MICRO_FLAGS="--filter SpoolIngest".
bench-micro: deps
	cd Benchmarks && swift package benchmark $(BENCH_MICRO_FLAGS)

clean:
	rm -rf .build demo-data Benchmarks/.build
