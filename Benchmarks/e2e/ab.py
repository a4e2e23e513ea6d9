#!/usr/bin/env python3
"""A/B of two logbridge binaries on one `make bench` scenario, by thread: `make bench-ab`.

Runs the scenario (500,000 records by default) with binary A, then B, then A, ... `--rounds` times
each, and reads every thread's CPU time from /proc while logbridge runs. It prints, per binary, the
median and the lowest CPU seconds per million records of each thread group (Kafka poll, spool
writer, read-out, Swift's pool, NIO, librdkafka) and of the whole process, then the context switches
(voluntary + involuntary) and minor page faults (a fresh page zeroed by the kernel), thousands per
million records, of each group: the scheduler and page zeroing are each several percent of the
Elasticsearch profile, and these say which thread pays them. Last, the megabytes each group handed
to write calls (`wchar`): the spool writer's LMDB page writes, the sinks' sockets and files.

Why by thread: on this shared two-core machine, logbridge's total CPU per record moves 20-30%
between runs of the same binary, because the fake sink and the mock cluster compete for the same
cores. A change to one stage shows on that stage's thread long before it shows in the total: the
Kafka poll loop change moved the poll thread by a quarter while the totals overlapped.
Alternating the binaries spreads the machine's drift over both.

Also printed: seconds from the first record received to the last one spooled and to the last one
delivered (a stall shows there, not in CPU: docs/cpu-profile.md, "Fetch stalls"), and the fake
sink's own CPU per record, and the peak of logbridge's anonymous memory (docs/cpu-profile.md,
"Memory"). With `--fakes-a`, A runs against that fake build and B against
`--fakes`: give the same binary as `--a` and `--b` to compare two fakes.

By default the records are in the mock cluster before logbridge starts, so every run drains a
backlog as fast as it can: the sink reads far behind the spool writer. With `--pace RATE` they are
produced at RATE records/s into a fresh topic once logbridge is ready (the mock cluster's `pace`
command, as `make bench`'s latency runs do), so the sink keeps up with the writer, as it does in
production most of the time. The totals then include the idle group join's few hundredths of a CPU
second, the same for both binaries.
"""
import argparse
import collections
import glob
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import bench
from harness import MockCluster, logbridge_config, proc_status_mib

ROOT = Path(__file__).resolve().parents[2]
TICK = os.sysconf("SC_CLK_TCK")


def group(thread_name, binary):
    """Thread names to the stages they run."""
    if thread_name == Path(binary).name[:15]:
        return "main"
    if "qos" in thread_name:
        return "swift-pool"
    if thread_name.startswith("NIO"):
        return "nio"
    if thread_name.startswith("rdk:"):
        return "librdkafka"
    if thread_name.startswith("lb-"):
        return thread_name
    return "other"


def run_once(binary, fakes, scenario, records, pace=0.0):
    """One run: CPU seconds per million records by thread group, and in all. `pace`: records/s
    produced once logbridge is ready, instead of records waiting in the cluster (0)."""
    args = argparse.Namespace(binary=binary, fakes=fakes, outage_seconds=0)
    work = Path(tempfile.mkdtemp(prefix="logbridge-ab-"))
    cluster = MockCluster(binary, 0 if pace else records, max(96, records // 10_000))
    fake = bench.start_fake(args, scenario)
    pacer = None
    try:
        topic, admin = "logs", "off"
        if pace:
            topic, admin = "paced", f"127.0.0.1:{bench.free_port()}"
            cluster.command(f"topic {topic}")
            pacer = bench.Pacer(cluster, topic, (records, pace), ready=lambda: bench.ready(admin))
        config = logbridge_config(work, cluster.bootstrap, "logbridge-ab",
                                  bench.sink_yaml(scenario, fake.url if fake else "", work), pipeline=scenario.pipeline,
                                  topic=topic, admin=admin)
        process = subprocess.Popen([binary, "run", "--config", str(config), "--until-delivered", str(records)],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if pacer:
            pacer.start(process)
        fake_cpu_before = process_cpu(fake.proc.pid) if fake else 0.0
        # The last reading of each thread; threads that end early keep theirs.
        seen = {}
        anon_peak = 0.0
        next_tasks = 0.0
        while process.poll() is None:
            # Heap and stacks every 20 ms (its peak can last well under the 100 ms between thread
            # readings); the spool's mapped pages are not in it.
            anon_peak = max(anon_peak, proc_status_mib(process.pid, "RssAnon") or 0.0)
            if time.monotonic() < next_tasks:
                time.sleep(0.02)
                continue
            next_tasks = time.monotonic() + 0.1
            for task in glob.glob(f"/proc/{process.pid}/task/*"):
                try:
                    name = Path(task, "comm").read_text().strip()
                    fields = Path(task, "stat").read_text().rsplit(")", 1)[1].split()
                    status = Path(task, "status").read_text()
                    io = Path(task, "io").read_text()
                except OSError:
                    continue
                switches = sum(int(line.split()[1]) for line in status.splitlines() if "ctxt_switches:" in line)
                # wchar: bytes the thread handed to write calls (pwrite of LMDB's pages included).
                written = next(int(line.split()[1]) for line in io.splitlines() if line.startswith("wchar:"))
                seen[task] = (name, (int(fields[11]) + int(fields[12])) / TICK, switches, int(fields[7]), written)
            time.sleep(0.02)
        if pacer:
            pacer.join()
            if not pacer.achieved() or pacer.achieved() < 0.9 * pace:
                print(f"  the producer kept only {pacer.achieved() or 0:,.0f} of {pace:,.0f} records/s", flush=True)
        summary = json.loads(process.stdout.read().strip().splitlines()[-1])
        if process.returncode != 0:
            raise RuntimeError(f"{binary} exited with {process.returncode}")
        fake_cpu = process_cpu(fake.proc.pid) - fake_cpu_before if fake else None
        counts = fake.close() if fake else None
        fake = None
        bench.check_exactly_once(scenario, counts, records)
    finally:
        if fake:
            fake.close()
        cluster.close()
    scale = 1e6 / records
    groups = collections.Counter()
    for name, cpu, switches, faults, written in seen.values():
        groups[group(name, binary)] += cpu * scale
        groups["switches:" + group(name, binary)] += switches * scale / 1000
        groups["faults:" + group(name, binary)] += faults * scale / 1000
        groups["written:" + group(name, binary)] += written * scale / 1e6
    groups["total"] = sum(cpu for _, cpu, _, _, _ in seen.values()) * scale
    groups["switches:total"] = sum(switches for _, _, switches, _, _ in seen.values()) * scale / 1000
    groups["faults:total"] = sum(faults for _, _, _, faults, _ in seen.values()) * scale / 1000
    groups["written:total"] = sum(written for _, _, _, _, written in seen.values()) * scale / 1e6
    groups["seconds:spooled"] = summary["spooled_s"] - summary["first_record_s"]
    groups["seconds:delivered"] = summary["delivered_s"] - summary["first_record_s"]
    if fake_cpu is not None:
        groups["fake:cpu"] = fake_cpu * scale
    groups["memory:peak anon"] = anon_peak
    return groups


def process_cpu(pid):
    """User + system CPU seconds of a whole process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", required=True, help="the old binary")
    parser.add_argument("--b", default=str(ROOT / ".build/release/logbridge"), help="the new binary")
    parser.add_argument("--fakes", default=str(ROOT / ".build/release/logbridge-fakes"))
    parser.add_argument("--fakes-a", default=None, help="the fakes A runs against (default: --fakes)")
    parser.add_argument("--scenario", default="es", help="a bench.py scenario key")
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pace", type=float, default=0.0,
                        help="records/s produced while logbridge runs (a sink keeping up), instead of a backlog")
    args = parser.parse_args()
    scenario = next(s for s in bench.SCENARIOS if s.key == args.scenario)
    results = {"A": [], "B": []}
    for round_ in range(args.rounds):
        for label, binary, fakes in (("A", args.a, args.fakes_a or args.fakes), ("B", args.b, args.fakes)):
            results[label].append(run_once(binary, fakes, scenario, args.records, args.pace))
            print(f"round {round_ + 1} {label}: total {results[label][-1]['total']:.2f} CPU s per 1M", flush=True)
    names = sorted({name for runs in results.values() for run in runs for name in run},
                   key=lambda n: (n.startswith(("seconds:", "fake:", "memory:")), n.startswith(("seconds:", "memory:")),
                                  n.startswith("memory:"), n.startswith("written:"),
                                  n.startswith("faults:"), n.startswith("switches:"), n.endswith("total"), n))
    how = f"produced at {args.pace:,.0f}/s while it ran" if args.pace else "waiting in the cluster"
    print(f"\n{scenario.name}, {args.records:,} records {how}, {args.rounds} alternated rounds; "
          "CPU s per 1M records, median (lowest)")
    print(f"{'thread':18} {'A':>14} {'B':>14} {'B/A (median)':>13}")
    for name in names:
        for prefix, title in (("switches:", "context switches, thousands per 1M records"),
                              ("faults:", "minor page faults, thousands per 1M records"),
                              ("written:", "bytes handed to write calls, MB per 1M records"),
                              ("fake:", "the fake sink's CPU s per 1M records"),
                              ("seconds:", "seconds from the first record received"),
                              ("memory:", "peak anonymous memory (RssAnon, sampled every 20 ms), MiB")):
            if name.startswith(prefix) and not any(n.startswith(prefix) for n in names[:names.index(name)]):
                print(f"\n{title}, median (lowest)")
        a = [run.get(name, 0.0) for run in results["A"]]
        b = [run.get(name, 0.0) for run in results["B"]]
        ratio = statistics.median(b) / statistics.median(a) if statistics.median(a) else float("nan")
        print(f"{name:18} {statistics.median(a):7.2f} ({min(a):4.2f}) {statistics.median(b):7.2f} ({min(b):4.2f}) {ratio:13.2f}")


if __name__ == "__main__":
    main()
