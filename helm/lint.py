#!/usr/bin/env python3
"""Lint and render the logbridge Helm chart with the real Helm engine (helm-sdkpy), no cluster.

    python3 helm/lint.py [--chart helm/logbridge] [--logbridge .build/release/logbridge]

Needs the PyPI packages helm-sdkpy (bundles Helm's Go library; install it with
`pip install --ignore-requires-python helm-sdkpy` on Python 3.11) and PyYAML. It installs nothing.

What it does, one line per check, exit status 1 if any check fails:
  * Every top-level value is described in values.schema.json and in README.md.
  * `helm lint` (helm_sdkpy.Lint) of the chart with its default values (which must be refused:
    they carry no source nor sink), with each ci/*.yaml and with "toggles" (switches no ci file
    flips, over the first ci file).
    Lint takes no values, so each ci file is merged into the values.yaml of a temporary copy of
    the chart. Lint runs templates in lint mode, where `fail` and `required` only log (to Go's
    standard error): that log is captured and any `fail` / missing required value counts as an
    error. helm-sdkpy's lint result carries severities and paths but not the messages.
  * Rendering: helm-sdkpy has no `helm template` nor dry-run, so the chart is installed
    (helm_sdkpy.Install) against a fake Kubernetes API server on 127.0.0.1 that answers
    discovery and accepts every object. Helm renders exactly as `helm install` would, and the
    returned release manifest is checked: the ConfigMap's logbridge.yaml parses and has
    spool.path /var/lib/logbridge and admin.listen 0.0.0.0:<adminPort>, the StatefulSet mounts
    the spool there and its grace period exceeds the drain, and the enabled monitoring objects
    exist. With adminToken: admin.token reads the mounted Secret and the ServiceMonitor sends it.
    With networkPolicy: the policy selects the pods, lets in only the admin port from adminFrom,
    and restricts egress (DNS plus egress.to) only when asked.
  * Negative tests, each must fail with the chart's message: the default values,
    terminationGracePeriodSeconds <= shutdownTimeoutSeconds + 5, replicas > partitionCount, an
    unknown top-level value (values.schema.json), and config.admin.token beside adminToken.
  * With --logbridge: `logbridge check --config` on every rendered config. ${file:/path}
    references are pointed at dummy files under a temporary directory and ${env:NAME} get dummy
    values, since the real Secrets exist only in the cluster.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPOOL_PATH = "/var/lib/logbridge"
NEEDS_CONFIG = "config.source and config.sinks must be set"
RESULTS = {"passed": 0, "failed": 0, "skipped": 0}


def report(ok: bool | None, name: str, detail: str = "") -> bool:
    word = {True: "PASS", False: "FAIL", None: "SKIP"}[ok]
    RESULTS[{True: "passed", False: "failed", None: "skipped"}[ok]] += 1
    print(f"{word} {name}" + (f": {detail}" if detail else ""), flush=True)
    return bool(ok)


# ---------------------------------------------------------------- fake Kubernetes API server
# Just enough of the API for `helm install`: version, discovery of the kinds the chart renders,
# empty lists, 404 on reads (nothing exists yet) and echo on writes.
API_GROUPS = {
    "": ("v1", [("configmaps", "ConfigMap"), ("services", "Service"),
                ("serviceaccounts", "ServiceAccount"), ("secrets", "Secret"),
                ("persistentvolumeclaims", "PersistentVolumeClaim"), ("pods", "Pod")]),
    "apps": ("v1", [("statefulsets", "StatefulSet")]),
    "policy": ("v1", [("poddisruptionbudgets", "PodDisruptionBudget")]),
    "networking.k8s.io": ("v1", [("networkpolicies", "NetworkPolicy")]),
    "monitoring.coreos.com": ("v1", [("servicemonitors", "ServiceMonitor"),
                                     ("prometheusrules", "PrometheusRule")]),
}


class FakeAPI(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code: int, obj: dict) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/version":
            return self.reply(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0"})
        if path == "/api":
            return self.reply(200, {"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            groups = [{"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v}],
                       "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v}}
                      for g, (v, _) in API_GROUPS.items() if g]
            return self.reply(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        for group, (version, resources) in API_GROUPS.items():
            gv = f"{group}/{version}" if group else version
            if path == (f"/apis/{gv}" if group else "/api/v1"):
                return self.reply(200, {"kind": "APIResourceList", "groupVersion": gv, "resources": [
                    {"name": n, "singularName": k.lower(), "namespaced": True, "kind": k,
                     "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
                    for n, k in resources]})
        if re.match(r".*/namespaces/[^/]+/[a-z]+$", path):
            return self.reply(200, {"kind": "List", "apiVersion": "v1", "metadata": {}, "items": []})
        return self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                "reason": "NotFound", "code": 404, "message": "not found"})

    def echo(self, code: int) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            obj = json.loads(raw or b"{}")
        except ValueError:  # Helm stores its release Secret as protobuf; any Secret will do
            obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "release"}}
        self.reply(code, obj)

    def do_POST(self):
        self.echo(201)

    def do_PUT(self):
        self.echo(200)

    def do_PATCH(self):
        self.echo(200)


def start_fake_api() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = f"""apiVersion: v1
kind: Config
clusters: [{{name: fake, cluster: {{server: "http://127.0.0.1:{server.server_address[1]}"}}}}]
users: [{{name: fake, user: {{token: fake}}}}]
contexts: [{{name: fake, context: {{cluster: fake, user: fake, namespace: logging}}}}]
current-context: fake
"""
    return server, kubeconfig


# ---------------------------------------------------------------- helpers
@contextlib.contextmanager
def captured_stderr():
    """Capture file descriptor 2, where Helm's Go logger writes, into a list of lines."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(tmp.read().decode(errors="replace").splitlines())


def merge(base: dict, over: dict) -> dict:
    """Helm's value coalescing: maps merge, anything else replaces, null deletes."""
    out = copy.deepcopy(base)
    for key, value in (over or {}).items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def lint(helm, chart: Path, name: str, expect: str = "") -> None:
    """helm lint; `expect`: a `fail` message the values are meant to trigger."""
    with captured_stderr() as log:
        try:
            result = asyncio.run(helm.Lint(helm.Configuration()).run(str(chart)))
        except helm.HelmError as e:
            report(False, name, str(e))
            return
    by_sev: dict[int, list[str]] = {}
    for m in result.get("Messages") or []:
        by_sev.setdefault(m.get("Severity", 0), []).append(m.get("Path", "?"))
    # Lint mode turns `fail` and `required` into log lines; they are errors for us.
    template_errors = [line for line in log if "funcMap fail" in line or "missing required" in line]
    expected = [line for line in template_errors if expect and expect in line]
    if expect and not expected:
        report(False, name, f"no `fail` with {expect!r}")
        return
    errors = by_sev.get(3, []) + [line for line in template_errors if line not in expected]
    summary = (f"{len(by_sev.get(3, []))} errors, {len(by_sev.get(2, []))} warnings, "
               f"{len(by_sev.get(1, []))} info")
    if errors:
        # helm-sdkpy drops lint messages (only severity and file); template `fail`s keep theirs.
        shown = [re.sub(r'^.*message="(.*)"$', r"\1", e) for e in errors]
        report(False, name, f"{summary}; errors: {shown}")
    else:
        report(True, name, summary + (f" (warnings in {by_sev[2]})" if by_sev.get(2) else "")
               + (f"; refused as expected: {expect}" if expect else ""))


def install(helm, kubeconfig: str, chart: Path, values: dict) -> dict:
    config = helm.Configuration(namespace="logging", kubeconfig=kubeconfig)
    return asyncio.run(helm.Install(config).run(
        "logbridge", str(chart), values=values, wait=False, timeout=60))


def check_manifest(name: str, values: dict, release: dict) -> dict | None:
    """Structural checks of one rendered release; returns the parsed logbridge config."""
    import yaml
    docs = [d for d in yaml.safe_load_all(release.get("manifest", "")) if d]
    kinds = {}
    for d in docs:
        kinds.setdefault(d["kind"], []).append(d)
    problems = []
    config = None
    cms = [c for c in kinds.get("ConfigMap", []) if "logbridge.yaml" in c.get("data", {})]
    if len(cms) != 1:
        problems.append(f"{len(cms)} ConfigMaps with logbridge.yaml")
    else:
        try:
            config = yaml.safe_load(cms[0]["data"]["logbridge.yaml"])
        except yaml.YAMLError as e:
            problems.append(f"logbridge.yaml does not parse: {e}")
    if config is not None:
        listen = f"0.0.0.0:{values['adminPort']}"
        if (config.get("spool") or {}).get("path") != SPOOL_PATH:
            problems.append(f"spool.path is not {SPOOL_PATH}")
        if (config.get("admin") or {}).get("listen") != listen:
            problems.append(f"admin.listen is not {listen}")
        if config.get("shutdown_timeout") != f"{values['shutdownTimeoutSeconds']}s":
            problems.append("shutdown_timeout does not follow shutdownTimeoutSeconds")
    sts = kinds.get("StatefulSet", [])
    if len(sts) != 1:
        problems.append(f"{len(sts)} StatefulSets")
    else:
        spec = sts[0]["spec"]
        pod = spec["template"]["spec"]
        container = pod["containers"][0]
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        if mounts.get(SPOOL_PATH) != "spool" or spec["volumeClaimTemplates"][0]["metadata"]["name"] != "spool":
            problems.append(f"the spool PVC is not mounted at {SPOOL_PATH}")
        if pod["terminationGracePeriodSeconds"] <= values["shutdownTimeoutSeconds"] + 5:
            problems.append("terminationGracePeriodSeconds too short")
        if spec.get("podManagementPolicy") != values["podManagementPolicy"]:
            problems.append("podManagementPolicy not rendered")
        if values["rollOnConfigChange"] and "checksum/config" not in spec["template"]["metadata"].get("annotations", {}):
            problems.append("no checksum/config annotation")
        if not container.get("securityContext", {}).get("readOnlyRootFilesystem"):
            problems.append("root filesystem not read-only")
    problems += check_admin_access(values, config, kinds)
    problems += check_workload_identity(values, config, kinds)
    expected = {"ServiceMonitor": values["serviceMonitor"]["enabled"],
                "PrometheusRule": values["prometheusRule"]["enabled"],
                "PodDisruptionBudget": values["podDisruptionBudget"]["enabled"]}
    for kind, wanted in expected.items():
        if bool(kinds.get(kind)) != bool(wanted):
            problems.append(f"{kind} {'missing' if wanted else 'unexpected'}")
    for rule in kinds.get("PrometheusRule", []):
        if not rule["spec"].get("groups"):
            problems.append("PrometheusRule without groups")
    dash = [c for c in kinds.get("ConfigMap", [])
            if c["metadata"].get("labels", {}).get(values["dashboard"]["labelKey"]) == values["dashboard"]["labelValue"]]
    if bool(dash) != bool(values["dashboard"]["enabled"]):
        problems.append("dashboard ConfigMap " + ("missing" if values["dashboard"]["enabled"] else "unexpected"))
    for c in dash:
        try:
            json.loads(next(iter(c["data"].values())))
        except (ValueError, StopIteration):
            problems.append("dashboard ConfigMap does not hold JSON")
    if not (release.get("info") or {}).get("notes"):
        problems.append("NOTES.txt rendered empty")
    report(not problems, name, "; ".join(problems) or f"{len(docs)} objects: " + ", ".join(sorted(kinds)))
    return config if not problems else None


def check_admin_access(values: dict, config: dict | None, kinds: dict) -> list[str]:
    """The admin token (config, mount, ServiceMonitor) and the NetworkPolicy, as the values ask."""
    problems = []
    token = values["adminToken"]
    token_dir = "/run/secrets/logbridge-admin"
    sts = (kinds.get("StatefulSet") or [None])[0]
    pod = sts["spec"]["template"]["spec"] if sts else {"containers": [{}]}
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0].get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    endpoints = [e for m in kinds.get("ServiceMonitor", []) for e in m["spec"]["endpoints"]]
    admin = (config or {}).get("admin") or {}
    if token["secretName"]:
        if admin.get("token") != "${file:%s/%s}" % (token_dir, token["key"]):
            problems.append("admin.token does not read the adminToken Secret's file")
        if mounts.get("admin-token") != token_dir or \
                volumes.get("admin-token", {}).get("secret", {}).get("secretName") != token["secretName"]:
            problems.append(f"the adminToken Secret is not mounted at {token_dir}")
        for endpoint in endpoints:
            credentials = (endpoint.get("authorization") or {}).get("credentials") or {}
            if credentials != {"name": token["secretName"], "key": token["key"]}:
                problems.append("the ServiceMonitor does not send the admin token")
    elif "token" in admin or "admin-token" in mounts or any("authorization" in e for e in endpoints):
        problems.append("an admin token without adminToken.secretName")
    policies = kinds.get("NetworkPolicy", [])
    policy = values["networkPolicy"]
    if bool(policies) != bool(policy["enabled"]):
        problems.append("NetworkPolicy " + ("missing" if policy["enabled"] else "unexpected"))
    for np in policies:
        spec = np["spec"]
        selector = (sts or {}).get("spec", {}).get("selector", {}).get("matchLabels")
        if spec.get("podSelector", {}).get("matchLabels") != selector:
            problems.append("NetworkPolicy does not select the StatefulSet's pods")
        ingress = spec.get("ingress")
        if ingress is None:
            problems.append("NetworkPolicy without an ingress list (ingress would be unrestricted)")
        elif policy["adminFrom"]:
            if len(ingress) != 1 or ingress[0].get("from") != policy["adminFrom"] or \
                    ingress[0].get("ports") != [{"port": "admin", "protocol": "TCP"}]:
                problems.append("NetworkPolicy ingress is not the admin port from adminFrom alone")
        elif ingress:
            problems.append("NetworkPolicy lets peers in although adminFrom is empty")
        egress_on = policy["egress"]["enabled"]
        if ("Egress" in spec.get("policyTypes", [])) != egress_on or "Ingress" not in spec.get("policyTypes", []):
            problems.append(f"NetworkPolicy policyTypes {spec.get('policyTypes')} do not follow egress.enabled")
        if egress_on:
            rules = spec.get("egress") or []
            dns = [r for r in rules if {"port": 53, "protocol": "UDP"} in (r.get("ports") or [])]
            if bool(dns) != bool(policy["egress"]["allowDNS"]):
                problems.append("NetworkPolicy DNS egress does not follow egress.allowDNS")
            if [r for r in rules if r not in dns] != policy["egress"]["to"]:
                problems.append("NetworkPolicy egress rules are not egress.to")
    return problems


def check_workload_identity(values: dict, config: dict | None, kinds: dict) -> list[str]:
    """azureWorkloadIdentity: the ServiceAccount annotation, the pod label and the entra_id config."""
    wi = values.get("azureWorkloadIdentity") or {}
    problems = []
    sts = kinds.get("StatefulSet", [])
    labels = sts[0]["spec"]["template"]["metadata"].get("labels", {}) if sts else {}
    accounts = kinds.get("ServiceAccount", [])
    annotations = (accounts[0]["metadata"].get("annotations") or {}) if accounts else {}
    if not wi.get("enabled"):
        if "azure.workload.identity/use" in labels:
            problems.append("workload identity pod label without azureWorkloadIdentity.enabled")
        return problems
    if labels.get("azure.workload.identity/use") != "true":
        problems.append('pods lack the label azure.workload.identity/use: "true"')
    if values["serviceAccount"]["create"] and annotations.get("azure.workload.identity/client-id") != wi["clientId"]:
        problems.append("the ServiceAccount lacks azure.workload.identity/client-id")
    entra = (((config or {}).get("source") or {}).get("kafka") or {}).get("entra_id") or {}
    if entra.get("workload_identity") is not True or not entra.get("client_id"):
        problems.append("config source.kafka.entra_id lacks workload_identity: true and client_id")
    return problems


def run_check(binary: str, name: str, config: dict, tmp: Path) -> None:
    """`logbridge check` on a rendered config, secrets replaced by dummy files and env values."""
    import yaml
    text = yaml.safe_dump(config, sort_keys=False)
    root = tmp / "secrets"

    def dummy_file(m: re.Match) -> str:
        target = root / m.group(1).lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        # A connection string must look like one; anything else gets 32 bytes (hash keys need 16+).
        target.write_text("Endpoint=sb://example.servicebus.windows.net/;SharedAccessKeyName=lint;"
                          "SharedAccessKey=bGludA==;EntityPath=aks-logs\n"
                          if "eventhub" in m.group(1) else "lint-dummy-secret-0123456789abcdef\n")
        return "${file:" + str(target) + "}"

    text = re.sub(r"\$\{file:([^}]+)\}", dummy_file, text)
    env = dict(os.environ)
    for var in re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", text):
        env.setdefault(var, f"lint-{var.lower()}")
    if "workload_identity: true" in text:
        # In the pod the workload identity webhook injects these.
        token = root / "azure-identity-token"
        token.parent.mkdir(parents=True, exist_ok=True)
        token.write_text("lint-federated-token\n")
        env.setdefault("AZURE_FEDERATED_TOKEN_FILE", str(token))
        env.setdefault("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000000")
        env.setdefault("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001")
    path = tmp / f"{name}.yaml"
    path.write_text(text)
    proc = subprocess.run([binary, "check", "--config", str(path)], env=env,
                          capture_output=True, text=True, timeout=60)
    out = (proc.stdout + proc.stderr).strip()
    report(proc.returncode == 0, f"logbridge check {name}",
           "" if proc.returncode == 0 else out.splitlines()[0] + " " + " | ".join(out.splitlines()[1:4]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chart", default=str(HERE / "logbridge"), help="chart directory")
    parser.add_argument("--logbridge", help="a built logbridge binary: run `check` on each rendered config")
    args = parser.parse_args()
    chart = Path(args.chart).resolve()

    with tempfile.TemporaryDirectory(prefix="logbridge-helm-lint-") as tmpdir:
        tmp = Path(tmpdir)
        # Keep Helm's cache/config/data out of the home directory (read when the library loads).
        for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
            os.environ[var] = str(tmp / "helm-home" / var.lower())
        try:
            import yaml
            import helm_sdkpy as helm
        except ImportError as e:
            report(False, "import helm_sdkpy and yaml", f"{e} (pip install --ignore-requires-python helm-sdkpy pyyaml)")
            return 1
        defaults = yaml.safe_load((chart / "values.yaml").read_text())

        # Every top-level value is documented in the schema and the README.
        schema = json.loads((chart / "values.schema.json").read_text())
        readme = (chart / "README.md").read_text() if (chart / "README.md").exists() else ""
        undocumented = [k for k in defaults if not schema["properties"].get(k, {}).get("description")
                        or f"`{k}" not in readme]
        report(not undocumented, "every value described in values.schema.json and README.md",
               f"missing: {undocumented}" if undocumented else "")

        cases = {"default": {}}
        for f in sorted((chart / "ci").glob("*.yaml")):
            cases[f"ci/{f.name}"] = yaml.safe_load(f.read_text()) or {}

        # The switches no ci file flips, on top of the first ci file.
        first = next((v for v in cases.values() if v), {})
        cases["toggles"] = merge(first, {
            "fullnameOverride": "lb", "image": {"digest": "sha256:" + "0" * 64}, "command": ["/usr/local/bin/logbridge"],
            "rollOnConfigChange": False, "serviceAccount": {"create": False},
            "podAntiAffinity": "", "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["logs"]}]}]}}},
            "podDisruptionBudget": {"enabled": False}, "tmpDir": {"sizeLimit": ""},
            "readinessProbe": {"path": "/healthz"}, "startupProbe": {"enabled": False},
            "persistence": {"storageClassName": "local-ssd"}, "updateStrategy": {"type": "OnDelete"},
            "adminToken": {"secretName": "admin", "key": "admin-token"},
            "networkPolicy": {"enabled": True, "egress": {"enabled": True, "to": [
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 9093, "protocol": "TCP"}]}]}}})

        for case, overrides in cases.items():
            if not overrides:
                lint(helm, chart, f"helm lint ({case} values)", expect=NEEDS_CONFIG)
                continue
            copy_dir = tmp / "charts" / Path(case).stem / chart.name
            shutil.copytree(chart, copy_dir)
            (copy_dir / "values.yaml").write_text(yaml.safe_dump(merge(defaults, overrides)))
            lint(helm, copy_dir, f"helm lint ({case} values)")

        server, kubeconfig = start_fake_api()
        try:
            configs = {}
            for case, overrides in cases.items():
                if not overrides:  # the defaults carry no source nor sink: refused
                    continue
                values = merge(defaults, overrides)
                try:
                    with captured_stderr():
                        release = install(helm, kubeconfig, chart, overrides)
                except helm.HelmError as e:
                    report(False, f"render ({case} values)", str(e))
                    continue
                config = check_manifest(f"render ({case} values)", values, release)
                if config is not None:
                    configs[Path(case).stem] = config

            # Negative tests: values the chart must refuse, and the message it must give.
            good = first
            negatives = [
                ("default values refused (no source, no sinks)", {}, NEEDS_CONFIG),
                ("grace period <= drain + 5 refused",
                 {**good, "shutdownTimeoutSeconds": 30, "terminationGracePeriodSeconds": 35},
                 "must be greater than shutdownTimeoutSeconds + 5"),
                ("replicas > partitionCount refused", {**good, "replicas": 5, "partitionCount": 4},
                 "is above partitionCount"),
                ("unknown value refused by values.schema.json", {**good, "replica": 3},
                 "additional properties 'replica' not allowed"),
                ("azureWorkloadIdentity without clientId refused",
                 merge(good, {"azureWorkloadIdentity": {"enabled": True}}),
                 "azureWorkloadIdentity.clientId is required"),
                ("azureWorkloadIdentity without config.source.kafka.entra_id refused",
                 merge(good, {"azureWorkloadIdentity": {"enabled": True, "clientId": "c"}}),
                 "needs config.source.kafka.entra_id.namespace"),
                ("config.admin.token beside adminToken refused",
                 merge(good, {"adminToken": {"secretName": "admin"}, "config": {"admin": {"token": "${file:/x}"}}}),
                 "config.admin.token is set by the chart"),
            ]
            for name, bad, message in negatives:
                try:
                    with captured_stderr():
                        install(helm, kubeconfig, chart, bad)
                    report(False, name, "the install rendered")
                except helm.HelmError as e:
                    text = " ".join(str(e).split())
                    report(message in text, name, text[:200])
        finally:
            server.shutdown()

        if args.logbridge:
            if not os.access(args.logbridge, os.X_OK):
                report(False, "logbridge check", f"{args.logbridge} is not an executable")
            for name, config in configs.items():
                if os.access(args.logbridge, os.X_OK):
                    run_check(args.logbridge, name, config, tmp)
        else:
            report(None, "logbridge check of the rendered configs", "no --logbridge binary given")

    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed, {RESULTS['skipped']} skipped")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
