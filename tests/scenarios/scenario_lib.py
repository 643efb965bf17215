"""Harness for the outage scenarios: a real Prometheus (Debian `prometheus`) and a real
Alertmanager (Debian `prometheus-alertmanager`) on loopback, a webhook receiver the test runs,
polling helpers with timeouts (never fixed sleeps) and cleanup of everything started.

Typical use (see test_agent_down.py):

    with Stack() as st:
        agent = st.enter(Agent([...]))
        hook = st.webhook()
        am = st.alertmanager(hook.url)
        rules = st.shipped_rules(for_scale=60)          # every packaging/prometheus/*.yml
        prom = st.prometheus({"foreshock": agent.addresses}, rules, alertmanager=am.address)
        prom.wait_for_query('up{job="foreshock"} == 1')
        ...
        alert = hook.wait_for_alert("ForeshockAgentDown", status="firing", labels={...})

Ports: Prometheus and Alertmanager cannot listen on port 0, so free loopback ports are picked
by binding port 0 and releasing it; a start that loses the race is retried on another port.

Time compression: the shipped rules are loaded unchanged except that each rule's `for:` is
divided by `for_scale` (at least 1 s), so an alert that needs 2 minutes in production needs 2 s
here. Expressions, labels and annotations are exactly the shipped ones.

Every process started is stopped (SIGTERM, then SIGKILL) and every temporary directory removed
when the Stack closes, also when the test fails; the logs of the processes are printed on
failure.
"""
import contextlib
import datetime
import glob
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import fslib  # noqa: E402
from fslib import SOURCE_DIR, check, fail, free_port  # noqa: E402

try:
    import yaml
except ImportError:  # pragma: no cover - a missing tool fails loudly
    fail("python3-yaml is required (scripts/install-deps.sh test)")

PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def require_binary(path, package):
    if not os.access(path, os.X_OK):
        fail(f"{path} is missing: install the Debian package {package} (scripts/install-deps.sh test)")
    return path


def poll(pred, timeout, what, interval=0.2):
    """Calls pred until it returns something truthy; fails naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() >= deadline:
            fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def http_json(url, timeout=5, data=None):
    req = urllib.request.Request(url, data=data)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode())


RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def alert_time_ms(s):
    """An Alertmanager/Prometheus RFC 3339 time as integer milliseconds since the epoch.

    The same instant is spelt differently by different APIs: the webhook payload uses Go's
    RFC3339Nano, which drops trailing zeros ("...:20.16Z"), the v2 API always prints three
    digits ("...:20.160Z"). Compare instants, never the strings.
    """
    m = RFC3339.match(s or "")
    check(m is not None, f"not an RFC 3339 time: {s!r}")
    base, frac, zone = m.groups()
    zone = "+00:00" if zone == "Z" else zone
    secs = datetime.datetime.fromisoformat(base + zone).timestamp()
    return int(secs) * 1000 + int(((frac or "") + "000")[:3])


def parse_duration(s):
    total, rest = 0.0, s
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    for num, unit in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", s):
        total += int(num) * units[unit]
        rest = rest.replace(num + unit, "", 1)
    if rest:
        fail(f"cannot parse duration {s!r}")
    return total


def scale_rule_file(src, dst, for_scale):
    """Copies a Prometheus rules file, dividing every rule's `for:` by for_scale (>= 1 s)."""
    with open(src) as f:
        doc = yaml.safe_load(f)
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            if "for" in rule:
                secs = max(1, int(round(parse_duration(str(rule["for"])) / for_scale)))
                rule["for"] = f"{secs}s"
    with open(dst, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    return dst


class Process:
    """A daemon with its log in a file; stop() is SIGTERM, then SIGKILL."""

    def __init__(self, name, cmd, workdir):
        self.name = name
        self.log_path = os.path.join(workdir, name + ".log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc.poll() is None

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self, timeout=10):
        fslib.stop_process(self.proc, timeout)
        self.log.close()


def start_on_free_port(name, make_cmd, ready_url_of, workdir, attempts=3, timeout=30):
    """Starts a daemon on a free port, retrying on another port if it loses the race."""
    last = ""
    for _ in range(attempts):
        port = free_port()
        p = Process(name, make_cmd(port), workdir)

        def ready():
            if not p.alive():
                return "exited"
            try:
                with urllib.request.urlopen(ready_url_of(port), timeout=2) as r:
                    return "ready" if r.status == 200 else None
            except (urllib.error.URLError, ConnectionError, OSError):
                return None

        state = poll(ready, timeout, f"{name} to become ready")
        if state == "ready":
            return p, port
        last = p.output()
        p.stop()
        if "address already in use" not in last:
            break
    fail(f"{name} did not start:\n{last}")


class WebhookReceiver:
    """Alertmanager's webhook target: a threaded HTTP server collecting every POSTed payload."""

    def __init__(self):
        self.payloads = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    payload = json.loads(body.decode())
                except ValueError:
                    payload = {"unparsable": body.decode(errors="replace")}
                with outer.lock:
                    outer.payloads.append(payload)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def alerts(self):
        """Every alert of every notification, in arrival order (an alert may repeat)."""
        with self.lock:
            return [a for p in self.payloads for a in p.get("alerts", [])]

    def matching(self, alertname, status=None, labels=None):
        out = []
        for a in self.alerts():
            ls = a.get("labels", {})
            if ls.get("alertname") != alertname:
                continue
            if status and a.get("status") != status:
                continue
            if labels and any(ls.get(k) != v for k, v in labels.items()):
                continue
            out.append(a)
        return out

    def wait_for_alert(self, alertname, status="firing", labels=None, timeout=60):
        found = poll(lambda: self.matching(alertname, status, labels), timeout,
                     f"webhook notification {alertname} {status} {labels or ''}")
        return found[0]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Alertmanager:
    """A real Alertmanager routing every alert to one webhook with short timers."""

    def __init__(self, webhook_url, workdir, group_wait="1s", group_interval="1s",
                 repeat_interval="1h"):
        require_binary(ALERTMANAGER, "prometheus-alertmanager")
        self.dir = tempfile.mkdtemp(prefix="am-", dir=workdir)
        cfg = {
            "route": {"receiver": "webhook", "group_by": ["alertname", "instance"],
                      "group_wait": group_wait, "group_interval": group_interval,
                      "repeat_interval": repeat_interval},
            "receivers": [{"name": "webhook",
                           "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}],
        }
        path = os.path.join(self.dir, "alertmanager.yml")
        with open(path, "w") as f:
            yaml.safe_dump(cfg, f)

        def cmd(port):
            return [ALERTMANAGER, f"--config.file={path}", f"--storage.path={self.dir}/data",
                    f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                    "--log.level=info"]

        self.proc, self.port = start_on_free_port(
            "alertmanager", cmd, lambda p: f"http://127.0.0.1:{p}/-/ready", self.dir)
        self.address = f"127.0.0.1:{self.port}"

    def alerts(self):
        return http_json(f"http://{self.address}/api/v2/alerts")

    def close(self):
        self.proc.stop()


class Prometheus:
    """A real Prometheus scraping `targets` ({job: [host:port, ...]}) with `rule_files`."""

    def __init__(self, targets, rule_files, workdir, alertmanager=None, scrape_interval="1s",
                 evaluation_interval="1s", scrape_timeout=None, scrape_extra=None):
        require_binary(PROMETHEUS, "prometheus")
        self.dir = tempfile.mkdtemp(prefix="prom-", dir=workdir)
        glob_cfg = {"scrape_interval": scrape_interval, "evaluation_interval": evaluation_interval}
        if scrape_timeout:
            glob_cfg["scrape_timeout"] = scrape_timeout
        cfg = {"global": glob_cfg, "rule_files": list(rule_files), "scrape_configs": []}
        for job, addrs in targets.items():
            sc = {"job_name": job, "static_configs": [{"targets": list(addrs)}]}
            sc.update((scrape_extra or {}).get(job, {}))
            cfg["scrape_configs"].append(sc)
        if alertmanager:
            cfg["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
        self.config_path = os.path.join(self.dir, "prometheus.yml")
        with open(self.config_path, "w") as f:
            yaml.safe_dump(cfg, f, sort_keys=False)

        def cmd(port):
            return [PROMETHEUS, f"--config.file={self.config_path}",
                    f"--storage.tsdb.path={self.dir}/data", f"--web.listen-address=127.0.0.1:{port}",
                    # Resend firing alerts to Alertmanager every 5 s (default 1m). Each send
                    # tells Alertmanager the alert ends 4 resend delays later unless resent, so
                    # 5 s leaves 20 s of slack: a Prometheus stalled on a loaded CI machine
                    # must not let a still-firing alert expire and restart with a new startsAt.
                    # New and resolved alerts are sent at once whatever this is.
                    "--rules.alert.resend-delay=5s", "--log.level=info"]

        self.proc, self.port = start_on_free_port(
            "prometheus", cmd, lambda p: f"http://127.0.0.1:{p}/-/ready", self.dir)
        self.base = f"http://127.0.0.1:{self.port}"

    def api(self, path, **params):
        url = f"{self.base}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            body = http_json(url)
        except urllib.error.HTTPError as e:
            body = json.loads(e.read().decode())
        return body

    def query(self, expr):
        """Instant query; returns the result vector. Fails on a PromQL error."""
        body = self.api("query", query=expr)
        if body.get("status") != "success":
            fail(f"query {expr!r} failed: {body.get('errorType')}: {body.get('error')}")
        return body["data"]["result"]

    def query_error(self, expr):
        """None if `expr` is valid PromQL, else Prometheus's error message."""
        body = self.api("query", query=expr)
        return None if body.get("status") == "success" else f"{body.get('errorType')}: {body.get('error')}"

    def wait_for_query(self, expr, timeout=30, what=None):
        """Polls until the instant query returns a non-empty vector; returns it."""
        return poll(lambda: self.query(expr), timeout, what or f"query {expr!r} to return a series")

    def alerts(self):
        return self.api("alerts")["data"]["alerts"]

    def wait_for_alert_state(self, alertname, state="firing", timeout=30):
        return poll(lambda: [a for a in self.alerts()
                             if a["labels"].get("alertname") == alertname and a["state"] == state],
                    timeout, f"Prometheus alert {alertname} to be {state}")

    def rule_health(self):
        """[(group, rule name, health, lastError)] of every loaded rule."""
        out = []
        for g in self.api("rules")["data"]["groups"]:
            for r in g["rules"]:
                out.append((g["name"], r["name"], r.get("health"), r.get("lastError", "")))
        return out

    def close(self):
        self.proc.stop()


class _NamedLog:
    """A log for Stack.dump_logs: `name` and the output of `source`, or why it is unreadable."""

    def __init__(self, name, source):
        self.name, self.source = name, source

    def output(self):
        try:
            return self.source.output()
        except OSError as e:
            return f"(log unreadable: {e})"


class Stack(contextlib.ExitStack):
    """Owns every process and directory of one scenario; closes them even when the test fails."""

    def __init__(self):
        super().__init__()
        self.workdir = tempfile.mkdtemp(prefix="fspk-scenario-")
        self.processes = []
        self.callback(shutil.rmtree, self.workdir, True)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.dump_logs()
        return super().__exit__(exc_type, exc, tb)

    def dump_logs(self):
        for p in self.processes:
            print(f"----- {p.name} log -----\n{p.output()[-4000:]}", file=sys.stderr)

    def show_log_on_failure(self, name, agent):
        """Prints `agent`'s log (anything with output()) under `name` if the scenario fails,
        like the Stack's own daemons'."""
        self.processes.append(_NamedLog(name, agent))

    def enter(self, obj):
        return self.enter_context(obj)

    def webhook(self):
        w = WebhookReceiver()
        self.callback(w.close)
        return w

    def alertmanager(self, webhook_url, **kw):
        am = Alertmanager(webhook_url, self.workdir, **kw)
        self.processes.append(am.proc)
        self.callback(am.close)
        return am

    def prometheus(self, targets, rule_files, alertmanager=None, **kw):
        prom = Prometheus(targets, rule_files, self.workdir, alertmanager=alertmanager, **kw)
        self.processes.append(prom.proc)
        self.callback(prom.close)
        return prom

    def alerting(self, targets, for_scale, **prometheus_kw):
        """The alerting path of a scenario: a webhook receiver, an Alertmanager sending to it and
        a Prometheus scraping `targets` with every shipped rule (`for:` divided by for_scale)
        that alerts through that Alertmanager. Fails the test unless every rule evaluates.
        Returns (webhook, alertmanager, prometheus)."""
        hook = self.webhook()
        am = self.alertmanager(hook.url)
        prom = self.prometheus(targets, self.shipped_rules(for_scale=for_scale),
                               alertmanager=am.address, **prometheus_kw)
        bad = [r for r in prom.rule_health() if r[2] == "err"]
        check(not bad, f"shipped rules fail to evaluate: {bad}")
        return hook, am, prom

    def shipped_rules(self, for_scale=1):
        """Every packaging/prometheus/*.yml, copied with `for:` divided by for_scale."""
        files = sorted(glob.glob(os.path.join(SOURCE_DIR, "packaging", "prometheus", "*.yml")))
        check(files, "no rule files in packaging/prometheus")
        out_dir = os.path.join(self.workdir, "rules")
        os.makedirs(out_dir, exist_ok=True)
        return [scale_rule_file(f, os.path.join(out_dir, os.path.basename(f)), for_scale)
                for f in files]


# Re-exported so scenarios import one module.
Agent = fslib.Agent
