#!/usr/bin/env python3
"""Validates the chart's monitoring assets: the Grafana dashboard and the Prometheus alerts.

    python3 helm/validate_observability.py

Prints one line per check (PASS, FAIL or SKIP) and a closing `N passed, N failed, N skipped` line;
exits non-zero when a check fails. Needs only Python 3; uses PyYAML when installed (for the alert
structure checks) and `promtool` when on PATH (Debian: `apt-get install prometheus`) for:

  - `promtool check rules helm/logbridge/files/alerts.yaml`
  - `promtool test rules helm/tests/alerts_test.yaml`
  - the PromQL syntax of every dashboard query: each expression, with Grafana's variables
    substituted, becomes a recording rule in a throwaway rules file that `promtool check rules`
    parses (promtool 2.42 has no command that checks a bare expression).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DASHBOARD = os.path.join(HERE, "logbridge", "files", "dashboard.json")
ALERTS = os.path.join(HERE, "logbridge", "files", "alerts.yaml")
ALERT_TESTS = os.path.join(HERE, "tests", "alerts_test.yaml")

# The metrics logbridge exports (README "Metrics"), with their types.
CATALOGUE = {
    "logbridge_source_records_total": "counter",
    "logbridge_source_bytes_total": "counter",
    "logbridge_source_consumer_lag": "gauge",
    "logbridge_source_assigned_partitions": "gauge",
    "logbridge_source_paused_partitions": "gauge",
    "logbridge_source_group_joined": "gauge",
    "logbridge_source_oauth_token_refresh_total": "counter",
    "logbridge_source_oauth_token_expiry_timestamp_seconds": "gauge",
    "logbridge_source_rebalances_total": "counter",
    "logbridge_source_revoke_commit_failures_total": "counter",
    "logbridge_source_skipped_empty_total": "counter",
    "logbridge_source_oversize_records_total": "counter",
    "logbridge_source_duplicates_skipped_total": "counter",
    "logbridge_spool_used_bytes": "gauge",
    "logbridge_spool_max_bytes": "gauge",
    "logbridge_spool_records": "gauge",
    "logbridge_spool_oldest_record_age_seconds": "gauge",
    "logbridge_spool_full": "gauge",
    "logbridge_spool_dead_letters": "gauge",
    "logbridge_spool_records_total": "counter",
    "logbridge_spool_transactions_total": "counter",
    "logbridge_spool_write_errors_total": "counter",
    "logbridge_spool_quarantined_records_total": "counter",
    "logbridge_spool_dead_letter_bytes": "gauge",
    "logbridge_spool_dead_letter_max_bytes": "gauge",
    "logbridge_spool_dead_letters_evicted_total": "counter",
    "logbridge_spool_dead_letters_truncated_total": "counter",
    "logbridge_sink_records_delivered_total": "counter",
    "logbridge_sink_bytes_delivered_total": "counter",
    "logbridge_sink_batches_total": "counter",
    "logbridge_sink_delivery_failures_total": "counter",
    "logbridge_sink_records_retried_total": "counter",
    "logbridge_sink_records_dead_lettered_total": "counter",
    "logbridge_sink_records_utf8_repaired_total": "counter",
    "logbridge_sink_records_discarded_total": "counter",
    "logbridge_sink_backlog_records": "gauge",
    "logbridge_sink_backlog_bytes": "gauge",
    "logbridge_sink_backlog_age_seconds": "gauge",
    "logbridge_sink_records_skipped_total": "counter",
    "logbridge_sink_batch_records": "histogram",
    "logbridge_sink_request_duration_seconds": "histogram",
    "logbridge_sink_requests_in_flight": "gauge",
    "logbridge_sink_concurrency_limit": "gauge",
    "logbridge_sink_endpoint_up": "gauge",
    "logbridge_pipeline_redactions_total": "counter",
    "logbridge_pipeline_redaction_failed_closed_total": "counter",
    "logbridge_pipeline_discarded_events_total": "counter",
    "logbridge_config_reloads_total": "counter",
    "logbridge_config_reload_failures_total": "counter",
    "logbridge_config_last_reload_success_timestamp_seconds": "gauge",
    "logbridge_admin_connections": "gauge",
    "logbridge_admin_connections_refused_total": "counter",
    "logbridge_admin_connections_closed_total": "counter",
    "logbridge_admin_unauthorized_requests_total": "counter",
    "logbridge_admin_scrapes_shared_total": "counter",
    "logbridge_build_info": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_cpu_seconds_total": "counter",
    "process_open_fds": "gauge",
    "process_start_time_seconds": "gauge",
}
# Series Prometheus itself writes for every target.
STANDARD = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
            "scrape_series_added"}


def known_metrics() -> set[str]:
    names = set(STANDARD)
    for name, kind in CATALOGUE.items():
        if kind == "histogram":
            names.update(name + suffix for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(name)
    return names


# PromQL words that look like identifiers but are not metric names.
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
            "offset", "inf", "nan", "atan2"}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: identifiers outside strings, label matchers,
    ranges and grouping clauses, that are not functions, aggregations or keywords."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    s = re.sub(r"\{[^{}]*\}", " ", s)
    s = re.sub(r"\[[^\[\]]*\]", " ", s)
    s = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", s)
    names = set()
    for m in re.finditer(r"(?<![\w.:])[a-zA-Z_:][a-zA-Z0-9_:]*", s):
        word = m.group(0)
        rest = s[m.end():].lstrip()
        if rest.startswith("(") or word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


GRAFANA_DURATIONS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__auto": "1m"}
GRAFANA_NUMBERS = {"__interval_ms": "60000", "__range_s": "3600", "__range_ms": "3600000"}
VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]")


def variables(expr: str) -> set[str]:
    return {next(g for g in m.groups() if g) for m in VARIABLE.finditer(expr)}


def substitute(expr: str) -> str:
    """Grafana's variables replaced by values that keep the expression valid PromQL."""
    def value(m):
        name = next(g for g in m.groups() if g)
        return GRAFANA_DURATIONS.get(name) or GRAFANA_NUMBERS.get(name) or "x"
    return VARIABLE.sub(value, expr)


class Report:
    def __init__(self):
        self.counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}

    def line(self, status: str, name: str, detail: str = ""):
        self.counts[status] += 1
        print(f"{status} {name}" + (f": {detail}" if detail else ""), flush=True)

    def check(self, name: str, problems: list[str], ok_detail: str = ""):
        if problems:
            shown = "; ".join(problems[:8]) + (f"; ... ({len(problems)} in all)" if len(problems) > 8 else "")
            self.line("FAIL", name, shown)
        else:
            self.line("PASS", name, ok_detail)


def rel(path: str) -> str:
    return os.path.relpath(path, os.getcwd())


def all_panels(panels):
    for p in panels:
        yield p
        yield from all_panels(p.get("panels") or [])


def run(cmd: list[str]) -> tuple[int, str]:
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc.returncode, proc.stdout


def check_dashboard(r: Report, promtool: str | None):
    try:
        with open(DASHBOARD, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        r.line("FAIL", "dashboard: valid JSON", str(e))
        return
    r.line("PASS", "dashboard: valid JSON", rel(DASHBOARD))

    problems = []
    if dash.get("uid") != "logbridge":
        problems.append(f"uid is {dash.get('uid')!r}, want 'logbridge'")
    if dash.get("title") != "logbridge":
        problems.append(f"title is {dash.get('title')!r}, want 'logbridge'")
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
        problems.append(f"schemaVersion {dash.get('schemaVersion')!r} (want 36 or later)")
    r.check("dashboard: uid, title, schemaVersion", problems,
            f"uid {dash.get('uid')}, schemaVersion {dash.get('schemaVersion')}")

    variables_list = (dash.get("templating") or {}).get("list") or []
    by_name = {v.get("name"): v for v in variables_list}
    problems = []
    ds = by_name.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.append("no variable 'datasource' of type datasource with query 'prometheus'")
    for name in ("namespace", "pod"):
        v = by_name.get(name)
        if not v or v.get("type") != "query":
            problems.append(f"no query variable {name!r}")
            continue
        query = v.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if not query or "logbridge_build_info" not in query or name not in query:
            problems.append(f"variable {name!r} does not query label_values(logbridge_build_info..., {name})")
    for v in variables_list:
        if v.get("type") == "query" and (v.get("datasource") or {}).get("uid") != "${datasource}":
            problems.append(f"variable {v.get('name')!r} does not use ${{datasource}}")
    r.check("dashboard: template variables", problems, ", ".join(by_name))

    panels = list(all_panels(dash.get("panels") or []))
    ids = [p.get("id") for p in panels]
    problems = [f"panel {p.get('title')!r} has no integer id" for p in panels if not isinstance(p.get("id"), int)]
    dupes = sorted({i for i in ids if ids.count(i) > 1 and i is not None})
    problems += [f"id {i} used more than once" for i in dupes]
    r.check("dashboard: unique panel ids", problems, f"{len(panels)} panels")

    problems = []
    for p in panels:
        g = p.get("gridPos")
        if not isinstance(g, dict) or not all(isinstance(g.get(k), int) for k in ("h", "w", "x", "y")):
            problems.append(f"panel {p.get('id')} has no complete gridPos")
        elif g["x"] < 0 or g["w"] <= 0 or g["h"] <= 0 or g["x"] + g["w"] > 24:
            problems.append(f"panel {p.get('id')} gridPos {g} is outside the 24 columns")
    r.check("dashboard: every panel has a gridPos", problems)

    queried = [p for p in panels if p.get("type") != "row"]
    problems = []
    for p in queried:
        if (p.get("datasource") or {}).get("uid") != "${datasource}":
            problems.append(f"panel {p.get('id')} {p.get('title')!r} datasource is {p.get('datasource')!r}")
        for t in p.get("targets") or []:
            if "datasource" in t and (t["datasource"] or {}).get("uid") != "${datasource}":
                problems.append(f"panel {p.get('id')} target {t.get('refId')} datasource is {t['datasource']!r}")
    for a in (dash.get("annotations") or {}).get("list") or []:
        if a.get("expr") and (a.get("datasource") or {}).get("uid") != "${datasource}":
            problems.append(f"annotation {a.get('name')!r} datasource is {a.get('datasource')!r}")
    r.check("dashboard: every panel's datasource is ${datasource}", problems,
            f"{len(queried)} panels with queries (rows hold none)")

    problems = []
    for p in queried:
        if not [t for t in p.get("targets") or [] if t.get("expr")]:
            problems.append(f"panel {p.get('id')} {p.get('title')!r} has no query")
        if p.get("type") in ("timeseries", "stat", "gauge", "bargauge") and not (
                (p.get("fieldConfig") or {}).get("defaults") or {}).get("unit"):
            problems.append(f"panel {p.get('id')} {p.get('title')!r} has no unit")
    r.check("dashboard: every panel has queries and a unit", problems)

    # Every query, with where it comes from.
    exprs: list[tuple[str, str]] = []
    for p in queried:
        for t in p.get("targets") or []:
            if t.get("expr"):
                exprs.append((f"panel_{p.get('id')}_{t.get('refId', 'X')}", t["expr"]))
    for i, a in enumerate((dash.get("annotations") or {}).get("list") or []):
        if a.get("expr"):
            exprs.append((f"annotation_{i}", a["expr"]))
    for v in variables_list:
        query = v.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if v.get("type") == "query" and isinstance(query, str):
            m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", query)
            if m:
                exprs.append((f"variable_{v.get('name')}", m.group(1)))

    defined = set(by_name) | set(GRAFANA_DURATIONS) | set(GRAFANA_NUMBERS)
    problems = [f"{where} uses undefined ${name}" for where, e in exprs for name in sorted(variables(e) - defined)]
    r.check("dashboard: queries use only defined variables", problems, f"{len(exprs)} queries")

    known = known_metrics()
    problems = [f"{where}: unknown metric {name}" for where, e in exprs for name in sorted(metric_names(e) - known)]
    used = sorted({n for _, e in exprs for n in metric_names(e)})
    r.check("dashboard: metric names are in the catalogue", problems, f"{len(used)} distinct metrics")

    if not promtool:
        r.line("SKIP", "dashboard: queries parse as PromQL", "promtool not on PATH (apt-get install prometheus)")
        return
    # JSON is YAML: the throwaway rules file needs no YAML library.
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard_{where}", "expr": substitute(e)} for where, e in exprs]}]}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dashboard_queries.yaml")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(rules, f, indent=1)
        code, out = run([promtool, "check", "rules", path])
    if code == 0:
        r.line("PASS", "dashboard: queries parse as PromQL", f"{len(exprs)} queries through promtool check rules")
    else:
        r.line("FAIL", "dashboard: queries parse as PromQL", " | ".join(l.strip() for l in out.splitlines() if l.strip()))


def check_alert_structure(r: Report):
    try:
        import yaml  # PyYAML; optional
    except ImportError:
        r.line("SKIP", "alerts: structure (for, severity, summary, description)", "PyYAML not installed")
        r.line("SKIP", "alerts: metric names are in the catalogue", "PyYAML not installed")
        r.line("SKIP", "alerts: every alert has a firing and a quiet test", "PyYAML not installed")
        return
    try:
        with open(ALERTS, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        rules = [rule for g in doc["groups"] for rule in g["rules"]]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as e:
        r.line("FAIL", "alerts: structure (for, severity, summary, description)", str(e))
        return
    alerts = [rule for rule in rules if "alert" in rule]
    problems = []
    names = [a["alert"] for a in alerts]
    problems += [f"alert {n} defined more than once" for n in sorted({n for n in names if names.count(n) > 1})]
    for a in alerts:
        n = a["alert"]
        if not a.get("for"):
            problems.append(f"{n}: no 'for'")
        if (a.get("labels") or {}).get("severity") not in ("warning", "critical"):
            problems.append(f"{n}: severity is not warning or critical")
        ann = a.get("annotations") or {}
        for key in ("summary", "description"):
            if not ann.get(key):
                problems.append(f"{n}: no {key} annotation")
        if ann.get("description") and not re.search(r"`(?:logbridge|kubectl) ", ann["description"]):
            problems.append(f"{n}: the description names no command to run (`logbridge ...` or `kubectl ...`)")
    r.check("alerts: structure (for, severity, summary, description)", problems, f"{len(alerts)} alerts")

    known = known_metrics()
    problems = [f"{a['alert']}: unknown metric {m}" for a in alerts for m in sorted(metric_names(a["expr"]) - known)]
    r.check("alerts: metric names are in the catalogue", problems)

    try:
        with open(ALERT_TESTS, encoding="utf-8") as f:
            tests = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        r.line("FAIL", "alerts: every alert has a firing and a quiet test", str(e))
        return
    fires, quiet = set(), set()
    for t in tests.get("tests") or []:
        for case in t.get("alert_rule_test") or []:
            (fires if case.get("exp_alerts") else quiet).add(case.get("alertname"))
    problems = [f"{n}: no case where it fires" for n in names if n not in fires]
    problems += [f"{n}: no case where it stays quiet" for n in names if n not in quiet]
    problems += [f"test for unknown alert {n}" for n in sorted((fires | quiet) - set(names))]
    r.check("alerts: every alert has a firing and a quiet test", problems)


def check_promtool(r: Report, promtool: str | None):
    if not promtool:
        r.line("SKIP", "promtool check rules", "promtool not on PATH (apt-get install prometheus)")
        r.line("SKIP", "promtool test rules", "promtool not on PATH (apt-get install prometheus)")
        return
    for name, cmd in (("promtool check rules", [promtool, "check", "rules", ALERTS]),
                      ("promtool test rules", [promtool, "test", "rules", ALERT_TESTS])):
        code, out = run(cmd)
        target = rel(cmd[-1])
        if code == 0:
            summary = " ".join(l.strip() for l in out.splitlines() if "SUCCESS" in l)
            r.line("PASS", f"{name} {target}", summary)
        else:
            r.line("FAIL", f"{name} {target}", "\n" + out.rstrip())


def main() -> int:
    promtool = shutil.which("promtool")
    if promtool:
        code, out = run([promtool, "--version"])
        print(f"# {out.splitlines()[0] if out else promtool}")
    r = Report()
    check_dashboard(r, promtool)
    check_alert_structure(r)
    check_promtool(r, promtool)
    c = r.counts
    print(f"observability: {c['PASS']} passed, {c['FAIL']} failed, {c['SKIP']} skipped")
    return 1 if c["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
