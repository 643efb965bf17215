"""Namespace topologies for the probe and lldp integration tests (stdlib only).

A "switch" namespace holds a Linux bridge br0 with the gateway addresses 10.66.0.1/24 and
fd00:66::1/64; each host namespace is joined to it by a veth pair (host side eth0, switch
side p<N>) and routes by default via the bridge. Every namespace name starts with
"fspr-"; everything is removed in close(), even when the test fails.
"""
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fslib  # noqa: E402

GW4 = "10.66.0.1"
GW6 = "fd00:66::1"
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)
TAP_WIRE = os.path.join(fslib.SOURCE_DIR, "tests", "helpers", "tap_wire.py")


def host_addr4(i):
    return f"10.66.0.{10 + i}"


class Topology:
    # Every suite keeps its own namespace prefix so parallel suites never collide.
    PREFIX = "fspr-"
    TOOLS = ("ip", "nft", "curl")

    def __init__(self, tag, hosts=1):
        fslib.require_root()
        for tool in self.TOOLS:
            fslib.require_tool(tool)
        self.prefix = f"{self.PREFIX}{tag}{os.getpid() % 100000}"
        self.namespaces = []
        self.procs = []
        self.files = []
        try:
            self.sw = self._ns("sw")
            self.sw.exec(["ip", "link", "add", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0"])
            self.sw.exec(["ip", "addr", "add", GW4 + "/24", "dev", "br0"])
            self.sw.exec(["ip", "-6", "addr", "add", GW6 + "/64", "dev", "br0", "nodad"])
            self.sw.exec(["ip", "link", "set", "br0", "up"])
            self.hosts = [self.add_host(i) for i in range(1, hosts + 1)]
        except BaseException:
            self.close()
            raise

    def _ns(self, name):
        ns = fslib.Netns(f"{self.prefix}-{name}")
        self.namespaces.append(ns)
        return ns

    def _configure_host(self, ns, i):
        ns.exec(["ip", "addr", "add", host_addr4(i) + "/24", "dev", "eth0"])
        ns.exec(["ip", "-6", "addr", "add", f"fd00:66::{10 + i}/64", "dev", "eth0", "nodad"])
        ns.exec(["ip", "link", "set", "eth0", "up"])
        ns.exec(["ip", "route", "add", "default", "via", GW4])
        ns.exec(["ip", "-6", "route", "add", "default", "via", GW6])

    def add_host(self, i):
        ns = self._ns(f"h{i}")
        port = f"p{i}"
        self.sw.exec(["ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns.name])
        self.sw.exec(["ip", "link", "set", port, "master", "br0"])
        self.sw.exec(["ip", "link", "set", port, "up"])
        self._configure_host(ns, i)
        return ns

    def add_delayed_host(self, i, delay_ms):
        """A host joined to the switch through the TAP wire helper (one-way delay_ms)."""
        ns = self._ns(f"h{i}")
        port = f"w{i}"
        p = subprocess.Popen([sys.executable, TAP_WIRE, "--a", f"{self.sw.name}:{port}",
                              "--b", f"{ns.name}:eth0", "--delay-ms", str(delay_ms)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline().strip()
        if line != "ready":
            fslib.fail(f"tap_wire.py did not start: {line} {p.stderr.read() if p.poll() is not None else ''}")
        self.sw.exec(["ip", "link", "set", port, "master", "br0"])
        self.sw.exec(["ip", "link", "set", port, "up"])
        self._configure_host(ns, i)
        return ns

    def spawn(self, ns, cmd, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", ns.name] + list(cmd), **kw)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for ns in reversed(self.namespaces):
            ns.close()
        for f in self.files:
            try:
                os.unlink(f)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# The LLDP collector of the LLDP tests: a cycle a second, listening on the hosts' eth* links.
LLDP_EVERY_SECOND = ("lldp", '{interval: 1s, timeout: 1s, include: "eth.*"}')


def write_config(topo, text):
    fd, path = tempfile.mkstemp(prefix="fspr-", suffix=".yml")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)  # readable by the unprivileged agent runs
    topo.files.append(path)
    return path


class NsAgent(fslib.Agent):
    """`foreshock serve` inside a namespace, optionally behind a privilege-dropping wrapper;
    /metrics is fetched from inside the namespace."""

    def __init__(self, ns, config, wrapper=(), extra=()):
        self.ns = ns
        old = fslib.BIN
        args = list(wrapper) + [old, "serve", "--config", config,
                                "--web.listen-address", "127.0.0.1:0"] + list(extra)
        try:
            fslib.BIN = args[0]
            super().__init__(args[1:], netns=ns.name)
        finally:
            fslib.BIN = old

    def metrics(self, index=0):
        # The agent's 127.0.0.1 is the namespace's loopback: enter the namespace to fetch.
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{self.ns.name}", os.O_RDONLY)
        try:
            if _libc.setns(target, CLONE_NEWNET) != 0:
                fslib.fail(f"setns into {self.ns.name} failed")
            with urllib.request.urlopen(self.url("/metrics", index), timeout=5) as r:
                return r.read().decode()
        finally:
            _libc.setns(home, CLONE_NEWNET)
            os.close(home)
            os.close(target)


def scrape(agent):
    return fslib.parse_metrics(agent.metrics())


def series(metrics, metric, **labels):
    """Every (labels dict, value) of `metric` whose labels include `labels`."""
    out = []
    for (n, ls), v in metrics.items():
        if n == metric and set(labels.items()) <= set(ls):
            out.append((dict(ls), v))
    return out


def val(metrics, metric, **labels):
    """The value of the one series of `metric` whose labels include `labels`; None if absent."""
    found = series(metrics, metric, **labels)
    if len(found) > 1:
        fslib.fail(f"{metric}{labels} matches {len(found)} series: {found}")
    return found[0][1] if found else None


def wait_metric(agent, pred, timeout, what):
    deadline = time.monotonic() + timeout
    m = None
    while time.monotonic() < deadline:
        m = scrape(agent)
        if pred(m):
            return m
        time.sleep(0.5)
    fslib.fail(f"timed out after {timeout}s waiting for {what}\nlast metrics:\n" +
               "\n".join(f"{n}{dict(ls)} {v}" for (n, ls), v in sorted(m.items(), key=str)
                         if n.startswith(("foreshock_probe", "foreshock_lldp")))
               + "\nagent log:\n" + agent.output())
