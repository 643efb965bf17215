"""Shared helpers for foreshock's integration tests (stdlib only).

Every test is a plain script: it exits non-zero on failure. Tools a test needs are required:
a missing tool fails loudly (require_tool), it never skips silently.
"""
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = os.environ.get("FORESHOCK_BIN", "")
SOURCE_DIR = os.environ.get("FORESHOCK_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TEST_DATA = os.environ.get("FORESHOCK_TEST_DATA", os.path.join(SOURCE_DIR, "tests", "fixtures", "data"))


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def require_tool(name):
    path = shutil.which(name)
    if not path:
        fail(f"required tool '{name}' is not installed (run scripts/install-deps.sh test)")
    return path


def require_root():
    if os.geteuid() != 0:
        fail("this test needs root (namespaces/mounts); CI runs as root")


def run(cmd, check_rc=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check_rc and p.returncode != 0:
        fail(f"{cmd!r} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    fail(f"timed out after {timeout}s waiting for {what}")


def free_port():
    """A loopback TCP port that was free a moment ago (for daemons that cannot take port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc, timeout=5):
    """Stops a child still running: SIGTERM, then SIGKILL after `timeout` seconds; returns its
    exit status (negative for a signal)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


_running_agents = []


@atexit.register
def _stop_running_agents():
    """An Agent the test never stopped (not used as a context manager, or the test failed
    first) is stopped at exit, so neither the process nor its log file outlives the test."""
    for agent in list(_running_agents):
        if agent.owner_pid == os.getpid():  # never from a forked child
            agent.stop()


class Agent:
    """Runs `foreshock serve` with the given arguments, learns the bound address from its log.
    The log is a temp file until stop() (also called on exit from the with block, and at
    interpreter exit for an agent never stopped): stop() keeps the log in memory for output()
    and removes the file. Not thread-safe: one test thread drives an Agent."""

    def __init__(self, args, env=None, netns=None, wrapper=()):
        if not BIN:
            fail("FORESHOCK_BIN is not set")
        self._final_output = None
        self.owner_pid = os.getpid()
        fd, self.log_path = tempfile.mkstemp(prefix="foreshock-agent-", suffix=".log")
        self.log = os.fdopen(fd, "w+")
        cmd = list(wrapper) + [BIN] + list(args)
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        try:
            self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        except BaseException:
            self.log.close()
            os.unlink(self.log_path)
            raise
        _running_agents.append(self)
        self.addresses = wait_for(self._bound, timeout=10, what="the agent to log its listen address")

    def _bound(self):
        if self.proc.poll() is not None:
            fail(f"agent exited early with {self.proc.returncode}:\n{self.output()}")
        found = re.findall(r'msg="listening on ([^"]+)"', self.output())
        return found or None

    def output(self):
        if self._final_output is not None:
            return self._final_output
        with open(self.log_path) as f:
            return f.read()

    def url(self, path="/metrics", index=0):
        return f"http://{self.addresses[index]}{path}"

    def get(self, path="/metrics", index=0, headers=None, timeout=5):
        req = urllib.request.Request(self.url(path, index), headers=headers or {})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()

    def metrics(self, index=0):
        return self.get("/metrics", index)[2].decode()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=5):
        """Stops the agent (see stop_process) and returns its exit status; the log stays
        readable through output(), its file is removed. Stopping again is harmless."""
        stop_process(self.proc, timeout)
        if self._final_output is None:
            self._final_output = self.output()
            self.log.close()
            try:
                os.unlink(self.log_path)
            except FileNotFoundError:
                pass
        if self in _running_agents:
            _running_agents.remove(self)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def parse_metrics(text):
    """Returns {(name, frozenset(labels.items())): value} for every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)', line)
        if not m:
            fail(f"unparsable exposition line: {line!r}")
        labels = {}
        if m.group(3):
            for lm in re.finditer(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3)):
                labels[lm.group(1)] = lm.group(2)
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return out


def value(metrics, name, /, **labels):
    """The value of the one series `name` whose labels include `labels`; None if absent."""
    found = [v for (n, ls), v in metrics.items() if n == name and set(labels.items()) <= set(ls)]
    if len(found) > 1:
        fail(f"{name}{labels} matches {len(found)} series")
    return found[0] if found else None


def promtool_check(text):
    promtool = require_tool("promtool")
    p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"promtool check metrics failed:\n{p.stdout}{p.stderr}")
    return p


def collectors_off(*names):
    """YAML lines (under `collectors:`) disabling each named collector, in the order given."""
    return "".join(f"  {name}: {{enabled: false}}\n" for name in names)


def probe_config(targets=(), off=("self", "lldp"), implicit_targets=False, probe=(), collectors=()):
    """The YAML of an agent config for a probe test: the probe collector runs every 1 s (timeout
    1 s) on `targets` (YAML flow mappings, one a target; none: no `targets` key), the
    collectors named in `off` are disabled. Unless implicit_targets, the default-gateway and LLDP-management targets are off
    too, so only the listed targets are probed. `probe` and `collectors` are further
    (key, value) settings of the probe collector and of the collectors section."""
    lines = ["collectors:"] + collectors_off(*off).splitlines()
    lines += [f"  {k}: {v}" for k, v in collectors]
    lines += ["  probe:", "    interval: 1s", "    timeout: 1s"]
    if not implicit_targets:
        lines += ["    gateways: false", "    lldp_management: false"]
    lines += [f"    {k}: {v}" for k, v in probe]
    if targets:
        lines += ["    targets:"] + [f"      - {t}" for t in targets]
    return "\n".join(lines) + "\n"


class Netns:
    """A network namespace removed on exit, even when the test fails."""

    def __init__(self, name):
        self.name = name
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        run(["ip", "netns", "add", name])
        self.exec(["ip", "link", "set", "lo", "up"])

    def exec(self, cmd, check_rc=True, **kw):
        return run(["ip", "netns", "exec", self.name] + list(cmd), check_rc=check_rc, **kw)

    def close(self):
        subprocess.run(["ip", "netns", "pids", self.name], capture_output=True)
        pids = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
