"""Processes shared by the benchmark (bench.py), the rsyslog peer and the chaos suite: the mock
Kafka cluster and the protocol fakes as processes of their own, a measured run of a command, and a
logbridge config for one run.
"""
import os
import subprocess
import tempfile
import time


def proc_status_mib(pid, key):
    """A `/proc/PID/status` memory line (VmRSS, VmHWM, RssAnon, ...) in MiB, or None once the
    process has exited."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def proc_cpu_seconds(pid):
    """user+system CPU seconds of `pid` and all its threads (utime+stime of `/proc/PID/stat`), or
    None once it has exited and been reaped (or /proc cannot be read)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # The command name (field 2) is in parentheses and may hold spaces: split after its ")".
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def rss_mib(pid):
    """Current resident set size of `pid` in MiB (VmRSS), or None once it has exited."""
    return proc_status_mib(pid, "VmRSS")


def run_measured(cmd, stdout=subprocess.DEVNULL, timeout=600, rss_samples=None, on_start=None, anon_peak=None):
    """Runs cmd, returns (wall seconds, cpu seconds, peak RSS MiB, stdout text or None).

    `rss_samples`: a list that receives (seconds since start, RSS MiB) every 100 ms.
    `on_start`: called with the process once it is started (e.g. to start a paced producer).
    `anon_peak`: a one-element list that ends holding the highest RssAnon (heap and stacks,
    without memory-mapped files such as the spool) sampled every 20 ms, in MiB."""
    start = time.monotonic()
    out_file = tempfile.TemporaryFile() if stdout is subprocess.PIPE else None
    # Standard error goes to a file, not a pipe: a pipe read only after exit blocks the process
    # once it has written 64 KiB (librdkafka's reconnect warnings can), which looked like a hang.
    err_file = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=out_file if out_file else stdout, stderr=err_file)
    if on_start:
        on_start(proc)
    deadline = start + timeout
    next_sample = start
    next_anon = start
    while True:
        if rss_samples is not None and time.monotonic() >= next_sample:
            value = rss_mib(proc.pid)
            if value is not None:
                rss_samples.append((time.monotonic() - start, value))
            next_sample += 0.1
        if anon_peak is not None and time.monotonic() >= next_anon:
            anon_peak[0] = max(anon_peak[0], proc_status_mib(proc.pid, "RssAnon") or 0.0)
            next_anon += 0.02
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

    def command(self, line):
        """Sends one stdin command (topic, produce, pace, down, up) and returns its answer line."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if answer.startswith("error="):
            raise RuntimeError(f"mock cluster: {line}: {answer}")
        return answer

    def close(self):
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Fake:
    """One `logbridge-fakes KIND` process (elasticsearch, hec, loki). `close()` returns its counts
    as a dict of ints (documents/events/entries, duplicates or conflicts, requests, max_rps and, with
    probe_latency, latency_samples, p50_ms, p99_ms, max_ms), and sets `cpu_seconds`: the fake's own
    user+system CPU seconds since it started, read just before it is stopped (None if unreadable).
    `cpu()` reads the same figure at any moment (e.g. when the measured forwarder exits)."""

    cpu_seconds = None

    def __init__(self, binary, kind, *extra, probe_latency=False):
        cmd = [binary, kind, *map(str, extra)] + (["--probe-latency"] if probe_latency else [])
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("url="):
            raise RuntimeError(f"fake {kind} did not start")
        self.url = line.split("=", 1)[1]

    def cpu(self):
        """The fake's user+system CPU seconds so far, or None once it has exited."""
        if self.proc.returncode is not None:  # reaped: its pid may belong to another process now
            return None
        return proc_cpu_seconds(self.proc.pid)

    def close(self):
        self.cpu_seconds = self.cpu()
        self.proc.stdin.close()
        counts = self.proc.stdout.read().strip()
        self.proc.wait(timeout=30)
        return {key: int(value) for key, value in (item.split("=") for item in counts.split())}


class FakeElasticsearch(Fake):
    def __init__(self, binary, outage_seconds=0, probe_latency=False, extra=()):
        super().__init__(binary, "elasticsearch", "--outage-seconds", outage_seconds, *extra, probe_latency=probe_latency)


def logbridge_config(directory, bootstrap, group, sink, spool_max="4GiB", *, topic="logs", pipeline=None, admin="off",
                     compression=None):
    """A config for one run; `sink` is the YAML of the single sink's settings, `pipeline` the YAML
    list of processors (or None), `admin` the admin endpoint's listen address, `compression` the
    spool's (none, lz4, zstd; None leaves logbridge's default)."""
    path = directory / "logbridge.yaml"
    pipeline_yaml = f"pipeline:\n{pipeline}\n" if pipeline else ""
    compression_yaml = f"  compression: {compression}\n" if compression else ""
    path.write_text(f"""
source:
  kafka:
    brokers: ["{bootstrap}"]
    topics: ["{topic}"]
    group_id: "{group}"
spool:
  path: "{directory / 'spool'}"
  max_bytes: "{spool_max}"
{compression_yaml}{pipeline_yaml}sinks:
  out:
{sink}
admin:
  listen: "{admin}"
log:
  level: warning
""")
    return path


# Generic helpers for harnesses that watch a running gateway (the chaos suite).

def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Metrics:
    """One scrape of a Prometheus text endpoint: `value(name, **labels)`, `total(name)` (sum over
    every label set), `count(name)` (number of series)."""

    def __init__(self, text):
        self.samples = []
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            head, _, value = line.rpartition(" ")
            name, _, rest = head.partition("{")
            labels = {}
            for item in rest.rstrip("}").split(",") if rest else []:
                key, _, quoted = item.partition("=")
                labels[key.strip()] = quoted.strip().strip('"')
            try:
                self.samples.append((name, labels, float(value)))
            except ValueError:
                continue

    def series(self, name):
        return [(labels, value) for n, labels, value in self.samples if n == name]

    def value(self, name, default=None, **labels):
        for n, have, value in self.samples:
            if n == name and all(have.get(k) == v for k, v in labels.items()):
                return value
        return default

    def total(self, name):
        return sum(value for _, value in self.series(name))

    def count(self, name):
        return len(self.series(name))


def scrape(url, timeout=2.0):
    """GETs a Prometheus text endpoint; returns `Metrics`, or None when it does not answer."""
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return Metrics(response.read().decode(errors="replace"))
    except (OSError, ValueError):
        return None


def http_status(url, timeout=2.0):
    """(status, body text) of a GET, or (None, "") when nothing answers."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except (OSError, ValueError):
        return None, ""


def memory_mib(pid):
    """(VmRSS, VmHWM) of a running process in MiB, or None once it is gone."""
    rss, peak = proc_status_mib(pid, "VmRSS"), proc_status_mib(pid, "VmHWM")
    return None if rss is None or peak is None else (rss, peak)


def update_readme(readme, name, report, chart=None):
    """Puts `report` (without its title line) and `chart` between the README's
    `<!-- NAME: start ... -->` and `<!-- NAME: end -->` markers, so the README always shows what
    `make bench` / `make chaos` last measured."""
    start, end = f"<!-- {name}: start", f"<!-- {name}: end -->"
    text = readme.read_text()
    if start not in text or end not in text:
        print(f"{readme} has no {name} markers: not updated")
        return
    body = report.split("\n", 2)[2].strip()
    if chart:
        body = f"![{name}]({chart.relative_to(readme.parent)})\n\n" + body
    head, rest = text.split(start, 1)
    marker, rest = rest.split("-->", 1)
    tail = rest.split(end, 1)[1]
    readme.write_text(f"{head}{start}{marker}-->\n{body}\n{end}{tail}")
    print(f"updated {readme}")
