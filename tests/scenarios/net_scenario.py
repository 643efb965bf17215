"""Shared parts of the network outage scenarios: the namespace topology of the probe tests
(tests/integration/probe_net.py) under this suite's own prefix "fssn-", agents inside host
namespaces, and the relay that lets the root-namespace Prometheus scrape them.

Design: each agent runs inside its host namespace (so its probes, LLDP listener and netdev
collector see that host's eth0), listening on the namespace's loopback. An NsRelay in the
root namespace listens on 127.0.0.1 and connects into the namespace for every scrape; the
Prometheus target is the relay, and a relabel rule gives the target a host name as its
`instance`, as in a real fleet. No address is added to the root namespace.
"""
import os
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import fslib  # noqa: E402
import probe_net  # noqa: E402
from netns_relay import NsRelay  # noqa: E402

PREFIX = "fssn-"


class Topology(probe_net.Topology):
    """probe_net's switch-and-hosts topology (bridge br0 with gateways 10.66.0.1 and fd00:66::1
    in the switch namespace, host i at 10.66.0.(10+i) on eth0, switch port p<i>), named
    fssn-<tag><pid>-*."""

    PREFIX = PREFIX  # the module constant, "fssn-"
    TOOLS = ("ip", "nft")


def cleanup_on_sigterm():
    """Turns SIGTERM (a CTest timeout, a CI job cancelled) into SystemExit, so the `with`
    blocks still remove the namespaces and stop every process."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


class FleetHost:
    """One agent in a host namespace plus its relay; `instance` is the name Prometheus gives it."""

    def __init__(self, st, topo, ns, instance, config_body):
        self.instance = instance
        self.state_dir = tempfile.mkdtemp(prefix="fssn-state-", dir=st.workdir)
        config = probe_net.write_config(topo, f"state: {{directory: {self.state_dir}}}\n" + config_body)
        self.agent = st.enter(probe_net.NsAgent(ns, config))
        st.show_log_on_failure(f"agent {instance}", self.agent)
        self.relay = NsRelay(ns.name, self.agent.addresses[0])
        st.callback(self.relay.close)

    def relabel(self):
        """A Prometheus relabel rule naming this target `instance`."""
        return {"source_labels": ["__address__"], "regex": self.relay.address.replace(".", "\\."),
                "target_label": "instance", "replacement": self.instance}


def wait_query_or_show(prom, expr, show, timeout, what):
    """Like Prometheus.wait_for_query, but a timeout also prints what `show` returns then."""
    deadline = time.monotonic() + timeout
    while True:
        got = prom.query(expr)
        if got:
            return got
        if time.monotonic() >= deadline:
            fslib.fail(f"timed out after {timeout}s waiting for {what} ({expr}); {show} is "
                       f"{[r['metric'] | {'value': r['value'][1]} for r in prom.query(show)]}")
        time.sleep(0.2)


def prometheus_for(st, hosts, rules, alertmanager):
    return st.prometheus({"foreshock": [h.relay.address for h in hosts]}, rules,
                         alertmanager=alertmanager,
                         scrape_extra={"foreshock": {"relabel_configs": [h.relabel() for h in hosts]}})
