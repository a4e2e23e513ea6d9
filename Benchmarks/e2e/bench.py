#!/usr/bin/env python3
"""End-to-end consume-to-spool benchmark behind `make bench`.

Starts a librdkafka mock cluster in its own process (`logbridge mock-cluster`), pre-loaded with
1,000,000 Fluent Bit-style records (~300 B, 20% with PII) spread round robin over 96 partitions
(the mock keeps only a few MB per partition), then runs on the same data, in turn:

  1. kcat, simple consumer (`-o beginning -e`): the floor for any librdkafka consumer;
  2. kcat in a consumer group (`-G`): the same group join logbridge pays;
  3. logbridge: consumer group -> LMDB spool (fsync'd transactions), with a file sink on
     /dev/null, so the run measures the spool path (the sink only reads and encodes);
  4. logbridge: the same into a real file sink (fsync'd): the whole local path.

Each run is repeated (default 3 times) and the median reported: wall time, records/s, MB/s,
CPU seconds (user+sys of that process alone) per million records and peak RSS, then ratios against
kcat from the same run. Nothing is asserted: the machine is shared and noisy, ratios are what
matter. Results go to stdout and Benchmarks/results/latest.md.
"""
import argparse
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_measured(cmd, stdout=subprocess.DEVNULL, timeout=600):
    """Runs cmd, returns (wall seconds, cpu seconds, peak RSS MiB, stdout text or None)."""
    start = time.monotonic()
    out_file = tempfile.TemporaryFile() if stdout is subprocess.PIPE else None
    # Standard error goes to a file, not a pipe: a pipe read only after exit blocks the process
    # once it has written 64 KiB (librdkafka's reconnect warnings can), which looked like a hang.
    err_file = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=out_file if out_file else stdout, stderr=err_file)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid != 0:
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"timeout: {' '.join(cmd)}")
        time.sleep(0.005)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err_file.seek(0)
    stderr = err_file.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {stderr[-2000:]}")
    text = None
    if out_file:
        out_file.seek(0)
        text = out_file.read().decode()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, text


class MockCluster:
    def __init__(self, binary, records, partitions):
        self.proc = subprocess.Popen(
            [binary, "mock-cluster", "--records", str(records), "--partitions", str(partitions)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.bootstrap = None
        for line in self.proc.stdout:
            line = line.strip()
            if line.startswith("bootstrap="):
                self.bootstrap = line.split("=", 1)[1]
            elif line.startswith("seeded="):
                print(f"  mock cluster: {line}", flush=True)
            elif line == "ready":
                break
        if not self.bootstrap:
            raise RuntimeError("mock cluster did not start")

    def close(self):
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)


class FakeElasticsearch:
    def __init__(self, binary, outage_seconds=0):
        self.proc = subprocess.Popen([binary, "elasticsearch", "--outage-seconds", str(outage_seconds)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("url="):
            raise RuntimeError("fake Elasticsearch did not start")
        self.url = line.split("=", 1)[1]

    def close(self):
        self.proc.stdin.close()
        counts = self.proc.stdout.read().strip()
        self.proc.wait(timeout=30)
        return dict(item.split("=") for item in counts.split())


def logbridge_config(directory, bootstrap, group, sink, spool_max="4GiB"):
    """A config for one run; `sink` is the YAML of the single sink's settings."""
    path = directory / "logbridge.yaml"
    path.write_text(f"""
source:
  kafka:
    brokers: ["{bootstrap}"]
    topics: ["logs"]
    group_id: "{group}"
spool:
  path: "{directory / 'spool'}"
  max_bytes: "{spool_max}"
sinks:
  out:
{sink}
admin:
  listen: "off"
log:
  level: warning
""")
    return path


def outage_run(args, cluster, work, outage_seconds, spool_max):
    """The Elasticsearch fake answers 503 for `outage_seconds` from the start while the whole data
    set arrives: the spool fills to `spool_max`, Kafka pauses; then the backlog drains. Returns the
    peak RSS (MiB), the drain time after the outage ended and the CPU seconds."""
    directory = work / "logbridge-outage"
    directory.mkdir()
    fake = FakeElasticsearch(args.fakes, outage_seconds)
    started = time.monotonic()
    sink = elasticsearch_sink(fake.url, "none") + "\n    max_backoff: 1s\n    ejection_time: 1s"
    config = logbridge_config(directory, cluster.bootstrap, "logbridge-bench-outage", sink, spool_max)
    try:
        wall, cpu, rss, out = run_measured(
            [args.binary, "run", "--config", str(config), "--until-delivered", str(args.records)],
            stdout=subprocess.PIPE, timeout=outage_seconds + 600)
    finally:
        counts = fake.close()
    if int(counts["documents"]) != args.records or int(counts["conflicts"]) != 0:
        raise RuntimeError(f"outage run: the fake holds {counts}, expected {args.records} documents and no conflicts")
    timing = json.loads(out.strip().splitlines()[-1])
    # The fake's clock started just before logbridge's: the outage ended `outage_seconds` after it.
    offset = time.monotonic() - started - wall
    drain = timing["delivered_s"] + offset - outage_seconds
    shutil.rmtree(directory, ignore_errors=True)
    return dict(rss=rss, drain=drain, cpu=cpu, delivered=timing["delivered_s"])


def file_sink(path):
    return '    type: file\n    path: "%s"' % path


def elasticsearch_sink(url, compression):
    return f"""    type: elasticsearch
    endpoints: ["{url}"]
    index: "logs-{{kubernetes.namespace_name}}-%Y.%m.%d"
    compression: {compression}
    batch_size: 2000
    max_batch_bytes: 4MiB
    interval: 200ms
    concurrency: 4"""


def median_row(rows):
    keys = rows[0].keys()
    return {k: statistics.median(r[k] for r in rows) if isinstance(rows[0][k], (int, float)) else rows[0][k] for k in keys}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(ROOT / ".build/release/logbridge"))
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=96)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fakes", default=str(ROOT / ".build/release/logbridge-fakes"))
    parser.add_argument("--output", default=str(ROOT / "Benchmarks/results/latest.md"))
    parser.add_argument("--outage-seconds", type=float, default=60,
                        help="sink outage at full input (a 10-minute outage compressed: the spool fills and Kafka pauses within it)")
    parser.add_argument("--outage-spool", default="256MiB", help="spool.max_bytes for the outage run")
    args = parser.parse_args()
    if not shutil.which("kcat"):
        sys.exit("kcat is missing: run `make deps`")

    work = Path(tempfile.mkdtemp(prefix="logbridge-bench-"))
    print(f"seeding {args.records} records over {args.partitions} partitions...", flush=True)
    cluster = MockCluster(args.binary, args.records, args.partitions)
    # Size of the data set, measured with kcat's own output.
    _, _, _, sample = run_measured(
        ["kcat", "-C", "-b", cluster.bootstrap, "-t", "logs", "-o", "beginning", "-c", "2000", "-q", "-f", "%S\n"],
        stdout=subprocess.PIPE)
    sizes = [int(x) for x in sample.split()]
    avg_bytes = sum(sizes) / len(sizes)
    megabytes = args.records * avg_bytes / 1e6
    print(f"  average record {avg_bytes:.0f} B, data set {megabytes:.0f} MB", flush=True)

    scenarios = {
        "logbridge: consume -> spool (sink /dev/null)": "/dev/null",
        "logbridge: consume -> spool -> file": None,
        "logbridge: consume -> spool -> Elasticsearch bulk fake": "es:none",
        "logbridge: consume -> spool -> Elasticsearch bulk fake, gzip": "es:gzip",
    }
    if not Path(args.fakes).exists():
        scenarios = {k: v for k, v in scenarios.items() if not (v or "").startswith("es:")}
    results = {"kcat (simple consumer)": [], "kcat -G (consumer group)": []}
    results.update({name: [] for name in scenarios})
    timelines = {name: [] for name in scenarios}
    try:
        for run in range(args.runs):
            wall, cpu, rss, _ = run_measured(
                ["kcat", "-C", "-b", cluster.bootstrap, "-t", "logs", "-o", "beginning", "-e", "-q"])
            results["kcat (simple consumer)"].append(dict(wall=wall, cpu=cpu, rss=rss))
            print(f"  run {run + 1}: kcat {wall:.2f} s wall, {cpu:.2f} CPU s, {rss:.0f} MiB", flush=True)

            group_cmd = ["kcat", "-b", cluster.bootstrap, "-G", f"kcat-{run}", "-o", "beginning", "-e", "-q",
                         "-X", "auto.offset.reset=earliest", "logs"]
            wall, cpu, rss, _ = run_measured(group_cmd)
            results["kcat -G (consumer group)"].append(dict(wall=wall, cpu=cpu, rss=rss))
            print(f"  run {run + 1}: kcat -G {wall:.2f} s wall, {cpu:.2f} CPU s, {rss:.0f} MiB", flush=True)

            for index, (name, output) in enumerate(scenarios.items()):
                directory = work / f"logbridge-{run}-{index}"
                directory.mkdir()
                fake = None
                group = f"logbridge-bench-{run}-{index}"
                if output and output.startswith("es:"):
                    fake = FakeElasticsearch(args.fakes)
                    sink = elasticsearch_sink(fake.url, output.split(":")[1])
                else:
                    sink = file_sink(output or directory / "events.ndjson")
                config = logbridge_config(directory, cluster.bootstrap, group, sink)
                try:
                    wall, cpu, rss, out = run_measured(
                        [args.binary, "run", "--config", str(config), "--until-delivered", str(args.records)],
                        stdout=subprocess.PIPE)
                finally:
                    counts = fake.close() if fake else None
                if counts and int(counts["documents"]) != args.records:
                    raise RuntimeError(f"Elasticsearch fake holds {counts['documents']} documents, expected {args.records}")
                timing = json.loads(out.strip().splitlines()[-1])
                if timing["spooled"] != args.records or timing["delivered"] != args.records:
                    raise RuntimeError(f"logbridge did not spool/deliver every record exactly once: {timing}")
                timelines[name].append(dict(
                    window=timing["spooled_s"] - timing["first_record_s"], first=timing["first_record_s"],
                    spooled=timing["spooled_s"], delivered=timing["delivered_s"]))
                results[name].append(dict(wall=wall, cpu=cpu, rss=rss))
                print(f"  run {run + 1}: {name}: {wall:.2f} s wall (first record at {timing['first_record_s']:.2f} s, "
                      f"all spooled at {timing['spooled_s']:.2f} s, delivered at {timing['delivered_s']:.2f} s), "
                      f"{cpu:.2f} CPU s, {rss:.0f} MiB", flush=True)
                shutil.rmtree(directory, ignore_errors=True)
        outage = None
        if Path(args.fakes).exists() and args.outage_seconds > 0:
            outage = outage_run(args, cluster, work, args.outage_seconds, args.outage_spool)
            print(f"  outage: peak RSS {outage['rss']:.0f} MiB, backlog drained {outage['drain']:.1f} s after the sink came back",
                  flush=True)
    finally:
        cluster.close()
        shutil.rmtree(work, ignore_errors=True)

    medians = {name: median_row(rows) for name, rows in results.items()}
    windows = {name: median_row(rows) for name, rows in timelines.items()}
    kcat = medians["kcat (simple consumer)"]
    kcat_group = medians["kcat -G (consumer group)"]
    spool_name, file_name = list(scenarios)[:2]
    kcat_rate = args.records / kcat["wall"]

    lines = [
        "# logbridge benchmark: consume to spool",
        "",
        f"{args.records:,} records (~{avg_bytes:.0f} B, Fluent Bit-style JSON, 20% with PII), {args.partitions} partitions, "
        f"librdkafka mock cluster in its own process; median of {args.runs} runs on this machine ({os.cpu_count()} cores). "
        f"Generated by `make bench` on {time.strftime('%Y-%m-%d')}. Wall times include the consumer-group join "
        f"(about 3 s on the mock cluster) except on the 'first record to last record spooled' rows.",
        "",
        "| run | wall s | records/s | MB/s | CPU s per 1M records | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, m in medians.items():
        rate = args.records / m["wall"]
        lines.append(f"| {name} | {m['wall']:.2f} | {rate:,.0f} | {rate * avg_bytes / 1e6:.0f} | "
                     f"{m['cpu'] * 1e6 / args.records:.2f} | {m['rss']:.0f} |")
    for name, w in windows.items():
        rate = args.records / w["window"]
        lines.append(f"| {name}: first record to last record durably spooled | {w['window']:.2f} | {rate:,.0f} | "
                     f"{rate * avg_bytes / 1e6:.0f} | | |")
    for name, w in windows.items():
        if "Elasticsearch" in name:
            span = w["delivered"] - w["first"]
            rate = args.records / span
            lines.append(f"| {name}: first record to last record acknowledged by the fake | {span:.2f} | {rate:,.0f} | "
                         f"{rate * avg_bytes / 1e6:.0f} | | |")
    spool_rate = args.records / windows[spool_name]["window"]
    file_rate = args.records / windows[file_name]["window"]
    lines += [
        "",
        "Ratios (same run):",
        "",
        f"- consume-to-spool rate vs kcat's consume rate: **{spool_rate / kcat_rate:.2f}** with the sink on /dev/null, "
        f"**{file_rate / kcat_rate:.2f}** while a file sink writes the same data concurrently "
        f"(target >= 0.60; logbridge fsyncs every spool transaction, kcat writes nothing)",
        f"- end-to-end wall (join + spool + file sink, fsync'd) vs kcat -G (join + consume): "
        f"**{kcat_group['wall'] / medians[file_name]['wall']:.2f}**",
        f"- CPU per record vs kcat: **{medians[spool_name]['cpu'] / kcat['cpu']:.2f}x** to the spool, "
        f"**{medians[file_name]['cpu'] / kcat['cpu']:.2f}x** to the spool and a file",
        f"- peak RSS: **{max(m['rss'] for name, m in medians.items() if name.startswith('logbridge')):.0f} MiB** over all logbridge runs (target <= 256 MiB)",
        "",
        "- Elasticsearch: end to end from the first record to the last one acknowledged, uncompressed "
        + (f"**{args.records * avg_bytes / 1e6 / (windows[list(scenarios)[2]]['delivered'] - windows[list(scenarios)[2]]['first']):.0f} MB/s**"
           if len(scenarios) > 2 else "n/a") + " (target >= 50 MB/s; the fake runs on the same 2 cores)",
        "",
        f"Timeline into a file (median): first record at {windows[file_name]['first']:.2f} s, "
        f"all spooled at {windows[file_name]['spooled']:.2f} s, all delivered at {windows[file_name]['delivered']:.2f} s.",
    ]
    if outage:
        lines += [
            "",
            f"Sink outage (Elasticsearch fake answering 503 for {args.outage_seconds:.0f} s from the start while all "
            f"{args.records:,} records arrive; spool.max_bytes {args.outage_spool}, so the spool fills and Kafka pauses): "
            f"peak RSS **{outage['rss']:.0f} MiB** (target <= 256 MiB); backlog drained **{outage['drain']:.1f} s** after the "
            f"sink came back; {outage['cpu']:.1f} CPU s in all; every record indexed once (no `_id` conflicts).",
        ]
    report = "\n".join(lines) + "\n"
    print()
    print(report)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(report)


if __name__ == "__main__":
    main()
