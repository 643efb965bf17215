"""Scenario 2, dependency far away: a TCP service (a listener on 10.66.0.12:5432 in its own
host namespace) that the agent's host reaches through a link delaying every frame 7 seconds
each way (the TAP wire helper, tests/helpers/tap_wire.py). The agent's configured tcp probe
connects in about 14 s (one round trip), without losing a handshake packet; the shipped
latency alert for TCP dependencies fires in a real Prometheus and reaches the webhook through
a real Alertmanager, naming the dependency, its address and the connect time.

The hosts' neighbour entries are static: ARP over a 7-second wire would take 14 s and the
kernel gives up after 3 s, which would make this a reachability test instead of a latency one.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scenario_lib import Stack, check  # noqa: E402
from net_scenario import FleetHost, Topology, cleanup_on_sigterm, prometheus_for  # noqa: E402
import fslib  # noqa: E402
from probe_net import host_addr4  # noqa: E402

DELAY_MS = 7000
PORT = 5432
DEP = host_addr4(2)
# Timeout 20 s: a 14 s round trip fits before the kernel's SYN retransmission at 15 s.
AGENT_CONFIG = fslib.probe_config(
    [f'{{name: orders-db, address: "{DEP}", kind: tcp, port: {PORT}, interval: 2s, timeout: 20s, '
     'labels: {service: postgres}}'],
    off=("smart", "sensors", "lldp"), collectors=[("netdev", "{interval: 1s, timeout: 1s}")])
# Accepts and closes every connection (the probe only measures the handshake).
LISTENER = f"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("{DEP}", {PORT}))
s.listen(64)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.close()
"""


def mac_of(ns, ifname):
    return json.loads(ns.exec(["ip", "-j", "link", "show", ifname]).stdout)[0]["address"]


def main():
    cleanup_on_sigterm()
    with Stack() as st:
        topo = st.enter(Topology("fd", hosts=0))
        client = topo.add_delayed_host(1, DELAY_MS)
        server = topo.add_host(2)
        # Static neighbours both ways (see the module comment).
        client.exec(["ip", "neigh", "replace", DEP, "lladdr", mac_of(server, "eth0"), "dev", "eth0",
                     "nud", "permanent"])
        server.exec(["ip", "neigh", "replace", host_addr4(1), "lladdr", mac_of(client, "eth0"),
                     "dev", "eth0", "nud", "permanent"])
        listener = topo.spawn(server, [sys.executable, "-c", LISTENER], stdout=subprocess.PIPE,
                              text=True)
        line = listener.stdout.readline().strip()
        check(line == "listening", f"the dependency did not start listening: {line!r}")

        host = FleetHost(st, topo, client, "app1", AGENT_CONFIG)
        hook = st.webhook()
        am = st.alertmanager(hook.url)
        # The latency rule says `for: 10m`; at scale 60 it needs 10 s here.
        prom = prometheus_for(st, [host], st.shipped_rules(for_scale=60), am.address)
        bad = [r for r in prom.rule_health() if r[2] == "err"]
        check(not bad, f"shipped rules fail to evaluate: {bad}")
        check(any(r[1] == "ForeshockDependencySlow" for r in prom.rule_health()),
              "ForeshockDependencySlow (the absolute latency alert for TCP dependencies) is not "
              "among the shipped rules in packaging/prometheus/")
        prom.wait_for_query('up{job="foreshock", instance="app1"} == 1', timeout=30,
                            what="the agent scraped through its relay")

        # The first connect needs one 14 s round trip through the wire.
        sel = 'instance="app1", name="orders-db", probe="tcp"'
        rtt = prom.wait_for_query(f'foreshock_probe_last_rtt_seconds{{{sel}}} > 0', timeout=40,
                                  what="the first completed connect to the far dependency")
        rtt = float(rtt[0]["value"][1])
        print(f"connect time {rtt:.3f} s")
        check(2 * DELAY_MS / 1000 <= rtt < 2 * DELAY_MS / 1000 + 0.5,
              f"connect time {rtt} s should be one round trip of the wire ({2 * DELAY_MS / 1000} s)")

        alert = hook.wait_for_alert("ForeshockDependencySlow", "firing", {"instance": "app1"},
                                    timeout=90)
        labels, ann = alert["labels"], alert["annotations"]
        print("fired:", labels, ann)
        check(labels.get("name") == "orders-db" and labels.get("target") == f"{DEP}:{PORT}"
              and labels.get("service") == "postgres" and labels.get("probe") == "tcp",
              f"the alert must name the dependency: {labels}")
        check(labels.get("severity") == "warning", f"severity: {labels}")
        # humanizeDuration: "14s" or "14.02s", the mean connect time of the window.
        check(re.fullmatch(rf"dependency orders-db \({re.escape(DEP)}:{PORT}\) takes 14(\.\d+)?s "
                           r"to connect from app1", ann.get("summary", "")),
              f"summary should name the dependency, the ~14 s connect time and the host: {ann.get('summary')!r}")
        check("traceroute" in ann.get("description", ""), f"description: {ann.get('description')!r}")

        # Slow is not lossy and not down: no handshake packet was lost, the target is up, and
        # neither the loss nor the unreachable alert claims otherwise.
        m = {s["metric"]["__name__"]: float(s["value"][1]) for s in prom.query(
            f'{{__name__=~"foreshock_probe_(tcp_syn_retransmits_total|up|loss_ratio)", {sel}, window!="1m"}}')}
        check(m.get("foreshock_probe_tcp_syn_retransmits_total") == 0, f"retransmissions counted as loss: {m}")
        check(m.get("foreshock_probe_up") == 1, f"the far dependency is up: {m}")
        check(m.get("foreshock_probe_loss_ratio", 0) == 0, f"loss ratio: {m}")
        for wrong in ("ForeshockTargetLoss", "ForeshockGatewayUnreachable"):
            check(not hook.matching(wrong, "firing", {"instance": "app1"}),
                  f"{wrong} fired for a slow but working dependency: {hook.matching(wrong)}")
    print("ok")


if __name__ == "__main__":
    main()
