#!/usr/bin/env python3
"""Runs the logbridge binary under the systemd unit's sandbox, without systemd, and checks that it
still does its job: `python3 packaging/check-sandbox.py BINARY [UNIT]`.

systemd-analyze verifies the unit's syntax, not that the program survives it. Here:
  * the system call filter is the unit's own (its SystemCallFilter= lines, expanded with
    `systemd-analyze syscall-filter`), loaded with libseccomp before exec; a call outside it
    kills the process (the unit answers EPERM instead: here nothing may be denied at all), and
    only native-architecture calls are allowed (SystemCallArchitectures=native);
  * as root, in a private mount namespace, /proc is mounted with hidepid=invisible and
    subset=pid (ProtectProc=invisible, ProcSubset=pid);
  * RLIMIT_CORE is left as the caller's: `logbridge run` must lower it to 0 itself.
Against a mock Kafka cluster (`logbridge mock-cluster`, outside the sandbox), `logbridge run` with
a file sink and an admin token must: deliver every record, serve /metrics (the process_* metrics
included) to the token holder only, reload on SIGHUP, and exit 0 on SIGTERM; its new spool
directory must be 0750 and its core limit 0.

One line per check ("ok", "FAIL", "skip"), "N passed, N failed" last; exit status 1 on a failure.
Needs libseccomp2 (Debian's libseccomp2, a dependency of systemd) and systemd-analyze.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = {"passed": 0, "failed": 0}
RECORDS = 3000
TOKEN = "sandbox-check-admin-token-0123456789"


def report(ok: bool, name: str, detail: str = "") -> bool:
    RESULTS["passed" if ok else "failed"] += 1
    print(("ok   " if ok else "FAIL ") + name, flush=True)
    if detail and not ok:
        for line in detail.strip().splitlines()[-15:]:
            print("     | " + line, flush=True)
    return ok


# ------------------------------------------------------------------ the unit's system call filter
def expand(group: str, seen: set[str] | None = None) -> set[str]:
    """The system calls of a systemd group (@name), following nested groups."""
    seen = seen if seen is not None else set()
    if group in seen:
        return set()
    seen.add(group)
    out = subprocess.run(["systemd-analyze", "syscall-filter", group], capture_output=True, text=True, check=True).stdout
    calls: set[str] = set()
    for line in out.splitlines()[1:]:
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        calls |= expand(word, seen) if word.startswith("@") else {word}
    return calls


def unit_filter(unit: Path) -> set[str]:
    """The allowed calls, read from the unit as systemd reads it: the first SystemCallFilter= line
    without `~` sets the allow list, each later `~` line takes calls away, a later plain line adds."""
    allowed: set[str] | None = None
    for line in unit.read_text().splitlines():
        match = re.match(r"^SystemCallFilter=(~?)(.*)$", line.strip())
        if not match:
            continue
        names: set[str] = set()
        for word in match.group(2).split():
            names |= expand(word) if word.startswith("@") else {word}
        if match.group(1):
            if allowed is None:
                raise SystemExit("check-sandbox: the unit's first SystemCallFilter= is a deny list; only allow lists are checked")
            allowed -= names
        else:
            allowed = names if allowed is None else allowed | names
    if allowed is None:
        raise SystemExit(f"check-sandbox: no SystemCallFilter= in {unit}")
    return allowed


def sandboxed_exec(argv: list[str], allowed: set[str], proc_subset: bool) -> None:
    """In the forked child: the /proc restrictions, then the filter, then exec. Never returns."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if proc_subset:
        CLONE_NEWNS, MS_REC, MS_PRIVATE = 0x00020000, 0x4000, 0x40000
        if libc.unshare(CLONE_NEWNS) != 0 or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            os._exit(97)
        if libc.mount(b"proc", b"/proc", b"proc", 0, b"hidepid=invisible,subset=pid") != 0:
            os._exit(98)
    seccomp = ctypes.CDLL("libseccomp.so.2")
    seccomp.seccomp_init.restype = ctypes.c_void_p
    seccomp.seccomp_init.argtypes = [ctypes.c_uint32]
    seccomp.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    seccomp.seccomp_load.argtypes = [ctypes.c_void_p]
    seccomp.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    SCMP_ACT_KILL_PROCESS, SCMP_ACT_ALLOW = 0x80000000, 0x7FFF0000
    context = seccomp.seccomp_init(SCMP_ACT_KILL_PROCESS)
    for name in sorted(allowed):
        number = seccomp.seccomp_syscall_resolve_name(name.encode())
        if number >= 0:  # names of other architectures resolve to negative pseudo numbers
            seccomp.seccomp_rule_add(context, SCMP_ACT_ALLOW, number, 0)
    if seccomp.seccomp_load(context) != 0:
        os._exit(99)
    os.execv(argv[0], argv)


def start_sandboxed(argv: list[str], allowed: set[str], proc_subset: bool, log: Path) -> int:
    with open(log, "wb") as out:
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(out.fileno(), 1)
                os.dup2(out.fileno(), 2)
                sandboxed_exec(argv, allowed, proc_subset)
            finally:
                os._exit(96)
    return pid


# ------------------------------------------------------------------ helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def sample(text: str, name: str) -> float | None:
    total = None
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total = (total or 0.0) + float(line.rsplit(" ", 1)[1])
    return total


def alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return False


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def main() -> int:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    binary = str(Path(sys.argv[1]).resolve())
    unit = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "conf/systemd/logbridge.service"
    if not shutil.which("systemd-analyze") or not ctypes.util.find_library("seccomp"):
        print("skip sandbox run: needs systemd-analyze and libseccomp2")
        return 0
    allowed = unit_filter(unit)
    report("ptrace" not in allowed and "setrlimit" not in allowed and "mount" not in allowed and "mmap" in allowed,
           f"unit filter: {len(allowed)} system calls; no ptrace, setrlimit, mount; mmap/madvise for LMDB")
    proc_subset = os.geteuid() == 0
    if not proc_subset:
        print("skip /proc with hidepid=invisible,subset=pid: needs root (the filter is still applied)")

    tmp = Path(tempfile.mkdtemp(prefix="logbridge-sandbox-"))
    cluster = None
    pid = None
    try:
        cluster = subprocess.Popen([binary, "mock-cluster", "--records", str(RECORDS), "--partitions", "4"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        bootstrap = ""
        for line in cluster.stdout:
            if line.startswith("bootstrap="):
                bootstrap = line.strip().split("=", 1)[1]
            if line.strip() == "ready":
                break
        if not report(bool(bootstrap), "mock cluster ready (outside the sandbox)"):
            return 1
        port = free_port()
        (tmp / "admin-token").write_text(TOKEN + "\n")
        config = tmp / "logbridge.yaml"
        config.write_text(f"""source:
  kafka:
    brokers: ["{bootstrap}"]
    topics: ["logs"]
    group_id: sandbox
    properties:
      session.timeout.ms: "6000"
      heartbeat.interval.ms: "500"
spool:
  path: "{tmp}/state/spool"
  max_bytes: 64MiB
sinks:
  archive:
    type: file
    path: "{tmp}/out/events.ndjson"
admin:
  listen: "127.0.0.1:{port}"
  token: "${{file:{tmp}/admin-token}}"
log:
  level: warning
""")
        # `check` is the unit's ExecStartPre and ExecReload: it runs under the same filter.
        log = tmp / "check.log"
        checker = start_sandboxed([binary, "check", "--config", str(config)], allowed, proc_subset, log)
        _, checked = os.waitpid(checker, 0)
        report(os.WIFEXITED(checked) and os.WEXITSTATUS(checked) == 0, "logbridge check under the filter",
               log.read_text(errors="replace"))
        log = tmp / "run.log"
        pid = start_sandboxed([binary, "run", "--config", str(config)], allowed, proc_subset, log)
        base = f"http://127.0.0.1:{port}"

        def delivered() -> bool:
            status, body = get(base + "/metrics", TOKEN)
            return status == 200 and (sample(body, "logbridge_sink_records_delivered_total") or 0) >= RECORDS

        ok = wait_for(lambda: delivered() or not alive(pid), 90) and alive(pid)
        if not report(ok, f"logbridge run under the filter delivers {RECORDS} records", log.read_text(errors="replace")):
            return 1
        status, body = get(base + "/metrics", TOKEN)
        started = sample(body, "process_start_time_seconds") or 0
        report(status == 200 and abs(started - time.time()) < 300 and (sample(body, "process_resident_memory_bytes") or 0) > 0,
               "/metrics with the token: process_* metrics read with /proc reduced to the process's own directory")
        report(get(base + "/metrics")[0] == 401, "/metrics without the token: 401")
        report(get(base + "/healthz")[0] == 200, "/healthz without the token: 200")
        limits = Path(f"/proc/{pid}/limits").read_text()
        core = next((line.split()[4:6] for line in limits.splitlines() if line.startswith("Max core file size")), None)
        report(core == ["0", "0"], "core dumps off in the running process (RLIMIT_CORE 0 0)", str(core))
        mode = (tmp / "state/spool").stat().st_mode & 0o777
        report(mode & 0o027 == 0, f"new spool directory created {mode:o} (0750 at most)")
        os.kill(pid, signal.SIGHUP)
        report(wait_for(lambda: (sample(get(base + "/metrics", TOKEN)[1], "logbridge_config_reloads_total") or 0) >= 1, 30),
               "SIGHUP reload applied under the filter", log.read_text(errors="replace"))
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        code = None
        while time.monotonic() < deadline and code is None:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = status
            else:
                time.sleep(0.1)
        pid = None
        report(code is not None and os.WIFEXITED(code) and os.WEXITSTATUS(code) == 0,
               "SIGTERM: drained and exited 0 (no system call killed it)",
               (f"signal {os.WTERMSIG(code)} (31 = SIGSYS: a call outside the filter)\n" if code is not None and os.WIFSIGNALED(code) else "")
               + log.read_text(errors="replace"))
        lines = (tmp / "out/events.ndjson").read_text().count("\n")
        report(lines == RECORDS, f"file sink wrote {lines} records")
    finally:
        if pid is not None and alive(pid):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if cluster is not None:
            cluster.kill()
            cluster.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
