#!/usr/bin/env python3
"""Chaos suite behind `make chaos`: the real binary against the mock Kafka cluster and the protocol
fakes, one fault per scenario, each ending with an exact count of what arrived.

  kill9        kill -9 at seeded random moments (20 by default) during a 1,000,000-record run into
               Elasticsearch, Splunk HEC (acknowledgements on) and an envelope file; restart on the
               same spool after each kill.
  outage       Elasticsearch answers 503 for 60 s while every record arrives; spool.max_bytes 32MiB
               so the spool fills and Kafka pauses; RSS sampled every 100 ms.
  broker-down  every Kafka broker down for 60 s in the middle of the run.
  rebalance    two more members (own spools, same group) join and leave while records arrive.
  disk-full    the spool on a 4 MiB tmpfs, Elasticsearch down ~20 s: the kernel's ENOSPC fills it.
  flapping     Elasticsearch flapping between healthy and 429 (then 503): no loss, no storm.
  isolation    Loki answers 503 for 60 s at full input beside Elasticsearch and Splunk HEC, through a
               spool smaller than the input; Loki has backlog.when_full: skip_oldest: Kafka never
               stays paused, ES and HEC get every record once, Loki's received + skipped == sent.

Prints a Markdown table and writes it to Benchmarks/results/chaos.md; exits 1 if a verdict fails.
Python 3 standard library only; every process started here is killed, every temporary directory
removed and every tmpfs unmounted, also on failure or Ctrl-C.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, str(ROOT / "Benchmarks" / "e2e"))
from harness import Fake, MockCluster, free_port, http_status, memory_mib, proc_status_mib, scrape, update_readme  # noqa: E402

# Fast group timeouts (as in the crash tests): a member killed with -9 leaves the group after 3 s
# instead of 30 s, so each restart does not wait for its dead predecessor's session to expire.
GROUP_PROPERTIES = {"session.timeout.ms": "3000", "heartbeat.interval.ms": "300"}
# The HTTP driver's retry schedule (Sources/LogBridgeSinks/HTTP/HTTPBatchDriver.swift): the first
# retry waits 100 ms, each next one twice as long, every wait multiplied by a jitter in [0.5, 1.0].
INITIAL_BACKOFF_MS = 100
JITTER_MIN = 0.5
REFUSED_COMMIT_LOG = "the group coordinator refused the revoked partitions' offsets"


def rss_anon_mib(pid):
    """RssAnon of a running process in MiB: its heap and stacks, without the spool's memory-mapped
    file pages (RssFile), which VmRSS also counts and the kernel can drop at any time."""
    return proc_status_mib(pid, "RssAnon")


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fmt(n):
    return f"{n:,}" if isinstance(n, int) else str(n)


def attempts_within(window_ms, max_backoff_ms=30_000):
    """Most requests one in-flight batch can make within `window_ms` while every answer is a failure:
    the first attempt plus every retry whose shortest (jittered) wait still fits."""
    attempts, elapsed, backoff = 1, 0.0, INITIAL_BACKOFF_MS
    while True:
        elapsed += min(backoff, max_backoff_ms) * JITTER_MIN
        if elapsed > window_ms:
            return attempts
        attempts += 1
        backoff *= 2


# MARK: results

@dataclass
class Row:
    scenario: str
    sent: int = 0
    delivered: str = "-"
    lost: str = "-"
    duplicated: str = "-"
    absorbed: str = "-"
    rss: float = None
    anon: float = None
    verdict: str = "FAIL"
    reason: str = ""
    notes: list = field(default_factory=list)
    failures: list = field(default_factory=list)

    def check(self, ok, reason):
        """Records a failed check (the verdict's reason); returns ok."""
        if not ok:
            self.failures.append(reason)
        return ok

    def finish(self):
        if self.verdict == "SKIP":
            return
        self.verdict = "PASS" if not self.failures else "FAIL"
        if self.failures:
            self.reason = "; ".join(self.failures)


# MARK: processes

class Gateway:
    """One `logbridge run` process: standard error (and output) to files, admin endpoint on a port."""

    def __init__(self, binary, config, directory, name, admin_port, extra=()):
        self.name = name
        self.admin_port = admin_port
        self.log_path = directory / f"{name}.log"
        self.out_path = directory / f"{name}.out"
        self._log = open(self.log_path, "ab")
        self._out = open(self.out_path, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([binary, "run", "--config", str(config), *map(str, extra)],
                                     stdout=self._out, stderr=self._log, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        self.max_rss = 0.0
        self.max_anon = 0.0
        self.last_metrics = None

    @property
    def alive(self):
        return self.proc.poll() is None

    def metrics(self):
        if not self.admin_port:
            return None
        found = scrape(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=2.0)
        if found is not None:
            self.last_metrics = found
        return found

    def sample_memory(self):
        memory = memory_mib(self.pid) if self.alive else None
        if memory:
            self.max_rss = max(self.max_rss, *memory)
            anon = rss_anon_mib(self.pid)
            if anon is not None:
                self.max_anon = max(self.max_anon, anon)

    def kill9(self):
        if self.alive:
            self.sample_memory()
            os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._close_files()

    def terminate(self):
        """Sends SIGTERM (graceful drain) without waiting."""
        if self.alive:
            self.sample_memory()
            os.kill(self.pid, signal.SIGTERM)

    def wait(self, timeout):
        """Waits for the exit; kills with -9 and raises after `timeout`."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise RuntimeError(f"{self.name} did not exit within {timeout:.0f} s of SIGTERM")
        self._close_files()
        return code

    def stop(self, timeout=90):
        self.terminate()
        return self.wait(timeout)

    def output(self):
        return self.out_path.read_text(errors="replace")

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def release(self):
        if self.alive:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._close_files()

    def _close_files(self):
        for handle in (self._log, self._out):
            if not handle.closed:
                handle.close()


class Scope:
    """One scenario's directory and processes; on exit every process still running is killed (our
    own pids only), the tmpfs unmounted and the directory removed. A sampler thread reads each live
    gateway's VmRSS and VmHWM every 100 ms."""

    def __init__(self, suite, name, row=None):
        self.suite = suite
        self.name = name
        self.row = row
        # Set to a reason to keep the processes' logs after the scenario (they are small; the data is not).
        self.keep_logs = None
        self.dir = suite.work / name
        self.dir.mkdir(parents=True)
        self.releases = []
        self.gateways = []
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self._sampler.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._sampler.join(timeout=5)
        for release in reversed(self.releases):
            try:
                release()
            except Exception as error:  # cleanup goes on whatever one step raised
                log(f"  cleanup: {error}")
        failed = exc[0] is not None or (self.row is not None and self.row.failures)
        if (failed or self.keep_logs) and not self.suite.args.keep:
            saved = Path(tempfile.gettempdir()) / f"logbridge-chaos-logs-{time.strftime('%Y%m%d-%H%M%S')}" / self.name
            saved.mkdir(parents=True, exist_ok=True)
            for path in self.dir.rglob("*.log"):
                shutil.copy2(path, saved / "-".join(path.relative_to(self.dir).parts))
            log(f"  logs kept in {saved} ({self.keep_logs or 'failed'})")
            if self.row is not None:
                self.row.notes.append(f"Logs of this scenario's processes kept in `{saved}` ({self.keep_logs or 'failed'}).")
        if not self.suite.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def _sample(self):
        while not self._stop.wait(0.1):
            for gateway in list(self.gateways):
                gateway.sample_memory()

    @property
    def max_rss(self):
        return max((g.max_rss for g in self.gateways), default=None)

    @property
    def max_anon(self):
        return max((g.max_anon for g in self.gateways), default=None)

    def cluster(self, records, partitions):
        log(f"  mock cluster: seeding {records:,} records over {partitions} partitions")
        cluster = MockCluster(self.suite.args.binary, records, partitions)

        def release():
            if cluster.proc.poll() is None:
                try:
                    cluster.close()
                except Exception:
                    cluster.proc.kill()
                    cluster.proc.wait(timeout=30)
        self.releases.append(release)
        return cluster

    def fake(self, kind, *extra):
        fake = Fake(self.suite.args.fakes, kind, *extra)
        fake.started = time.monotonic()

        def release():
            if fake.proc.poll() is None:
                fake.proc.kill()
                fake.proc.wait(timeout=30)
        self.releases.append(release)
        return fake

    def gateway(self, config, name, admin_port, extra=()):
        gateway = Gateway(self.suite.args.binary, config, self.dir, name, admin_port, extra)
        self.gateways.append(gateway)
        self.releases.append(gateway.release)
        return gateway

    def tmpfs(self, path, size):
        path.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"mount tmpfs failed: {result.stderr.strip()}")
        self.releases.append(lambda: subprocess.run(["umount", "-l", str(path)], capture_output=True))


class _NoMetrics:
    """Stands in for a scrape that did not answer: every value is None."""

    def value(self, *args, **labels):
        return None


NO_METRICS = _NoMetrics()


# MARK: configuration

def es_sink(url, batch=2000, concurrency=4, max_backoff=None, max_batch_bytes="4MiB"):
    lines = [
        "type: elasticsearch",
        f'endpoints: ["{url}"]',
        'index: "logs-{kubernetes.namespace_name}-%Y.%m.%d"',
        f"batch_size: {batch}",
        f"max_batch_bytes: {max_batch_bytes}",
        "interval: 200ms",
        f"concurrency: {concurrency}",
    ]
    if max_backoff:
        lines += [f"max_backoff: {max_backoff}", "ejection_time: 1s"]
    return lines


HEC = dict(batch=2000, concurrency=2, pending=4, poll="200ms", timeout="20s")


def hec_sink(url):
    return [
        "type: splunk_hec",
        f'endpoints: ["{url}"]',
        "token: hec-token",
        "sourcetype: _json",
        f"batch_size: {HEC['batch']}",
        "max_batch_bytes: 4MiB",
        "interval: 200ms",
        f"concurrency: {HEC['concurrency']}",
        "acknowledgements: true",
        f"ack_poll_interval: {HEC['poll']}",
        f"ack_timeout: {HEC['timeout']}",
        f"max_pending_acks: {HEC['pending']}",
    ]


def loki_sink(url, backlog=None):
    lines = [
        "type: loki",
        f'endpoints: ["{url}"]',
        "labels: {job: chaos}",
        "tenant_id: team-a",
        "batch_size: 2000",
        "max_batch_bytes: 4MiB",
        "interval: 200ms",
        "concurrency: 2",
        "max_backoff: 3s",
    ]
    if backlog:
        lines.append(f"backlog: {backlog}")
    return lines


def file_sink(path):
    return ["type: file", f'path: "{path}"', "encoding: envelope", "fsync: true"]


def write_config(path, *, bootstrap, group, spool, sinks, spool_max="4GiB", admin_port=None, properties=None, extra=""):
    properties = "".join(f'\n      {k}: "{v}"' for k, v in {**GROUP_PROPERTIES, **(properties or {})}.items())
    sink_text = "".join(f"\n  {name}:" + "".join(f"\n    {line}" for line in lines) for name, lines in sinks.items())
    admin = f'"127.0.0.1:{admin_port}"' if admin_port else '"off"'
    path.write_text(f"""source:
  kafka:
    brokers: ["{bootstrap}"]
    topics: ["logs"]
    group_id: "{group}"
    properties:{properties}
spool:
  path: "{spool}"
  max_bytes: "{spool_max}"
sinks:{sink_text}
admin:
  listen: {admin}
log:
  level: info
{extra}""")
    return path


def check_config(binary, config):
    result = subprocess.run([binary, "check", "--config", str(config)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"logbridge check refused {config}: {result.stderr.strip() or result.stdout.strip()}")


def spool_stats(binary, config):
    result = subprocess.run([binary, "spool", "stats", "--config", str(config), "--json"],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        return None, result.stderr.strip()
    return json.loads(result.stdout), ""


def make_certificates(directory):
    """Two private CAs and a server certificate for 127.0.0.1 from each (openssl CLI): the sink
    trusts the first CA; the second stands for a certificate the sink does not trust yet."""
    directory.mkdir(parents=True, exist_ok=True)

    def openssl(*arguments):
        subprocess.run(["openssl", *arguments], check=True, capture_output=True)

    extensions = directory / "server.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                          "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    for name in ("ca1", "ca2"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", f"/CN=logbridge chaos {name}", "-keyout", str(directory / f"{name}.key"),
                "-out", str(directory / f"{name}.pem"))
        server = directory / f"server-{name}"
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=127.0.0.1",
                "-keyout", f"{server}.key", "-out", f"{server}.csr")
        openssl("x509", "-req", "-in", f"{server}.csr", "-CA", str(directory / f"{name}.pem"),
                "-CAkey", str(directory / f"{name}.key"), "-CAcreateserial", "-days", "2",
                "-extfile", str(extensions), "-out", f"{server}.pem")
    (directory / "both.pem").write_text((directory / "ca1.pem").read_text() + (directory / "ca2.pem").read_text())
    return directory


# MARK: audits

ENVELOPE = re.compile(rb'^\{"topic":"([^"]*)","partition":(\d+),"offset":(\d+),')


def expected_offsets(records, partitions, p):
    """Records are produced round robin: record i goes to partition i % P at offset i // P."""
    return records // partitions + (1 if p < records % partitions else 0)


def audit_files(paths, records, partitions):
    """Envelope lines of one or more file sinks: lines, unique (partition, offset), duplicate lines,
    malformed (torn or unparsable) lines, lines outside the records produced, and lost records."""
    seen = set()
    duplicate_partitions = {}
    lines = duplicates = malformed = outside = 0
    for path in paths:
        if not Path(path).exists():
            continue
        with open(path, "rb") as handle:
            for line in handle:
                lines += 1
                match = ENVELOPE.match(line)
                if not match or not line.endswith(b"}\n"):
                    malformed += 1
                    continue
                p, o = int(match[2]), int(match[3])
                key = (p << 40) | o
                if key in seen:
                    duplicates += 1
                    duplicate_partitions[p] = duplicate_partitions.get(p, 0) + 1
                    continue
                seen.add(key)
                if p >= partitions or o >= expected_offsets(records, partitions, p):
                    outside += 1
    unique = len(seen)
    return dict(lines=lines, unique=unique, duplicates=duplicates, malformed=malformed, outside=outside,
                lost=records - (unique - outside), duplicate_partitions=duplicate_partitions)


class LineCounter:
    """Counts newline bytes of a growing file incrementally (a restarted file sink may cut the file
    back to its committed length: then it counts again from the start)."""

    def __init__(self, path):
        self.path = Path(path)
        self.offset = 0
        self.lines = 0

    def count(self):
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return 0
        if size < self.offset:
            self.offset, self.lines = 0, 0
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            while True:
                chunk = handle.read(1 << 22)
                if not chunk:
                    break
                self.lines += chunk.count(b"\n")
                self.offset += len(chunk)
        return self.lines


def delivered_everything(gateways, partitions, sinks):
    """Every partition assigned to one of the live gateways with zero consumer lag, and every sink
    of every live gateway caught up with its spool (backlog 0: the cursor is committed, which for
    HEC means acknowledged). Returns (done, description)."""
    live = [g for g in gateways if g.alive]
    if not live:
        return False, "no gateway running"
    scrapes = [g.metrics() for g in live]
    if any(m is None for m in scrapes):
        return False, "admin endpoint not answering"
    assigned = sum(m.total("logbridge_source_assigned_partitions") for m in scrapes)
    lag_series = sum(m.count("logbridge_source_consumer_lag") for m in scrapes)
    lag = sum(m.total("logbridge_source_consumer_lag") for m in scrapes)
    backlog = {s: sum(m.value("logbridge_sink_backlog_records", default=-1, sink=s) for m in scrapes) for s in sinks}
    description = f"assigned {assigned:.0f}/{partitions}, lag {lag:.0f} over {lag_series} partitions, backlog {backlog}"
    done = assigned == partitions and lag_series == partitions and lag == 0 and all(v == 0 for v in backlog.values())
    return done, description


def es_and_file_run(scope, seeded, partitions, group, **config_options):
    """A mock cluster seeded with `seeded` records, a fake Elasticsearch and a file sink, and a
    checked configuration for them; returns (cluster, es, output, sinks, admin port, config)."""
    cluster = scope.cluster(seeded, partitions)
    es = scope.fake("elasticsearch")
    output = scope.dir / "events.ndjson"
    sinks = {"es": es_sink(es.url), "file": file_sink(output)}
    port = free_port()
    config = write_config(scope.dir / "logbridge.yaml", bootstrap=cluster.bootstrap, group=group,
                          spool=scope.dir / "spool", sinks=sinks, admin_port=port, **config_options)
    check_config(scope.suite.args.binary, config)
    return cluster, es, output, sinks, port, config


def wait_spooled(gateway, count, timeout=120):
    """Waits until `gateway` spooled `count` records; returns how many it had."""
    deadline = time.monotonic() + timeout
    spooled = 0
    while spooled < count:
        metrics = gateway.metrics()
        spooled = int(metrics.total("logbridge_spool_records_total")) if metrics else 0
        if not gateway.alive or time.monotonic() > deadline:
            raise RuntimeError(f"{count:,} records not spooled within {timeout} s ({spooled:,})")
        time.sleep(0.02)
    return spooled


def audit_es_and_file(row, scope, es, output, n, partitions):
    """Closes the fake Elasticsearch, audits it and the file sink against `n` records sent once
    each, fills the row's columns and checks; returns the fake's counts."""
    counts = es.close()
    audit = audit_files([output], n, partitions)
    row.rss, row.anon = scope.max_rss, scope.max_anon
    row.delivered = f"ES {fmt(counts['documents'])} / file {fmt(audit['unique'])}"
    row.lost = f"ES {fmt(n - counts['documents'])} / file {fmt(audit['lost'])}"
    row.duplicated = f"ES 0 / file {fmt(audit['duplicates'])}"
    row.absorbed = f"ES {fmt(counts['conflicts'])}"
    row.check(counts["documents"] == n, f"ES holds {counts['documents']:,} of {n:,}")
    row.check(counts["conflicts"] == 0, f"{counts['conflicts']:,} records sent to ES twice")
    row.check(audit["unique"] == n and audit["duplicates"] == 0 and audit["malformed"] == 0 and audit["lost"] == 0,
              f"file: {audit}")
    return counts


def wait_until(predicate, timeout, interval=0.5, stable=2, what="condition"):
    """Polls `predicate() -> (bool, description)` until it holds `stable` polls in a row."""
    deadline = time.monotonic() + timeout
    streak, description = 0, ""
    while time.monotonic() < deadline:
        ok, description = predicate()
        streak = streak + 1 if ok else 0
        if streak >= stable:
            return description
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}: {description}")


class Producer:
    """Appends `records` to the mock cluster's `logs` topic with `produce` in slices every half second
    over `seconds`, on an absolute schedule, from a thread (the mock's `pace` command flushes every
    10 ms slice and tops out near 1,500 records/s). Record i lands on partition i % P at offset i // P."""

    def __init__(self, cluster, records, seconds):
        self.cluster, self.records = cluster, records
        self.slices = max(1, int(seconds / 0.5))
        self.produced, self.error, self.seconds, self.t0 = 0, None, float(seconds), None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.t0 = time.monotonic()
        self.thread.start()

    def join(self, timeout):
        self.thread.join(timeout)

    def _run(self):
        for index in range(self.slices):
            count = self.records * (index + 1) // self.slices - self.records * index // self.slices
            time.sleep(max(0.0, self.t0 + index * 0.5 - time.monotonic()))
            try:
                reply = self.cluster.command(f"produce {count}")
            except Exception as error:
                self.error = str(error)
                return
            if reply != f"produced={count}":
                self.error = reply
                return
            self.produced += count
        self.seconds = time.monotonic() - self.t0


def phase_of(metrics, sinks):
    """Where a process was, from its last scrape: not serving yet, joining the group, consuming
    (Kafka lag outstanding), delivering (a sink behind the spool) or caught up."""
    if metrics is None:
        return "starting (admin not up)"
    if metrics.value("logbridge_source_group_joined") != 1:
        return "joining the group"
    if metrics.total("logbridge_source_consumer_lag") > 0:
        return "consuming"
    if any((metrics.value("logbridge_sink_backlog_records", sink=s) or 0) > 0 for s in sinks):
        return "delivering"
    return "caught up"


# MARK: the suite

class Suite:
    def __init__(self, args):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="logbridge-chaos-"))
        # The row of the scenario running now, so an error still reports under its title.
        self.current = None

    def close(self):
        if self.args.keep:
            log(f"kept {self.work} (--keep)")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # 1. kill -9 ------------------------------------------------------------------------------
    def kill9(self):
        args = self.args
        n, partitions = args.records, args.partitions
        row = Row("1. kill -9 x%d, restart on the same spool (ES + HEC acks + file)" % args.kills, sent=n)
        self.current = row
        rng = random.Random(args.seed)
        with Scope(self, "kill9", row) as scope:
            cluster = scope.cluster(0, partitions)
            es = scope.fake("elasticsearch")
            hec = scope.fake("hec", "--ack-delay-ms", 50)
            output = scope.dir / "events.ndjson"
            sinks = {"es": es_sink(es.url), "hec": hec_sink(hec.url), "file": file_sink(output)}
            config = scope.dir / "logbridge.yaml"

            def start(index):
                port = free_port()
                write_config(config, bootstrap=cluster.bootstrap, group="chaos-kill9", spool=scope.dir / "spool",
                             sinks=sinks, admin_port=port)
                if index == 0:
                    check_config(args.binary, config)
                return scope.gateway(config, f"run-{index:02d}", port)

            counter = LineCounter(output)
            # Records arrive throughout the run, so kills land while Kafka is being consumed as well
            # as while the spool drains into the sinks.
            producer = Producer(cluster, n, args.kill_input_seconds * n / 1_000_000)
            moments = []
            gateway = start(0)
            producer.start()
            for index in range(args.kills):
                # One kill in five lands 0.3-3 s after a start (spool open, group join); the others a
                # seeded 0.2-4 s after the process joined the group, while it consumes and delivers.
                # (A join takes 3-6 s on the mock, with the dead predecessor's 3 s session to expire,
                # so kills timed from the start alone would nearly all land in the join.)
                early = rng.random() < 0.2
                delay = rng.uniform(0.3, 3.0) if early else rng.uniform(0.2, 4.0)
                last, joined_at = None, None
                deadline = time.monotonic() + 120
                while True:
                    metrics = gateway.metrics()
                    last = metrics or last
                    now = time.monotonic()
                    if joined_at is None and metrics and metrics.value("logbridge_source_group_joined") == 1:
                        joined_at = now
                    if now >= (gateway.started if early else (joined_at or float("inf"))) + delay:
                        break
                    if not gateway.alive:
                        raise RuntimeError(f"{gateway.name} exited by itself: {gateway.log_text()[-1500:]}")
                    if now > deadline:
                        raise RuntimeError(f"{gateway.name} did not join the group within 120 s")
                    time.sleep(0.1)
                life = time.monotonic() - gateway.started
                if not row.check(gateway.alive, f"{gateway.name} had exited before its kill"):
                    break
                gateway.kill9()
                moments.append((life, phase_of(last, sinks), time.monotonic() - producer.t0))
                log(f"  kill {index + 1}/{args.kills}: {life:.1f} s after start ({moments[-1][1]}), "
                    f"{producer.produced:,} records produced so far")
                gateway = start(index + 1)
            producer.join(timeout=600)
            row.check(producer.produced == n, f"the producer stopped at {producer.produced:,}: {producer.error}")
            wait_until(lambda: (lambda d: (d[0] and counter.count() >= n, d[1] + f", file lines {counter.count():,}"))(
                delivered_everything([gateway], partitions, sinks)), timeout=600, what="every record delivered after the last restart")
            time.sleep(1.0)  # duplicates would show up now
            gateway.metrics()
            code = gateway.stop()
            row.check(code == 0, f"final graceful stop exited {code}")
            es_counts, hec_counts = es.close(), hec.close()
            audit = audit_files([output], n, partitions)
            row.rss, row.anon = scope.max_rss, scope.max_anon

            hec_unique = hec_counts["events"] - hec_counts["duplicates"]
            window = HEC["batch"] * (HEC["concurrency"] + HEC["pending"])
            killed = len(moments)
            bound = killed * window
            row.delivered = f"ES {fmt(es_counts['documents'])} / HEC {fmt(hec_unique)} / file {fmt(audit['unique'])}"
            row.lost = f"ES {fmt(n - es_counts['documents'])} / HEC {fmt(n - hec_unique)} / file {fmt(audit['lost'])}"
            row.duplicated = f"ES 0 / HEC {fmt(hec_counts['duplicates'])} (bound {fmt(bound)}) / file {fmt(audit['duplicates'])}"
            row.absorbed = f"ES {fmt(es_counts['conflicts'])}"
            row.check(es_counts["documents"] == n, f"ES holds {es_counts['documents']:,} of {n:,}")
            row.check(hec_unique == n, f"HEC indexed {hec_unique:,} distinct events of {n:,}")
            row.check(audit["unique"] == n and audit["lost"] == 0 and audit["outside"] == 0,
                      f"file holds {audit['unique']:,} distinct records of {n:,} ({audit['outside']} unknown)")
            row.check(audit["duplicates"] == 0, f"file has {audit['duplicates']:,} duplicate lines")
            row.check(audit["malformed"] == 0, f"file has {audit['malformed']} torn lines")
            row.check(audit["lines"] == n, f"file has {audit['lines']:,} lines")
            row.check(hec_counts["duplicates"] <= bound, f"HEC duplicates {hec_counts['duplicates']:,} above the bound {bound:,}")
            timeouts = sum(g.log_text().count("HEC acknowledgements timed out") for g in scope.gateways)
            if timeouts:
                scope.keep_logs = "HEC acknowledgements timed out"
            phases = {}
            for _, phase, _ in moments:
                phases[phase] = phases.get(phase, 0) + 1
            skipped = sum(g.last_metrics.total("logbridge_source_duplicates_skipped_total")
                          for g in scope.gateways if g.last_metrics)
            row.notes += [
                f"{n:,} records produced at {n / producer.seconds:,.0f}/s over {producer.seconds:.0f} s while {killed} "
                f"processes in a row were killed (seed {args.seed}): one in five 0.3-3 s after its start, the others "
                f"0.2-4 s after joining the group; kills at "
                + ", ".join(f"{m[2]:.0f}" for m in moments) + " s into the run. Where each kill landed (last scrape "
                f"before it): {phases}. After the last kill the next process ran to the end and stopped with SIGTERM.",
                f"HEC: batch_size {HEC['batch']}, concurrency {HEC['concurrency']}, max_pending_acks {HEC['pending']}, "
                f"ack_poll_interval {HEC['poll']}, ack_timeout {HEC['timeout']}; the fake acknowledges 50 ms after indexing. "
                f"A crash can resend at most the runner's window after the committed cursor: batch_size x (concurrency + "
                f"max_pending_acks) = {HEC['batch']} x ({HEC['concurrency']} + {HEC['pending']}) = {window:,} events per crash, "
                f"{bound:,} for {killed} crashes. Observed {hec_counts['duplicates']:,} "
                f"({hec_counts['duplicates'] / killed:,.0f} per crash); {hec_counts['requests']:,} event requests, "
                f"{hec_counts['ack_polls']:,} ack polls; 'HEC acknowledgements timed out' logged {timeouts} times"
                + (" (a restarted process waited ack_timeout for acknowledgements it restored from the spool and never "
                   "got, then sent those events again)" if timeouts else "") + ".",
                f"Elasticsearch: {es_counts['conflicts']:,} replays answered 409 by `_id` (not stored twice), "
                f"{es_counts['requests']:,} bulk requests. File (envelope, fsync): {audit['lines']:,} lines, "
                f"{audit['malformed']} torn.",
                f"Records fetched again from Kafka that the spool already held (skipped, not spooled twice), summed "
                f"over the processes' last scrapes: at least {skipped:,.0f}.",
            ]
        row.finish()
        return row

    # 2. sink outage ---------------------------------------------------------------------------
    def outage(self):
        args = self.args
        n, partitions, seconds = args.records, args.partitions, args.outage_seconds
        # 32 MiB against 1,000,000 records (~330 MB of JSON, ~55 MB in lz4 segments, the default
        # spool.compression): scaled down with --records so the spool still fills.
        spool_mib = 32 if n >= 1_000_000 else max(4, 32 * n // 1_000_000)
        row = Row(f"2. Elasticsearch 503 for {seconds:.0f} s from the start, spool.max_bytes {spool_mib}MiB", sent=n)
        self.current = row
        with Scope(self, "outage", row) as scope:
            cluster = scope.cluster(n, partitions)
            port = free_port()
            config = scope.dir / "logbridge.yaml"
            es = scope.fake("elasticsearch", "--outage-seconds", seconds)
            outage_end = es.started + seconds
            # 60 s stands for 10 minutes: the backoff ceiling is compressed the same way (30 s -> 3 s).
            write_config(config, bootstrap=cluster.bootstrap, group="chaos-outage", spool=scope.dir / "spool",
                         sinks={"es": es_sink(es.url, max_backoff="3s")}, spool_max=f"{spool_mib}MiB", admin_port=port)
            check_config(args.binary, config)
            gateway = scope.gateway(config, "run", port, extra=("--until-delivered", n))
            saw_full = saw_paused = False
            not_ready = False
            used_max = 0
            while gateway.alive:
                metrics = gateway.metrics()
                if metrics and time.monotonic() < outage_end:
                    saw_full |= metrics.value("logbridge_spool_full") == 1
                    saw_paused |= (metrics.value("logbridge_source_paused_partitions") or 0) > 0
                    used_max = max(used_max, metrics.value("logbridge_spool_used_bytes") or 0)
                    if saw_full and not not_ready:
                        status, body = http_status(f"http://127.0.0.1:{port}/readyz")
                        not_ready = status == 503
                if time.monotonic() > outage_end + 600:
                    raise RuntimeError("not delivered 600 s after the outage ended")
                time.sleep(0.5)
            code = gateway.wait(30)
            row.check(code == 0, f"exited {code}: {gateway.log_text()[-500:]}")
            counts = es.close()
            row.rss, row.anon = scope.max_rss, scope.max_anon
            timing = json.loads(gateway.output().strip().splitlines()[-1]) if gateway.output().strip() else {}
            drain = gateway.started + timing.get("delivered_s", float("nan")) - outage_end
            row.delivered = f"ES {fmt(counts['documents'])}"
            row.lost = f"ES {fmt(n - counts['documents'])}"
            row.duplicated = "ES 0"
            row.absorbed = f"ES {fmt(counts['conflicts'])}"
            row.check(counts["documents"] == n, f"ES holds {counts['documents']:,} of {n:,}")
            row.check(counts["conflicts"] == 0, f"{counts['conflicts']:,} conflicts (records sent twice)")
            row.check(saw_full and saw_paused, f"the spool never filled (spool_full seen: {saw_full}, paused: {saw_paused})")
            row.check(row.rss is not None and row.rss <= 256, f"max RSS {row.rss:.0f} MiB > 256 MiB")
            row.notes.append(
                f"Outage {seconds:.0f} s (a 10-minute outage compressed; max_backoff 3 s for the same reason), "
                f"Kafka paused: {saw_paused}, logbridge_spool_full 1: {saw_full}, /readyz 503 while full: {not_ready}, "
                f"spool used up to {used_max / 2**20:.0f} MiB; backlog drained {drain:.1f} s after the sink came back "
                f"(all {n:,} acknowledged {timing.get('delivered_s', float('nan')):.1f} s after start); "
                f"{counts['requests']:,} bulk requests, max {counts['max_rps']} per second.")
        row.finish()
        return row

    # 3. brokers down --------------------------------------------------------------------------
    def broker_down(self):
        args = self.args
        n, partitions, seconds = args.records, args.partitions, args.broker_down_seconds
        row = Row(f"3. every Kafka broker down {seconds:.0f} s mid-run (ES + file)", sent=n)
        self.current = row
        # A tenth of the records is produced only after the brokers are back, so they can only arrive
        # if logbridge resumed by itself (librdkafka prefetches up to 32 MB, which may hold the rest).
        late = n // 10
        with Scope(self, "broker-down", row) as scope:
            cluster, es, output, sinks, port, config = es_and_file_run(scope, n - late, partitions, "chaos-brokers")
            gateway = scope.gateway(config, "run", port)
            spooled = wait_spooled(gateway, (n - late) // 2)
            cluster.command("down")
            down_at = time.monotonic()
            metrics = gateway.metrics()
            at_down = int(metrics.total("logbridge_spool_records_total")) if metrics else spooled
            log(f"  brokers down with {at_down:,} records spooled")
            joined_seen = set()
            while time.monotonic() < down_at + seconds:
                metrics = gateway.metrics()
                if metrics:
                    joined_seen.add(metrics.value("logbridge_source_group_joined"))
                if not gateway.alive:
                    raise RuntimeError(f"logbridge exited while the brokers were down: {gateway.log_text()[-1500:]}")
                time.sleep(1.0)
            during = int(gateway.metrics().total("logbridge_spool_records_total"))
            cluster.command("up")
            up_at = time.monotonic()
            down_for = up_at - down_at
            produced = cluster.command(f"produce {late}")
            row.check(produced == f"produced={late}", f"producing after `up` answered {produced!r}")
            log(f"  brokers up; {produced}")
            resumed = None
            while resumed is None and time.monotonic() < up_at + 300:
                metrics = gateway.metrics()
                if metrics and metrics.total("logbridge_spool_records_total") > max(during, n - late):
                    resumed = time.monotonic() - up_at
                time.sleep(0.1)
            counter = LineCounter(output)
            wait_until(lambda: (lambda d: (d[0] and counter.count() >= n, d[1]))(
                delivered_everything([gateway], partitions, sinks)), timeout=300, what="every record delivered after the brokers came back")
            done_after = time.monotonic() - up_at
            time.sleep(1.0)
            final = gateway.metrics()
            code = gateway.stop()
            row.check(code == 0, f"graceful stop exited {code}")
            counts = audit_es_and_file(row, scope, es, output, n, partitions)
            row.check(resumed is not None, "no record produced after `up` spooled within 300 s")
            warnings = gateway.log_text().count("all brokers are down")
            row.notes.append(
                f"{n - late:,} records seeded, brokers down for {down_for:.1f} s from {at_down:,} spooled ({during - at_down:,} more spooled while "
                f"down, from batches librdkafka had prefetched); group_joined values seen while down: "
                f"{sorted(v for v in joined_seen if v is not None)}; the last {late:,} records were produced after `up` and "
                f"were spooling {resumed if resumed is None else round(resumed, 1)} s after `up` with no intervention, "
                f"everything delivered {done_after:.1f} s after `up`; {final.total('logbridge_source_duplicates_skipped_total'):.0f} "
                f"records fetched again and skipped by the spool, {final.total('logbridge_source_rebalances_total'):.0f} "
                f"rebalance events, 'all brokers are down' logged {warnings} times.")
        row.finish()
        return row

    # 4. members join and leave ----------------------------------------------------------------
    def rebalance(self):
        args = self.args
        n, partitions = args.records, args.partitions
        row = Row("4. members B and C join and leave (SIGTERM) while records arrive", sent=n)
        self.current = row
        pace_seconds = 25.0
        with Scope(self, "rebalance", row) as scope:
            cluster = scope.cluster(0, partitions)
            es = scope.fake("elasticsearch")
            members = {}

            def start(name):
                port = free_port()
                directory = scope.dir / name
                directory.mkdir()
                config = write_config(directory / "logbridge.yaml", bootstrap=cluster.bootstrap, group="chaos-rebalance",
                                      spool=directory / "spool", admin_port=port,
                                      sinks={"es": es_sink(es.url), "file": file_sink(directory / "events.ndjson")})
                check_config(args.binary, config)
                members[name] = (scope.gateway(config, name, port), config)
                log(f"  member {name} started")
                return members[name][0]

            a = start("A")
            wait_until(lambda: ((a.metrics() or NO_METRICS).value("logbridge_source_group_joined") == 1, "A joining"),
                       timeout=60, interval=0.2, stable=1, what="A to join")
            producer = Producer(cluster, n, pace_seconds)
            producer.start()
            t0 = producer.t0
            log(f"  producing {n:,} records over ~{pace_seconds:.0f} s")
            last = {}
            most_assigned = {}

            def at(seconds, action):
                while time.monotonic() < t0 + seconds:
                    for name, (gateway, _) in members.items():
                        if gateway.alive:
                            metrics = gateway.metrics()
                            if metrics:
                                last[name] = metrics
                                assigned = int(metrics.total("logbridge_source_assigned_partitions"))
                                most_assigned[name] = max(most_assigned.get(name, 0), assigned)
                    time.sleep(0.2)
                action()

            at(3, lambda: start("B"))
            at(8, lambda: start("C"))
            at(15, lambda: (members["B"][0].terminate(), log("  member B: SIGTERM")))
            at(20, lambda: (members["C"][0].terminate(), log("  member C: SIGTERM")))
            at(pace_seconds, lambda: None)
            producer.join(timeout=600)
            log(f"  producing done at {time.monotonic() - t0:.1f} s: {producer.produced:,} records")
            row.check(producer.produced == n, f"the producer stopped at {producer.produced:,}: {producer.error}")
            exits = {}
            for name in ("B", "C"):
                gateway, config = members[name]
                exits[name] = gateway.wait(90)
                log(f"  member {name} exited {exits[name]} at {time.monotonic() - t0:.1f} s")
                row.check(exits[name] == 0, f"member {name} exited {exits[name]}")
                stats, error = spool_stats(args.binary, config)
                left = stats["records"] if stats else None
                row.check(stats is not None and left == 0 and all(s["backlog"] == 0 for s in stats["sinks"]),
                          f"member {name} left records in its spool: {stats or error}")
            wait_until(lambda: delivered_everything([a], partitions, ["es", "file"]), timeout=300,
                       what="member A to deliver everything")
            log(f"  member A delivered everything at {time.monotonic() - t0:.1f} s")
            time.sleep(1.0)
            last["A"] = a.metrics()
            code = a.stop()
            row.check(code == 0, f"member A exited {code}")
            counts = es.close()
            # Each member's file sink is exactly-once for its own spool, so a record in two members'
            # files was fetched by both: a re-read after a rebalance. Each such record reaches ES twice.
            audit = audit_files([scope.dir / name / "events.ndjson" for name in members], n, partitions)
            row.rss, row.anon = scope.max_rss, scope.max_anon
            refused_logged = {name: g.log_text().count(REFUSED_COMMIT_LOG) for name, (g, _) in members.items()}
            refused_metric = {name: int(m.total("logbridge_source_revoke_commit_failures_total")) for name, m in last.items() if m}
            refused = max(sum(refused_logged.values()), sum(refused_metric.values()))
            rebalances = {name: int(m.total("logbridge_source_rebalances_total")) for name, m in last.items() if m}
            row.delivered = f"ES {fmt(counts['documents'])} / files {fmt(audit['unique'])}"
            row.lost = f"ES {fmt(n - counts['documents'])} / files {fmt(audit['lost'])}"
            row.duplicated = f"ES 0 / files {fmt(audit['duplicates'])} (re-read by a 2nd member)"
            row.absorbed = f"ES {fmt(counts['conflicts'])} (revoke commits refused: {refused})"
            row.check(audit["lost"] == 0 and audit["malformed"] == 0 and audit["outside"] == 0,
                      f"files: {audit['lost']:,} lost, {audit['malformed']} torn, {audit['outside']} unknown")
            row.check(counts["conflicts"] == audit["duplicates"],
                      f"ES conflicts {counts['conflicts']:,} != records in two members' files {audit['duplicates']:,}")
            delivered_by = {name: int(m.value("logbridge_sink_records_delivered_total", default=0, sink="es"))
                            for name, m in last.items() if m}
            row.check(most_assigned.get("B", 0) > 0 and most_assigned.get("C", 0) > 0,
                      f"B and C never held partitions (most assigned {most_assigned}): no rebalance was tested")
            row.check(counts["documents"] == n, f"ES holds {counts['documents']:,} of {n:,}")
            if counts["conflicts"]:
                scope.keep_logs = "records delivered twice after a rebalance"
            row.check(counts["conflicts"] == 0 or refused > 0,
                      f"{counts['conflicts']:,} records delivered twice without a refused revoke commit")
            row.notes.append(
                f"Records produced at {n / pace_seconds:,.0f}/s from t=0 to {producer.seconds:.1f} s "
                f"(A joined first); B joined at 3 s, C at 8 s, "
                f"B SIGTERM at 15 s, C at 20 s; B and C exited {exits.get('B')} / {exits.get('C')} with empty spools. "
                f"Duplicate deliveries (ES `_id` conflicts): {counts['conflicts']:,}; revoke commits refused by the mock "
                f"coordinator: logged {refused_logged}, logbridge_source_revoke_commit_failures_total last seen "
                f"{refused_metric}; rebalance events {rebalances}; most partitions held {most_assigned}; records "
                f"delivered per member (last scrape, B and C before their final drain) {delivered_by}. Each member also "
                f"writes an envelope file: {audit['duplicates']:,} records are in two members' files (re-read), in "
                f"{len(audit['duplicate_partitions'])} partitions"
                + (f" (up to {max(audit['duplicate_partitions'].values()):,} per partition; {audit['duplicates'] / (n / pace_seconds):.1f} s "
                   "of the whole input)" if audit['duplicate_partitions'] else "")
                + ". The librdkafka 2.0.2 mock coordinator refuses OffsetCommit (auto-commits included) while the group "
                "is joining, so after a refused revoke commit the next owner fetches again from the last commit it "
                "accepted, which after a long join can be several seconds back; Elasticsearch absorbs the repeats by `_id`.")
        row.finish()
        return row

    # 5. disk full -----------------------------------------------------------------------------
    def disk_full(self):
        args = self.args
        n, partitions, outage = args.disk_full_records, 16, 20.0
        row = Row(f"5. spool on a 4 MiB tmpfs (ENOSPC), max_bytes 1GiB, ES 503 ~{outage:.0f} s; {n:,} records", sent=n)
        self.current = row
        if os.geteuid() != 0:
            row.verdict, row.reason = "SKIP", "skipped: needs root (mount -t tmpfs)"
            return row
        with Scope(self, "disk-full", row) as scope:
            spool = scope.dir / "spool"
            try:
                # 100,000 records are ~5 MB in lz4 segments (the default spool.compression).
                scope.tmpfs(spool, "4m")
            except RuntimeError as error:
                row.verdict, row.reason = "SKIP", f"skipped: needs root (mount -t tmpfs failed: {error})"
                return row
            cluster = scope.cluster(n, partitions)
            es = scope.fake("elasticsearch", "--outage-seconds", outage)
            outage_end = es.started + outage
            port = free_port()
            config = write_config(scope.dir / "logbridge.yaml", bootstrap=cluster.bootstrap, group="chaos-disk-full",
                                  spool=spool, sinks={"es": es_sink(es.url, max_backoff="2s")}, spool_max="1GiB",
                                  admin_port=port)
            check_config(args.binary, config)
            gateway = scope.gateway(config, "run", port)
            saw_full = saw_paused = not_ready = False
            while time.monotonic() < outage_end:
                metrics = gateway.metrics()
                if metrics:
                    saw_full |= metrics.value("logbridge_spool_full") == 1
                    saw_paused |= (metrics.value("logbridge_source_paused_partitions") or 0) > 0
                if saw_full and not not_ready:
                    status, body = http_status(f"http://127.0.0.1:{port}/readyz")
                    not_ready = status == 503 and "spool" in body
                if not gateway.alive:
                    break
                time.sleep(0.1)
            stayed_up = gateway.alive
            df = shutil.disk_usage(spool)
            row.check(stayed_up, f"logbridge exited on a full disk: {gateway.log_text()[-1500:]}")
            if not stayed_up:
                raise RuntimeError("logbridge exited on a full disk")
            wait_until(lambda: delivered_everything([gateway], partitions, ["es"]), timeout=300,
                       what="every record delivered after the outage")
            after = gateway.metrics()
            code = gateway.stop()
            row.check(code == 0, f"graceful stop exited {code}")
            out_of_space = gateway.log_text().count("spool is out of space")
            stats, error = spool_stats(args.binary, config)
            row.check(stats is not None, f"spool stats failed: {error}")
            row.check(stats is None or (stats["records"] == 0 and all(s["backlog"] == 0 for s in stats["sinks"])),
                      f"spool stats after the drain: {stats}")
            # A restart on the same spool: it opens, joins, and sends nothing again (a resend would be
            # a conflict in the fake).
            restart = scope.gateway(config, "restart", port)
            wait_until(lambda: ((restart.metrics() or NO_METRICS).value("logbridge_source_group_joined") == 1, "joining"),
                       timeout=60, interval=0.2, stable=1, what="the restarted gateway to join")
            time.sleep(3.0)
            restart_metrics = restart.metrics()
            code = restart.stop()
            row.check(code == 0, f"restart exited {code}")
            counts = es.close()
            row.rss, row.anon = scope.max_rss, scope.max_anon
            row.delivered = f"ES {fmt(counts['documents'])}"
            row.lost = f"ES {fmt(n - counts['documents'])}"
            row.duplicated = "ES 0"
            row.absorbed = f"ES {fmt(counts['conflicts'])}"
            row.check(saw_full, "logbridge_spool_full never read 1")
            row.check(saw_paused, "Kafka never paused")
            row.check(out_of_space > 0, "no 'spool is out of space' in the log: max_bytes, not ENOSPC, stopped it")
            row.check(counts["documents"] == n, f"ES holds {counts['documents']:,} of {n:,}")
            row.check(counts["conflicts"] == 0, f"{counts['conflicts']:,} records sent twice")
            for name in ("logbridge_spool_write_errors_total", "logbridge_spool_quarantined_records_total", "logbridge_spool_full"):
                value = after.value(name) if after else None
                row.check(value == 0, f"{name} = {value} after the drain")
            sent_again = restart_metrics.total("logbridge_sink_records_delivered_total") if restart_metrics else None
            row.check(sent_again == 0, f"the restart delivered {sent_again} records again")
            row.notes.append(
                f"{n:,} records (~30 MB, against a 4 MiB filesystem; ~5 MB in lz4 segments) instead of the other scenarios' {args.records:,}. "
                f"While ES was down: "
                f"logbridge_spool_full 1: {saw_full}, Kafka paused: {saw_paused}, /readyz 503: {not_ready}, "
                f"'spool is out of space' logged {out_of_space} times, filesystem {df.used / 2**20:.1f} of "
                f"{df.total / 2**20:.0f} MiB used, process up throughout: {stayed_up}. After the drain: spool stats "
                f"{stats and {k: stats[k] for k in ('records', 'next_sequence', 'used_bytes')}}; a restart on the same spool "
                f"joined and delivered {sent_again if sent_again is None else int(sent_again)} records.")
        row.finish()
        return row

    # 6. flapping ------------------------------------------------------------------------------
    def flapping(self):
        args = self.args
        n, partitions = args.records, args.partitions
        cycles, down, up = args.flap_cycles, args.flap_down, args.flap_up
        concurrency, batch = 4, 5000
        rows = []
        with Scope(self, "flapping") as scope:
            cluster = scope.cluster(n, partitions)

            def run(name, *fake_args):
                es = scope.fake("elasticsearch", *fake_args)
                port = free_port()
                directory = scope.dir / name
                directory.mkdir()
                config = write_config(directory / "logbridge.yaml", bootstrap=cluster.bootstrap, group=f"chaos-flap-{name}",
                                      spool=directory / "spool", admin_port=port,
                                      sinks={"es": es_sink(es.url, batch=batch, concurrency=concurrency, max_batch_bytes="8MiB")})
                check_config(args.binary, config)
                gateway = scope.gateway(config, name, port)
                wait_until(lambda: delivered_everything([gateway], partitions, ["es"]), timeout=600,
                           what=f"{name}: every record delivered")
                elapsed = time.monotonic() - gateway.started
                metrics = gateway.metrics()
                code = gateway.stop()
                counts = es.close()
                return code, counts, metrics, elapsed, gateway

            log("  baseline (no faults), for the healthy request rate")
            code, base, _, base_elapsed, base_gateway = run("baseline")
            if code != 0 or base["documents"] != n:
                raise RuntimeError(f"baseline run failed: exit {code}, {base}")
            healthy = base["max_rps"]
            per_second = attempts_within(1000)
            per_phase = attempts_within(down * 1000)
            rps_bound = int(healthy * 1.25 + 0.999) + concurrency * per_second
            failure_bound = cycles * concurrency * per_phase
            for status in (429, 503):
                row = Row(f"6{'ab'[status == 503]}. Elasticsearch flapping {status} ({cycles} x {down:g} s down / {up:g} s up)", sent=n)
                self.current = row
                log(f"  flapping with {status}")
                code, counts, metrics, elapsed, gateway = run(
                    f"flap-{status}", "--outage-status", status, "--flap-cycles", cycles, "--flap-down", down, "--flap-up", up)
                failures = int(metrics.total("logbridge_sink_delivery_failures_total")) if metrics else None
                row.rss, row.anon = gateway.max_rss, gateway.max_anon
                row.delivered = f"ES {fmt(counts['documents'])}"
                row.lost = f"ES {fmt(n - counts['documents'])}"
                row.duplicated = "ES 0"
                row.absorbed = f"ES {fmt(counts['conflicts'])}"
                row.check(code == 0, f"graceful stop exited {code}")
                row.check(counts["documents"] == n, f"ES holds {counts['documents']:,} of {n:,}")
                row.check(counts["conflicts"] == 0, f"{counts['conflicts']:,} records sent twice")
                row.check(counts["max_rps"] <= rps_bound, f"max {counts['max_rps']} requests/s > bound {rps_bound}")
                row.check(failures is not None and failures <= failure_bound,
                          f"{failures} failed requests > bound {failure_bound}")
                if row.failures:
                    scope.keep_logs = f"{row.scenario.split('.')[0]} failed"
                row.notes.append(
                    f"Delivered in {elapsed:.1f} s (baseline without faults {base_elapsed:.1f} s, max RSS "
                    f"{base_gateway.max_rss:.0f} MiB, anonymous {base_gateway.max_anon:.0f}); {counts['requests']:,} "
                    f"requests, {failures} answered {status} (bound {failure_bound}), busiest second {counts['max_rps']} "
                    f"requests (bound {rps_bound}). Bounds: concurrency c = {concurrency}, batch_size {batch:,}; a failing "
                    f"batch retries after 100 ms x 2^k x jitter >= 0.5, so one in-flight batch makes at most "
                    f"{per_second} attempts in any second and {per_phase} in a {down:g} s down phase. Busiest second <= "
                    f"healthy batch rate x 1.25 (scheduling noise on a shared machine) + c x {per_second} = "
                    f"ceil({healthy} x 1.25) + {concurrency} x {per_second} = {rps_bound}, where {healthy} is the busiest "
                    f"second of the fault-free baseline run (same settings, full batches); failed requests <= cycles x c x "
                    f"{per_phase} = {failure_bound}. A retry storm (no backoff) would be thousands per second.")
                row.finish()
                rows.append(row)
        return rows

    # 7. sink isolation ------------------------------------------------------------------------
    def isolation(self):
        args = self.args
        n, partitions, seconds = args.records, args.partitions, args.isolation_outage_seconds
        # 32 MiB against 1,000,000 records (~330 MB of JSON, ~55 MB in lz4 segments): Loki's backlog
        # alone would fill it and pause Kafka for every sink; its 4 MiB limit (of record bytes)
        # keeps it from doing so. Scaled with --records.
        spool_mib = 32 if n >= 1_000_000 else max(8, 32 * n // 1_000_000)
        limit_mib = max(2, spool_mib // 8)
        row = Row(f"7. Loki 503 for {seconds:.0f} s at full input, backlog skip_oldest {limit_mib}MiB, spool "
                  f"{spool_mib}MiB (ES + HEC acks + Loki)", sent=n)
        self.current = row
        with Scope(self, "isolation", row) as scope:
            cluster = scope.cluster(n, partitions)
            es = scope.fake("elasticsearch")
            hec = scope.fake("hec", "--ack-delay-ms", 50)
            loki = scope.fake("loki", "--outage-seconds", seconds)
            outage_end = loki.started + seconds
            port = free_port()
            config = scope.dir / "logbridge.yaml"
            backlog = f'{{max_bytes: "{limit_mib}MiB", when_full: skip_oldest}}'
            write_config(config, bootstrap=cluster.bootstrap, group="chaos-isolation", spool=scope.dir / "spool",
                         sinks={"es": es_sink(es.url), "hec": hec_sink(hec.url), "loki": loki_sink(loki.url, backlog)},
                         spool_max=f"{spool_mib}MiB", admin_port=port)
            check_config(args.binary, config)
            gateway = scope.gateway(config, "run", port)
            paused_since, longest_pause, paused_seconds = None, 0.0, 0.0
            others_done_at = None
            # Loki's largest backlog seen, and which sink was furthest behind while Kafka was paused.
            loki_backlog_max, behind_when_paused = 0, {}
            last, metrics = time.monotonic(), None
            deadline = time.monotonic() + 600 + seconds
            while True:
                if not gateway.alive:
                    raise RuntimeError(f"the gateway exited: {gateway.log_text()[-500:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError("not delivered within 600 s after the outage")
                metrics = gateway.metrics()
                now = time.monotonic()
                if metrics:
                    paused = (metrics.value("logbridge_source_paused_partitions") or 0) > 0
                    loki_backlog_max = max(loki_backlog_max, metrics.value("logbridge_sink_backlog_bytes", default=0, sink="loki"))
                    if paused:
                        behind = max(("es", "hec", "loki"),
                                     key=lambda s: metrics.value("logbridge_sink_backlog_bytes", default=0, sink=s))
                        behind_when_paused[behind] = behind_when_paused.get(behind, 0) + 1
                        paused_seconds += now - last
                        paused_since = paused_since or now
                        longest_pause = max(longest_pause, now - paused_since)
                    else:
                        paused_since = None
                    delivered = {s: metrics.value("logbridge_sink_records_delivered_total", default=0, sink=s)
                                 for s in ("es", "hec", "loki")}
                    skipped = metrics.value("logbridge_sink_records_skipped_total", default=0, sink="loki")
                    if others_done_at is None and delivered["es"] >= n and delivered["hec"] >= n:
                        others_done_at = now
                    backlog_left = sum(metrics.value("logbridge_sink_backlog_records", default=1, sink=s)
                                       for s in ("es", "hec", "loki"))
                    if others_done_at and delivered["loki"] + skipped >= n and backlog_left == 0:
                        break
                last = now
                time.sleep(0.5)
            final = gateway.metrics() or metrics
            skipped = int(final.value("logbridge_sink_records_skipped_total", default=0, sink="loki"))
            skipped_bytes_gauge = final.value("logbridge_sink_backlog_bytes", sink="loki")
            code = gateway.stop()
            row.check(code == 0, f"graceful stop exited {code}")
            es_counts, hec_counts, loki_counts = es.close(), hec.close(), loki.close()
            row.rss, row.anon = scope.max_rss, scope.max_anon
            received = loki_counts["entries"]
            row.delivered = (f"ES {fmt(es_counts['documents'])} / HEC {fmt(hec_counts['events'])} / "
                             f"Loki {fmt(received)} + skipped {fmt(skipped)}")
            row.lost = f"ES {fmt(n - es_counts['documents'])} / HEC {fmt(n - hec_counts['events'])} / Loki {fmt(n - received - skipped)}"
            row.duplicated = f"ES 0 / HEC {fmt(hec_counts['duplicates'])} / Loki {fmt(loki_counts['duplicates'])} (de-duplicated)"
            row.absorbed = f"ES {fmt(es_counts['conflicts'])}"
            row.check(es_counts["documents"] == n, f"ES holds {es_counts['documents']:,} of {n:,}")
            row.check(es_counts["conflicts"] == 0, f"ES {es_counts['conflicts']:,} records sent twice")
            row.check(hec_counts["events"] == n, f"HEC indexed {hec_counts['events']:,} of {n:,}")
            row.check(hec_counts["duplicates"] == 0, f"HEC {hec_counts['duplicates']:,} events indexed twice")
            row.check(received + skipped == n, f"Loki received {received:,} + skipped {skipped:,} != {n:,}")
            row.check(skipped > 0, "Loki skipped nothing: the outage never took it over its limit")
            row.check(loki_counts["refused"] == 0, f"Loki refused {loki_counts['refused']:,} entries")
            row.check(longest_pause < 10, f"Kafka stayed paused {longest_pause:.1f} s in a row")
            row.check(others_done_at is not None and others_done_at < outage_end,
                      "ES and HEC did not have every record before Loki came back")
            row.notes.append(
                f"Loki answered 503 for {seconds:.0f} s from the start while all {n:,} records were already in Kafka; "
                f"ES and HEC had every record {others_done_at - gateway.started:.1f} s after start "
                f"({outage_end - others_done_at:.1f} s before Loki came back); Kafka paused {paused_seconds:.1f} s in all, "
                f"{longest_pause:.1f} s at most in a row (a blocking Loki would have paused it from ~{spool_mib * 0.9:.0f} MiB "
                f"until the end of the outage); sink with the largest backlog in the scrapes while paused: "
                f"{behind_when_paused or 'none'}; Loki's backlog peaked at {loki_backlog_max / 2**20:.1f} MiB of records "
                f"(checked after each spool transaction, which holds up to 8 MiB). Loki (backlog {backlog}) received {received:,} and skipped {skipped:,} "
                f"(logbridge_sink_records_skipped_total), {received + skipped:,} in all; {loki_counts['duplicates']:,} "
                f"entries re-sent by retries and de-duplicated by Loki; backlog bytes at the end {skipped_bytes_gauge}.")
        row.finish()
        return row

    # 8. restart while every broker is down ----------------------------------------------------
    def stop_brokers_down(self):
        args = self.args
        n, partitions = args.records, args.partitions
        shutdown_timeout, session_ms = 20, 10_000
        row = Row(f"8. SIGTERM and restart while every Kafka broker is down (ES + file)", sent=n)
        self.current = row
        # A tenth is produced only once the brokers are back: it arrives only if the restarted
        # process joined the group by itself.
        late = n // 10
        with Scope(self, "stop-brokers-down", row) as scope:
            # A 10 s session: librdkafka waits that long per synchronous commit for an unreachable
            # coordinator, which the stop must not.
            cluster, es, output, sinks, port, config = es_and_file_run(
                scope, n - late, partitions, "chaos-stop-down", properties={"session.timeout.ms": str(session_ms)},
                extra=f"shutdown_timeout: {shutdown_timeout}s\n")
            first = scope.gateway(config, "first", port)
            spooled = wait_spooled(first, (n - late) // 2)
            cluster.command("down")
            time.sleep(2.0)
            log(f"  brokers down with {spooled:,}+ records spooled; SIGTERM")
            signalled = time.monotonic()
            first.terminate()
            first_code = first.wait(timeout=shutdown_timeout + 60)
            took = time.monotonic() - signalled
            row.check(first_code == 0, f"the stop with brokers down exited {first_code}")
            row.check(took <= shutdown_timeout + 5, f"the stop took {took:.1f} s (bound {shutdown_timeout} + 5 s)")
            left_without = "could not leave the consumer group by the stop deadline" in first.log_text()
            row.check(left_without, "no 'could not leave the consumer group by the stop deadline' in the log")
            log(f"  exited {first_code} after {took:.1f} s")

            second = scope.gateway(config, "second", port)
            time.sleep(5.0)
            row.check(second.alive, "the restart with brokers down exited")
            cluster.command("up")
            up_at = time.monotonic()
            produced = cluster.command(f"produce {late}")
            row.check(produced == f"produced={late}", f"producing after `up` answered {produced!r}")
            counter = LineCounter(output)
            wait_until(lambda: (lambda d: (d[0] and counter.count() >= n, d[1]))(
                delivered_everything([second], partitions, sinks)), timeout=300, what="every record delivered after the brokers came back")
            done_after = time.monotonic() - up_at
            time.sleep(1.0)
            final = second.metrics()
            code = second.stop()
            row.check(code == 0, f"graceful stop exited {code}")
            counts = audit_es_and_file(row, scope, es, output, n, partitions)
            skipped = final.total("logbridge_source_duplicates_skipped_total") if final else None
            row.notes.append(
                f"{n - late:,} records seeded; brokers down with {spooled:,} or more spooled; SIGTERM 2 s later: exit {first_code} "
                f"after {took:.1f} s (shutdown_timeout {shutdown_timeout} s, session.timeout.ms {session_ms}; the source "
                f"gave up leaving the group at its 10 s deadline and logged it: {left_without}). Restarted on the same spool "
                f"with the brokers still down for 5 s, then `up` and {late:,} more records produced; everything delivered "
                f"{done_after:.1f} s after `up` (the group first waits out the first process's session); records fetched "
                f"again and skipped by the spool: {skipped if skipped is None else round(skipped)}.")
        row.finish()
        return row

    # 9. a sink certificate becomes untrusted; a reload adds the CA ------------------------------
    def tls_reload(self):
        args = self.args
        n, partitions = args.records, args.partitions
        row = Row("9. Elasticsearch's certificate becomes untrusted mid-run; a reload adds its CA (tls.ca_file)", sent=n)
        self.current = row
        with Scope(self, "tls-reload", row) as scope:
            certificates = make_certificates(scope.dir / "certificates")
            serving_cert, serving_key = scope.dir / "serving.pem", scope.dir / "serving.key"
            shutil.copy(certificates / "server-ca1.pem", serving_cert)
            shutil.copy(certificates / "server-ca1.key", serving_key)
            cluster = scope.cluster(n, partitions)
            es = scope.fake("elasticsearch", "--tls-cert", serving_cert, "--tls-key", serving_key)
            row.check(es.url.startswith("https://"), f"the fake serves {es.url}")
            port = free_port()

            def configure(ca_file):
                sink = es_sink(es.url) + ["tls:", f'  ca_file: "{ca_file}"']
                return write_config(scope.dir / "logbridge.yaml", bootstrap=cluster.bootstrap, group="chaos-tls",
                                    spool=scope.dir / "spool", sinks={"es": sink}, admin_port=port)

            config = configure(certificates / "ca1.pem")
            check_config(args.binary, config)
            gateway = scope.gateway(config, "run", port)

            def delivered():
                metrics = gateway.metrics()
                return int(metrics.value("logbridge_sink_records_delivered_total", default=0, sink="es")) if metrics else 0

            wait_until(lambda: (delivered() >= n // 3, f"{delivered():,} delivered"), timeout=180, stable=1,
                       what="a third of the records delivered over TLS")
            # The server's certificate is replaced by one from a CA the sink does not trust, and its
            # connections are dropped, as a server restarted with a new certificate does.
            shutil.copy(certificates / "server-ca2.pem", serving_cert)
            shutil.copy(certificates / "server-ca2.key", serving_key)
            os.kill(es.proc.pid, signal.SIGHUP)
            swapped_at = time.monotonic()
            reason = ""
            while time.monotonic() < swapped_at + 60 and "not trusted" not in reason:
                status, reason = http_status(f"http://127.0.0.1:{port}/readyz")
                time.sleep(0.2)
            row.check("not trusted" in reason, f"/readyz did not report the untrusted certificate: {reason[:300]!r}")
            held_from = delivered()
            time.sleep(5.0)
            held_to = delivered()
            metrics = gateway.metrics()
            dead = metrics.value("logbridge_sink_records_dead_lettered_total", default=0, sink="es") if metrics else None
            row.check(held_to == held_from, f"{held_to - held_from:,} records delivered through an untrusted certificate")
            row.check(dead == 0, f"{dead} records dead-lettered while the certificate was untrusted")
            log_line = next((line for line in gateway.log_text().splitlines() if "not trusted" in line), "")
            row.check("tls.ca_file" in log_line, f"the log names no setting: {log_line[:300]!r}")
            row.check("/Sources/" not in gateway.log_text(), "a log line carries a source path")

            # The operator adds the new CA and reloads.
            configure(certificates / "both.pem")
            check_config(args.binary, config)
            os.kill(gateway.pid, signal.SIGHUP)
            reloaded_at = time.monotonic()
            wait_until(lambda: delivered_everything([gateway], partitions, {"es": None}), timeout=300,
                       what="every record delivered after the reload")
            done_after = time.monotonic() - reloaded_at
            time.sleep(1.0)
            code = gateway.stop()
            row.check(code == 0, f"graceful stop exited {code}")
            counts = es.close()
            row.rss, row.anon = scope.max_rss, scope.max_anon
            row.delivered = f"ES {fmt(counts['documents'])}"
            row.lost = f"ES {fmt(n - counts['documents'])}"
            row.duplicated = "ES 0"
            row.absorbed = f"ES {fmt(counts['conflicts'])}"
            row.check(counts["documents"] == n, f"ES holds {counts['documents']:,} of {n:,}")
            row.notes.append(
                f"{n:,} records to an HTTPS fake Elasticsearch whose certificate a private CA (ca1, `tls.ca_file`) issued. "
                f"After {held_from:,} deliveries its certificate was replaced by one from ca2 and its connections dropped: "
                f"`/readyz` said {reason.strip()[:160]!r}; in 5 s nothing more was delivered and nothing dead-lettered. "
                f"Log line: {log_line.split('logbridge: ', 1)[-1][:240]!r}. The configuration then trusted both CAs "
                f"(SIGHUP): the batches waiting to retry were handed to the new configuration and everything was delivered "
                f"{done_after:.1f} s after the reload; {counts['conflicts']:,} re-sent records (requests cut by the dropped "
                f"connections) absorbed by `_id`.")
        row.finish()
        return row


SCENARIOS = ["kill9", "outage", "broker-down", "rebalance", "disk-full", "flapping", "isolation", "stop-brokers-down", "tls-reload"]


def describe_binary(path):
    """Version, build time and a short SHA-256 of a binary, for the report's header."""
    import hashlib
    result = subprocess.run([path, "version"], capture_output=True, text=True)
    version = result.stdout.strip().splitlines()[:1] if result.returncode == 0 else []  # the fakes have none
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(Path(path).stat().st_mtime))
    return ", ".join(version + [f"built {built}", f"sha256 {digest}"])


def snapshot_binaries(args, work):
    """Copies the binaries into the work directory and runs the copies, so a rebuild during the run
    (another `swift build`) neither mixes two builds in one report nor fails with ETXTBSY."""
    info = {}
    directory = work / "bin"
    directory.mkdir()
    for attribute in ("binary", "fakes"):
        source = getattr(args, attribute)
        info[attribute] = f"`{source}` ({describe_binary(source)})"
        copy = directory / Path(source).name
        shutil.copy2(source, copy)
        setattr(args, attribute, str(copy))
    return info


def render(rows, args, started, binaries):
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [
        "# logbridge chaos suite",
        "",
        f"Generated by `make chaos` on {time.strftime('%Y-%m-%d %H:%M %Z')}; machine: {os.cpu_count()} cores"
        + (f" ({cpu})" if cpu else "")
        + f"; binary: {binaries['binary']}; fakes: {binaries['fakes']}; seed {args.seed}; {args.partitions} partitions; "
        f"suite wall time {(time.monotonic() - started) / 60:.1f} min.",
        "",
        "| scenario | records sent | delivered (unique) | lost | duplicated (documents / HEC events / file lines) "
        "| replays absorbed by `_id` (ES 409) | max RSS MiB (anonymous) | verdict |",
        "|---|---:|---|---|---|---|---:|---|",
    ]
    for row in rows:
        verdict = row.verdict + (f": {row.reason}" if row.reason else "")
        rss = (f"{row.rss:.0f}" + (f" (anon {row.anon:.0f})" if row.anon else "")) if row.rss else "-"
        lines.append(f"| {row.scenario} | {row.sent:,} | {row.delivered} | {row.lost} | {row.duplicated} | "
                     f"{row.absorbed} | {rss} | {verdict} |")
    lines += ["", "Max RSS is per process: the largest of VmRSS sampled every 100 ms and the kernel's VmHWM; "
              "anonymous is RssAnon alone (heap, stacks), without the pages of the spool's memory-mapped LMDB file "
              "that VmRSS also counts.", "", "Notes:", ""]
    for row in rows:
        for note in row.notes:
            lines.append(f"- {row.scenario.split('.')[0]}. {note}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build/release/logbridge"))
    parser.add_argument("--fakes", default=str(ROOT / ".build/release/logbridge-fakes"))
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=96, help="the mock keeps ~3 MB per partition: >= 96 for 1M records")
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="run this scenario (repeatable)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--kill-input-seconds", type=float, default=100,
                        help="kill9: seconds over which 1,000,000 records are produced (scaled with --records)")
    parser.add_argument("--outage-seconds", type=float, default=60)
    parser.add_argument("--broker-down-seconds", type=float, default=60)
    parser.add_argument("--disk-full-records", type=int, default=100_000)
    parser.add_argument("--flap-cycles", type=int, default=8)
    parser.add_argument("--flap-down", type=float, default=3.0)
    parser.add_argument("--flap-up", type=float, default=2.0)
    parser.add_argument("--isolation-outage-seconds", type=float, default=60)
    parser.add_argument("--output", default=str(ROOT / "Benchmarks/results/chaos.md"))
    parser.add_argument("--readme", default=str(ROOT / "README.md"),
                        help="README to update between its make chaos markers after a whole run at full size ('' to leave it)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, spools, files) for a post-mortem")
    args = parser.parse_args()
    args.binary = str(Path(args.binary).resolve())
    args.fakes = str(Path(args.fakes).resolve())
    for path in (args.binary, args.fakes):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} is missing: run `make release fakes`")

    # SIGTERM (make interrupted, CI timeout) unwinds like Ctrl-C, so every scope cleans up.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    started = time.monotonic()
    suite = Suite(args)
    rows = []
    try:
        binaries = snapshot_binaries(args, suite.work)
        for name in args.only or SCENARIOS:
            log(f"scenario {name}")
            method = getattr(suite, name.replace("-", "_"))
            suite.current = None
            try:
                result = method()
            except KeyboardInterrupt:
                raise
            except Exception as error:
                log(f"  error: {error}")
                result = suite.current or Row(name)
                result.failures.append(f"error: {error}"[:600])
                result.finish()
            for row in result if isinstance(result, list) else [result]:
                log(f"  {row.verdict}{': ' + row.reason if row.reason else ''}")
                rows.append(row)
    finally:
        suite.close()
    report = render(rows, args, started, binaries)
    print()
    print(report)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(report)
    # Only a whole-suite run at full size speaks for the README.
    if args.readme and not args.only and args.records == 1_000_000:
        update_readme(Path(args.readme), "make chaos", report)
    sys.exit(0 if all(row.verdict in ("PASS", "SKIP") for row in rows) else 1)


if __name__ == "__main__":
    main()
