#!/usr/bin/env python3
"""rsyslog as a peer in `make bench`: Kafka (imkafka) -> rsyslog queue -> Elasticsearch bulk
(omelasticsearch) into the same Elasticsearch fake logbridge writes to, on the same data.

`run_rsyslog()` writes a config into `work/rsyslog-N/`, starts `rsyslogd -n` (foreground, no
system sockets: only impstats, imkafka and omelasticsearch are loaded), waits until every record
has been acknowledged by the fake, stops rsyslogd (SIGTERM) and returns wall time, CPU seconds and
peak RSS of the rsyslogd process, measured like `bench.run_measured` measures logbridge.

rsyslog has no "stop after N records", and the fake only reports its counts when its stdin closes,
so the end of a run is found from two signals:
  - rsyslog's own impstats (JSON, every second): omelasticsearch `submitted` >= records, its action
    queue and the main queue empty, no HTTP/ES failures;
  - the fake's CPU time (/proc/PID/stat, polled every 20 ms): the fake only works while it answers
    bulk requests, so the moment its CPU time last moved is when the last bulk was answered.
Once both say "done" (the fake quiet for `quiet` seconds after impstats said everything was
submitted), the delivery time is the fake's last activity. The caller then closes the fake and checks
documents == records and conflicts == 0 (`check_counts`): with `ids="date"` (the default) every
document carries a unique `_id` and is sent with `create`, so a record indexed twice shows up as a
409 conflict and a lost one as a missing document.

Usage from bench.py, inside `for run in range(args.runs)` (fake, rsyslog run, exactly-once check):

    import rsyslog_peer
    if rsyslog_peer.available() and Path(args.fakes).exists():
        results[RSYSLOG].append(rsyslog_peer.measure(args, cluster, work, run, FakeElasticsearch))

The row has wall/cpu/rss like the other scenarios (wall = start to last acknowledged bulk, so compare
it with logbridge's `delivered_s`, not with its process wall time) plus first, delivered, exit_wall
and requests.

Self-test: python3 Benchmarks/e2e/rsyslog_peer.py --selftest --logbridge .build/release/logbridge \
    --fakes .build/release/logbridge-fakes --records 20000 [--with-logbridge]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import proc_status_mib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# The defaults mirror logbridge's Elasticsearch sink in bench.py (`elasticsearch_sink`):
# batch_size 2000, max_batch_bytes 4MiB, concurrency 4.
DEFAULT_BATCH = 2000
DEFAULT_MAX_BYTES = "4m"
DEFAULT_WORKERS = 4
DEFAULT_QUEUE = "linkedlist"
DEFAULT_QUEUE_SIZE = 20000
# librdkafka settings logbridge's consumer uses that change throughput or memory (see
# Sources/LogBridgeKafka/KafkaSourceConfiguration.swift); rsyslog gets the same, except the
# prefetch: logbridge's queue default went down to 16 MiB for its peak memory, and rsyslog's
# imkafka, given 16 MiB queued and 8 MiB fetches in one make bench, ran at 132,732 records/s against
# 189,090 with 32 MiB / 16 MiB, so it keeps those (the peer is tuned for its best, not handicapped).
KAFKA_PARAMS = [
    "auto.offset.reset=earliest",
    "partition.assignment.strategy=cooperative-sticky",
    "enable.partition.eof=false",
    "queued.max.messages.kbytes=32768",
    "fetch.max.bytes=16777216",
    "session.timeout.ms=30000",
    "heartbeat.interval.ms=3000",
]


def rsyslogd_binary():
    return shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"


def check_installed():
    """Raises with the install command if rsyslogd or one of the two modules is missing."""
    binary = rsyslogd_binary()
    modules = Path("/usr/lib/x86_64-linux-gnu/rsyslog")
    missing = [m for m in ("imkafka.so", "omelasticsearch.so") if not any(
        (d / m).exists() for d in (modules, Path("/usr/lib/rsyslog"), Path("/usr/lib64/rsyslog")))]
    if not Path(binary).exists() or missing:
        raise RuntimeError("rsyslog is missing (" + (", ".join(missing) or "rsyslogd") + "): "
                           "apt-get install -y rsyslog rsyslog-kafka rsyslog-elasticsearch")
    return binary


def available():
    """True when rsyslogd and its Kafka and Elasticsearch modules are installed (bench.py skips the
    rsyslog scenario otherwise)."""
    try:
        check_installed()
        return True
    except RuntimeError:
        return False


def versions():
    """Versions of the Debian packages and of librdkafka, for the report."""
    out = {}
    for package in ("rsyslog", "rsyslog-kafka", "rsyslog-elasticsearch", "librdkafka1", "libcurl3-gnutls"):
        try:
            out[package] = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                                          capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            pass
    return out


def rsyslog_config(directory, bootstrap, group, fake_url, *, batch=DEFAULT_BATCH, max_bytes=DEFAULT_MAX_BYTES,
                   workers=DEFAULT_WORKERS, ids="date", queue=DEFAULT_QUEUE, queue_size=DEFAULT_QUEUE_SIZE,
                   topic="logs", id_to=22):
    """The rsyslog.conf for one run (RainerScript). Returns its path.

    - imkafka reads `topic` (default `logs`) in consumer group `group` from the start, into ruleset `es`;
    - the Kafka payload goes to Elasticsearch as it is: the template is the raw message (`rawmsg`;
      `msg` is the same bytes on this data, since imkafka sets the MSG offset to 0, but `rawmsg` cannot
      be changed by the syslog parsers rsyslog still runs on every message);
    - omelasticsearch in bulk mode: one `_bulk` request per dequeued batch of up to `batch` records,
      split at `max_bytes`, from `workers` action-queue worker threads, each with its own curl handle
      (logbridge: batch_size 2000, max_batch_bytes 4MiB, concurrency 4);
    - `ids="date"`: `_id` = the record's `date` field (epoch seconds with milliseconds, unique in the
      synthetic data set: index * 3 ms), cut out of the raw message by position (no JSON parsing),
      sent with `create` like logbridge, so replays are counted as conflicts by the fake (records of
      a paced run carry microseconds: `id_to=25`); `ids="none"`:
      plain `index` actions without `_id` (Elasticsearch assigns one; a replay is a duplicate).
    """
    host, port = fake_url.split("://", 1)[1].rsplit(":", 1)
    directory.mkdir(parents=True, exist_ok=True)
    brokers = ", ".join(f'"{b}"' for b in bootstrap.split(","))
    params = ", ".join(f'"{p}"' for p in KAFKA_PARAMS)
    if ids == "date":
        # {"date":1795000000.123,... -> characters 9..22 (1-based, inclusive) are the value.
        id_template = f'template(name="bench_id" type="list") {{ property(name="rawmsg" position.from="9" position.to="{id_to}") }}'
        id_params = 'dynbulkid="on" bulkid="bench_id" writeoperation="create"'
    elif ids == "none":
        id_template = ""
        id_params = ""
    else:
        raise ValueError(f"ids must be 'date' or 'none', not {ids!r}")
    if queue == "direct":
        # No action queue: the main queue's workers run omelasticsearch themselves.
        main_queue = (f'main_queue(queue.type="fixedArray" queue.size="{queue_size}" '
                      f'queue.dequeueBatchSize="{batch}" queue.workerThreads="{workers}" '
                      f'queue.workerThreadMinimumMessages="{batch}" queue.timeoutEnqueue="600000")')
        action_queue = 'queue.type="direct"'
    else:
        main_queue = (f'main_queue(queue.type="fixedArray" queue.size="{queue_size}" '
                      f'queue.dequeueBatchSize="{batch}" queue.workerThreads="1" queue.timeoutEnqueue="600000")')
        action_queue = (f'queue.type="{queue}" queue.size="{queue_size}" queue.dequeueBatchSize="{batch}" '
                        f'queue.workerThreads="{workers}" queue.workerThreadMinimumMessages="{batch}" '
                        f'queue.timeoutEnqueue="600000"')
    path = directory / "rsyslog.conf"
    path.write_text(f"""# rsyslog peer for logbridge's `make bench` (generated by Benchmarks/e2e/rsyslog_peer.py)
global(workDirectory="{directory}" processInternalMessages="on" maxMessageSize="64k")
{main_queue}

module(load="impstats" interval="1" format="json" resetCounters="off"
       log.syslog="off" log.file="{directory / 'impstats.json'}")
module(load="imkafka")
module(load="omelasticsearch")

template(name="bench_doc" type="list") {{ property(name="rawmsg") }}
{id_template}

# rsyslog's own messages (the default ruleset gets nothing else).
*.* action(type="omfile" file="{directory / 'rsyslogd.log'}")

input(type="imkafka" topic="{topic}" broker=[{brokers}] consumergroup="{group}"
      confParam=[{params}] ruleset="es")

ruleset(name="es") {{
  action(type="omelasticsearch" name="es" server="{host}" serverport="{port}"
         searchIndex="logs" esVersion.major="8" bulkmode="on" maxbytes="{max_bytes}" template="bench_doc" {id_params}
         {action_queue}
         action.resumeRetryCount="-1" action.resumeInterval="1")
}}
""")
    return path


def _proc_cpu(pid):
    """user+system CPU seconds of a live process (all threads), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


def _proc_hwm_mib(pid):
    return proc_status_mib(pid, "VmHWM")


class _Stats:
    """Follows rsyslog's impstats JSON file: the latest record of each counter set."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = ""
        self.latest = {}

    def poll(self):
        try:
            with open(self.path) as f:
                f.seek(self.offset)
                data = f.read()
                self.offset = f.tell()
        except FileNotFoundError:
            return
        lines = (self.partial + data).split("\n")
        self.partial = lines.pop()
        for line in lines:
            start = line.find("{")
            if start < 0:
                continue
            try:
                record = json.loads(line[start:])
            except ValueError:
                continue
            self.latest[record.get("name")] = record

    def get(self, name, key, default=0):
        return self.latest.get(name, {}).get(key, default)

    def submitted(self):
        return self.get("omelasticsearch", "submitted")

    def failures(self):
        es = self.latest.get("omelasticsearch", {})
        return {k: v for k, v in es.items() if (k.startswith("failed") or k.startswith("response.b")) and v}

    def queues_empty(self):
        names = [n for n in self.latest if self.latest[n].get("origin") == "core.queue"]
        return bool(names) and all(self.latest[n].get("size", 0) == 0 for n in names)


def run_rsyslog(args, cluster, work, fake, records, *, run=0, group=None, batch=DEFAULT_BATCH,
                max_bytes=DEFAULT_MAX_BYTES, workers=DEFAULT_WORKERS, ids="date", queue=DEFAULT_QUEUE,
                queue_size=DEFAULT_QUEUE_SIZE, quiet=0.5, timeout=600, keep=False, topic="logs", id_to=22,
                on_start=None):
    """One rsyslog run into `fake` (a bench.FakeElasticsearch: its `url` and `proc.pid` are used).

    Returns dict(wall, cpu, rss, first, delivered, exit_wall, submitted, fake_cpu, config): `wall` ==
    `delivered` is from starting rsyslogd to the last bulk request answered by the fake (rsyslog's
    shutdown is not included; `exit_wall` is when rsyslogd had exited after SIGTERM), `first` when the
    fake answered its first bulk request, `cpu` user+system seconds of rsyslogd up to the end of
    delivery, `rss` its peak RSS (VmHWM) in MiB, `fake_cpu` the CPU seconds the fake spent meanwhile
    (it shares the machine's cores). The caller closes the fake and calls
    `check_counts`. Raises if rsyslogd stops early, reports failures, or the run exceeds `timeout`.
    """
    binary = check_installed()
    directory = Path(work) / f"rsyslog-{run}"
    if directory.exists():
        shutil.rmtree(directory)
    group = group or f"rsyslog-bench-{run}-{os.getpid()}"
    config = rsyslog_config(directory, cluster.bootstrap, group, fake.url, batch=batch, max_bytes=max_bytes,
                            workers=workers, ids=ids, queue=queue, queue_size=queue_size, topic=topic, id_to=id_to)
    check = subprocess.run([binary, "-N1", "-f", str(config)], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"rsyslog rejects {config}: {check.stderr or check.stdout}")
    stats = _Stats(directory / "impstats.json")
    fake_pid = fake.proc.pid
    fake_cpu = fake_cpu_start = _proc_cpu(fake_pid)
    log = open(directory / "rsyslogd.stderr", "wb")
    start = time.monotonic()
    proc = subprocess.Popen([binary, "-n", "-f", str(config), "-i", str(directory / "rsyslogd.pid")],
                            stdout=log, stderr=subprocess.STDOUT)
    if on_start:
        on_start(proc)
    first = last_activity = None
    all_submitted_at = None
    cpu = rss = None
    try:
        while True:
            time.sleep(0.02)
            now = time.monotonic()
            if proc.poll() is not None:
                raise RuntimeError(f"rsyslogd exited early ({proc.returncode}): {_tail(directory)}")
            value = _proc_cpu(fake_pid)
            if value is None:
                raise RuntimeError("the Elasticsearch fake exited during the rsyslog run")
            if value != fake_cpu:
                fake_cpu = value
                last_activity = now
                if first is None:
                    first = now
            stats.poll()
            failures = stats.failures()
            if failures:
                raise RuntimeError(f"omelasticsearch reports failures {failures}: {_tail(directory)}")
            if all_submitted_at is None and stats.submitted() >= records and stats.queues_empty():
                all_submitted_at = now
            if (all_submitted_at is not None and last_activity is not None
                    and now - max(last_activity, all_submitted_at) >= quiet):
                cpu = _proc_cpu(proc.pid)
                rss = _proc_hwm_mib(proc.pid)
                break
            if now - start > timeout:
                raise RuntimeError(f"rsyslog run timed out after {timeout} s: submitted {stats.submitted()} "
                                   f"of {records}; {_tail(directory)}")
        if stats.submitted() != records:
            raise RuntimeError(f"rsyslog submitted {stats.submitted()} records to omelasticsearch, expected {records}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        exit_wall = time.monotonic() - start
        log.close()
    result = dict(wall=last_activity - start, cpu=cpu, rss=rss, first=first - start,
                  delivered=last_activity - start, exit_wall=exit_wall, submitted=stats.submitted(),
                  fake_cpu=fake_cpu - fake_cpu_start, config=str(config))
    if not keep:
        shutil.rmtree(directory, ignore_errors=True)
    return result


def _tail(directory, limit=2000):
    text = ""
    for name in ("rsyslogd.stderr", "rsyslogd.log"):
        path = Path(directory) / name
        if path.exists():
            text += f"[{name}] " + path.read_text(errors="replace")[-limit:]
    return text or "(no rsyslog output)"


def check_counts(counts, records):
    """`counts` is what bench.FakeElasticsearch.close() returns."""
    documents, conflicts = int(counts["documents"]), int(counts["conflicts"])
    if documents != records or conflicts != 0:
        raise RuntimeError(f"rsyslog run: the fake holds {counts}, expected {records} documents and no conflicts")


def measure(args, cluster, work, run=0, fake_class=None, **options):
    """The whole rsyslog scenario for bench.py: a fresh fake, one rsyslog run, the exactly-once check.
    Returns dict(wall, cpu, rss, first, delivered, exit_wall, requests) like the other scenarios' rows."""
    if fake_class is None:
        sys.path.insert(0, str(HERE))
        from bench import FakeElasticsearch as fake_class
    fake = fake_class(args.fakes)
    try:
        result = run_rsyslog(args, cluster, work, fake, args.records, run=run, **options)
    finally:
        counts = fake.close()
    check_counts(counts, args.records)
    result["requests"] = int(counts.get("requests", 0))
    result.pop("config", None)
    return result


def _logbridge_es_run(args, cluster, work, bench):
    """bench.py's 'logbridge: consume -> spool -> Elasticsearch bulk fake' scenario, once."""
    directory = Path(tempfile.mkdtemp(prefix="logbridge-es-", dir=work))
    fake = bench.FakeElasticsearch(args.fakes)
    config = bench.logbridge_config(directory, cluster.bootstrap, f"logbridge-peer-{directory.name}",
                                    bench.elasticsearch_sink(fake.url, "none"))
    fake_cpu = _proc_cpu(fake.proc.pid)
    try:
        wall, cpu, rss, out = bench.run_measured(
            [args.logbridge, "run", "--config", str(config), "--until-delivered", str(args.records)],
            stdout=subprocess.PIPE)
        fake_cpu = _proc_cpu(fake.proc.pid) - fake_cpu
    finally:
        counts = fake.close()
    if int(counts["documents"]) != args.records:
        raise RuntimeError(f"logbridge: the fake holds {counts}")
    timing = json.loads(out.strip().splitlines()[-1])
    shutil.rmtree(directory, ignore_errors=True)
    return dict(wall=wall, cpu=cpu, rss=rss, first=timing["first_record_s"], delivered=timing["delivered_s"],
                exit_wall=wall, fake_cpu=fake_cpu, requests=int(counts.get("requests", 0)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--selftest", action="store_true", help="start a mock cluster and the fake, run rsyslog once, check")
    parser.add_argument("--logbridge", default=str(ROOT / ".build/release/logbridge"))
    parser.add_argument("--fakes", default=str(ROOT / ".build/release/logbridge-fakes"))
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--partitions", type=int, default=96)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--max-bytes", default=DEFAULT_MAX_BYTES)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--ids", choices=["date", "none"], default="date")
    parser.add_argument("--queue", choices=["linkedlist", "fixedarray", "direct"], default=DEFAULT_QUEUE)
    parser.add_argument("--queue-size", type=int, default=DEFAULT_QUEUE_SIZE)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (config, impstats, logs)")
    parser.add_argument("--with-logbridge", action="store_true",
                        help="also run bench.py's logbridge Elasticsearch scenario on the same data, for a ratio")
    args = parser.parse_args()
    if not args.selftest:
        parser.error("nothing to do: use --selftest")
    args.binary = args.logbridge  # bench.MockCluster and friends read args.binary
    sys.path.insert(0, str(HERE))
    import bench

    print(f"rsyslog {versions()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="rsyslog-peer-"))
    print(f"seeding {args.records} records over {args.partitions} partitions...", flush=True)
    cluster = bench.MockCluster(args.logbridge, args.records, args.partitions)
    try:
        _, _, _, sample = bench.run_measured(
            ["kcat", "-C", "-b", cluster.bootstrap, "-t", "logs", "-o", "beginning", "-c", "2000", "-q", "-f", "%S\n"],
            stdout=subprocess.PIPE) if shutil.which("kcat") else (0, 0, 0, "324")
        sizes = [int(x) for x in sample.split()]
        avg_bytes = sum(sizes) / len(sizes)
        rows = []
        for run in range(args.runs):
            r = measure(args, cluster, work, run, bench.FakeElasticsearch, batch=args.batch, max_bytes=args.max_bytes,
                        workers=args.workers, ids=args.ids, queue=args.queue, queue_size=args.queue_size, keep=args.keep)
            rows.append(("rsyslog", r))
            if args.with_logbridge:
                rows.append(("logbridge", _logbridge_es_run(args, cluster, work, bench)))
    finally:
        cluster.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work directory kept: {work}")
    print(f"\n{args.records:,} records (~{avg_bytes:.0f} B), {args.partitions} partitions; every record in the fake "
          f"exactly once (documents == records, no conflicts). 'to last ack' runs from starting the process to the "
          f"last bulk request answered (consumer-group join included, shutdown not); 'first' is rsyslog's first "
          f"acknowledged bulk and logbridge's first consumed record.\n")
    print("| run | to last ack s | records/s | MB/s | CPU s | CPU s per 1M records | peak RSS MiB | first s | process exit s | bulk requests | fake CPU s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        rate = args.records / r["delivered"]
        print(f"| {name} | {r['delivered']:.2f} | {rate:,.0f} | {rate * avg_bytes / 1e6:.1f} | {r['cpu']:.2f} | "
              f"{r['cpu'] * 1e6 / args.records:.2f} | {r['rss']:.0f} | {r['first']:.2f} | {r['exit_wall']:.2f} | "
              f"{r['requests']} | {r['fake_cpu']:.2f} |")
    rs = [r for n, r in rows if n == "rsyslog"]
    lb = [r for n, r in rows if n == "logbridge"]
    if rs and lb:
        import statistics
        med = lambda rows, k: statistics.median(r[k] for r in rows)
        print(f"\nlogbridge vs rsyslog (medians; > 1 means logbridge is better): speed to last ack "
              f"{med(rs, 'delivered') / med(lb, 'delivered'):.2f}x, first-to-last window "
              f"{(med(rs, 'delivered') - med(rs, 'first')) / (med(lb, 'delivered') - med(lb, 'first')):.2f}x, "
              f"CPU {med(rs, 'cpu') / med(lb, 'cpu'):.2f}x, peak RSS {med(rs, 'rss') / med(lb, 'rss'):.2f}x "
              f"({med(lb, 'rss'):.0f} vs {med(rs, 'rss'):.0f} MiB)")

if __name__ == "__main__":
    main()
