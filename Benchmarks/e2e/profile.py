#!/usr/bin/env python3
"""Where logbridge's CPU goes in one `make bench` scenario: `make bench-profile` (perf).

Runs the scenario (default: Elasticsearch, no pipeline) on the same synthetic data as bench.py under
`perf record -g`, checks every record arrived once, and writes a summary to
Benchmarks/results/profile-KEY.txt: CPU seconds per million records, the share of each thread
(Kafka poll, spool writer, spool read-out + pipeline, sink delivery on Swift's pool, librdkafka's
broker threads) and the hottest symbols with and without their callees. This is the evidence the
benchmark report's goals refer to when logbridge is behind one.
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import bench
from harness import MockCluster, logbridge_config

ROOT = Path(__file__).resolve().parents[2]


def perf_report(data, *options):
    out = subprocess.run(["perf", "report", "-i", str(data), "--stdio", *options],
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if re.match(r"^\s+[0-9.]+%", line)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(ROOT / ".build/release/logbridge"))
    parser.add_argument("--fakes", default=str(ROOT / ".build/release/logbridge-fakes"))
    parser.add_argument("--scenario", default="es", help="a bench.py scenario key")
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--output", default="")
    args = parser.parse_args()
    if not shutil.which("perf"):
        sys.exit("perf is missing (Debian: linux-perf)")
    scenario = next(s for s in bench.SCENARIOS if s.key == args.scenario)
    work = Path(tempfile.mkdtemp(prefix="logbridge-profile-"))
    cluster = MockCluster(args.binary, args.records, max(96, args.records // 10_000))
    fake = bench.start_fake(args, scenario)
    data = work / "perf.data"
    try:
        config = logbridge_config(work, cluster.bootstrap, "logbridge-profile",
                                  bench.sink_yaml(scenario, fake.url if fake else "", work), pipeline=scenario.pipeline)
        subprocess.run(["perf", "record", "-F", "1999", "-g", "-o", str(data), args.binary, "run", "--config", str(config),
                        "--until-delivered", str(args.records)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        counts = fake.close() if fake else None
        fake = None
        bench.check_exactly_once(scenario, counts, args.records)
        threads = perf_report(data, "--no-children", "--sort", "comm", "-F", "overhead,sample,comm")
        samples = sum(int(line.split()[1]) for line in threads)
        self_time = perf_report(data, "--no-children", "--sort", "dso,symbol", "-g", "none")[:25]
        inclusive = perf_report(data, "--children", "--sort", "symbol", "-g", "none")
        logbridge_frames = [l for l in inclusive if "LogBridge" in l or "mdb_" in l or "rd_kafka" in l][:25]
        # The kernel's page work (copying into the page cache, zeroing fresh pages) is a large share
        # and says nothing by itself: which thread pays it says whose it is.
        by_thread = perf_report(data, "--no-children", "--sort", "sym,comm", "-g", "none")
        kernel_pages = {symbol: ["    " + " ".join(line.split()) for line in by_thread if symbol in line][:6]
                        for symbol in ("copy_folio_from_iter_atomic", "clear_page_erms")}
    finally:
        if fake:
            fake.close()
        cluster.close()
    lines = [
        f"# perf profile: {scenario.name}, {args.records:,} records",
        f"# perf record -F 1999 -g; {samples} samples = ~{samples / 1999:.2f} CPU s = "
        f"~{samples / 1999 * 1e6 / args.records:.2f} CPU s per million records (perf adds some overhead)",
        "",
        "## CPU by thread (lb-kafka-poll: librdkafka consumer poll + batch copy; lb-spool-writer: LMDB",
        "## transactions; lb-read-out: spool reads + pipeline; *qos*: Swift's pool, sink request building;",
        "## NIO-*: HTTP client I/O; rdk:*: librdkafka's broker threads)",
        *threads,
        "",
        "## Hottest symbols, self time",
        *self_time,
        "",
        "## logbridge, LMDB and librdkafka frames, with callees",
        *logbridge_frames,
        "",
        "## The kernel's page work by thread (share of all samples)",
        *[f"{symbol}:\n" + "\n".join(rows) for symbol, rows in kernel_pages.items()],
    ]
    output = Path(args.output or ROOT / f"Benchmarks/results/profile-{scenario.key}.txt")
    output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {output}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
