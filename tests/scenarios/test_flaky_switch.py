"""Scenario 1, flaky switch: two hosts behind one switch (a bridge in the switch namespace,
lldpd announcing the switch's name on both ports), an agent on each host probing its
default gateway, a real Prometheus with the shipped rules and a real Alertmanager posting to
a webhook.

1. 20 % loss on host1's switch port only (nftables on that port's ingress): the shipped
   ForeshockSwitchPortSuspect alert blames host1's port p1 of the switch; the switch is not
   blamed (ForeshockSwitchSuspect neither pending nor firing, one host with loss on it).
2. 20 % loss in the switch itself (nftables on the bridge, every port): both agents see it;
   ForeshockSwitchSuspect fires naming the switch (system name and chassis id from LLDP)
   with 2 hosts, and the port alert resolves.

The port case runs first: the rules read the agents' 5-minute loss ratio, so the other order
would have to wait 5 minutes for host2's ratio of the switch phase to age out.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scenario_lib import Stack, check, poll  # noqa: E402
from net_scenario import FleetHost, Topology, cleanup_on_sigterm, prometheus_for, wait_query_or_show  # noqa: E402
import fslib  # noqa: E402

SWITCH = "tor1.rack7.fssn"
LOSS_PCT = 20
AGENT_CONFIG = """
collectors:
  smart: {enabled: false}
  sensors: {enabled: false}
  lldp: {interval: 1s, timeout: 1s, include: "^eth0$"}
  netdev: {interval: 1s, timeout: 1s}
  probe:
    interval: 1s
    timeout: 1s
    probe_interval: 100ms
    probe_timeout: 500ms
    gateway_probes: [icmp]
    lldp_management: false
"""


def start_switch_lldp(topo):
    """lldpd in the switch namespace speaking on both host ports, every second."""
    lldpd = fslib.require_tool("lldpd")
    lldpcli = fslib.require_tool("lldpcli")
    sock = f"/tmp/{topo.prefix}-lldpd.sock"
    pid = f"/tmp/{topo.prefix}-lldpd.pid"
    empty = os.path.join(os.path.dirname(sock), f"{topo.prefix}-lldpd.conf")
    open(empty, "w").close()
    topo.files += [sock, pid, empty]
    # -d foreground, -u private control socket, -p private pid file, -O an empty startup
    # config instead of /etc/lldpd.d, -I the host ports only.
    topo.spawn(topo.sw, [lldpd, "-d", "-u", sock, "-p", pid, "-O", empty, "-I", "p1,p2"],
               stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
    fslib.wait_for(lambda: os.path.exists(sock), timeout=10, what="lldpd's control socket")
    topo.sw.exec([lldpcli, "-u", sock, "configure", "system", "hostname", SWITCH])
    topo.sw.exec([lldpcli, "-u", sock, "configure", "lldp", "portidsubtype", "ifname"])
    topo.sw.exec([lldpcli, "-u", sock, "configure", "lldp", "tx-interval", "1"])


def alert_names(prom, name):
    return [(a["state"], a["labels"]) for a in prom.alerts() if a["labels"]["alertname"] == name]


def main():
    cleanup_on_sigterm()
    with Stack() as st:
        topo = st.enter(Topology("fs", hosts=2))
        start_switch_lldp(topo)
        hosts = [FleetHost(st, topo, ns, f"host{i}", AGENT_CONFIG)
                 for i, ns in enumerate(topo.hosts, start=1)]
        hook = st.webhook()
        am = st.alertmanager(hook.url)
        # The fleet rules say `for: 5m`; at scale 60 they need 5 s here.
        prom = prometheus_for(st, hosts, st.shipped_rules(for_scale=60), am.address)
        bad = [r for r in prom.rule_health() if r[2] == "err"]
        check(not bad, f"shipped rules fail to evaluate: {bad}")
        loaded = {r[1] for r in prom.rule_health()}
        check({"ForeshockSwitchSuspect", "ForeshockSwitchPortSuspect"} <= loaded,
              "the fleet alerts ForeshockSwitchSuspect and ForeshockSwitchPortSuspect are not "
              "among the shipped rules in packaging/prometheus/")

        prom.wait_for_query('count(up{job="foreshock"} == 1) == 2', timeout=30,
                            what="both agents scraped through their relays")
        # Both hosts know which switch port they are plugged into, and probe their gateway.
        for h, port in (("host1", "p1"), ("host2", "p2")):
            wait_query_or_show(prom, f'foreshock_lldp_neighbor_info{{instance="{h}", interface="eth0", '
                               f'system_name="{SWITCH}", port_id="{port}"}}',
                               "foreshock_lldp_neighbor_info", 30, f"{h} to learn its switch port from LLDP")
            # Both gateways (IPv4 and IPv6) answer every probe before any fault.
            wait_query_or_show(prom, f'count(foreshock_probe_loss_ratio{{instance="{h}", name="default-gateway", '
                               f'window="5m", interface="eth0"}} == 0) == 2',
                               f'foreshock_probe_loss_ratio{{instance="{h}"}}', 30, f"{h}'s clean gateway probes")
            check(not prom.query(f'foreshock_probe_loss_ratio{{instance="{h}"}} > 0'),
                  f"{h} sees loss before any fault: {prom.query('foreshock_probe_loss_ratio > 0')}")
        chassis = prom.query(f'foreshock_lldp_neighbor_info{{instance="host1"}}')[0]["metric"]["chassis_id"]
        check(chassis, "lldpd announced an empty chassis id")

        # ---- 1. one bad port: only host1's port drops packets ----
        topo.sw.exec(["nft", "-f", "-"], input=f"""
table netdev fssn_port {{
  chain ingress {{
    type filter hook ingress device "p1" priority 0; policy accept;
    meta protocol {{ ip, ip6 }} numgen random mod 100 < {LOSS_PCT} drop
  }}
}}
""")
        port_alert = hook.wait_for_alert("ForeshockSwitchPortSuspect", "firing",
                                         {"instance": "host1"}, timeout=90)
        labels, ann = port_alert["labels"], port_alert["annotations"]
        print("port phase:", labels, ann)
        check(labels.get("system_name") == SWITCH and labels.get("port_id") == "p1"
              and labels.get("interface") == "eth0" and labels.get("chassis_id") == chassis,
              f"the port alert must name host1's switch port p1 of {SWITCH}: {labels}")
        check(labels.get("severity") == "warning", f"port alert severity: {labels}")
        check(ann.get("summary") == f"port p1 of switch {SWITCH} (used by host1) is the suspect",
              f"summary: {ann.get('summary')!r}")
        check(ann.get("description", "").startswith(f"Only host1 sees loss on eth0 among the hosts on {SWITCH}")
              and "switch port p1, not the whole switch" in ann["description"],
              f"description: {ann.get('description')!r}")
        # host1's loss is really measured (about 20 %), host2 is clean.
        loss1 = max(float(r["value"][1]) for r in prom.query(
            'foreshock:probe_loss_ratio:max5m{instance="host1", name="default-gateway"}'))
        check(0.05 < loss1 < 0.40, f"host1's 5-minute loss ratio {loss1} should be near {LOSS_PCT} %")
        check(not prom.query('foreshock:host_loss_clean_nic:max5m{instance="host2"}'),
              "host2 must not count as a host with loss")
        # The switch is not blamed: one host with loss on it, no switch alert in any state.
        count = prom.query(f'foreshock:switch_hosts_with_loss:count{{system_name="{SWITCH}"}}')
        check(count and count[0]["value"][1] == "1", f"hosts with loss on the switch: {count}")
        check(not alert_names(prom, "ForeshockSwitchSuspect"),
              f"switch alert during a single-port fault: {alert_names(prom, 'ForeshockSwitchSuspect')}")
        check(not hook.matching("ForeshockSwitchSuspect"), "switch alert notified for a single-port fault")
        check(not hook.matching("ForeshockSwitchPortSuspect", labels={"instance": "host2"}),
              "host2's port blamed although host2 sees no loss")

        # ---- 2. the switch itself drops packets on every port ----
        topo.sw.exec(["nft", "delete", "table", "netdev", "fssn_port"])
        topo.sw.exec(["nft", "-f", "-"], input=f"""
table bridge fssn_switch {{
  chain prerouting {{
    type filter hook prerouting priority 0; policy accept;
    meta protocol {{ ip, ip6 }} numgen random mod 100 < {LOSS_PCT} drop
  }}
}}
""")
        sw_alert = hook.wait_for_alert("ForeshockSwitchSuspect", "firing", {"system_name": SWITCH},
                                       timeout=90)
        labels, ann = sw_alert["labels"], sw_alert["annotations"]
        print("switch phase:", labels, ann)
        check(labels.get("chassis_id") == chassis, f"switch alert chassis id: {labels}")
        check(labels.get("severity") == "critical", f"switch alert severity: {labels}")
        check("instance" not in labels and "port_id" not in labels,
              f"the switch alert is about the switch, not a host or port: {labels}")
        check(ann.get("summary") == f"switch {SWITCH} is the suspect", f"summary: {ann.get('summary')!r}")
        check(ann.get("description", "").startswith(f"2 hosts plugged into switch {SWITCH} ({chassis}) see packet loss"),
              f"description: {ann.get('description')!r}")
        loss2 = max(float(r["value"][1]) for r in prom.query(
            'foreshock:probe_loss_ratio:max5m{instance="host2", name="default-gateway"}'))
        check(loss2 > 0.01, f"host2 must see the switch's loss too: {loss2}")
        # Now that the switch is the suspect, host1's port is no longer blamed.
        hook.wait_for_alert("ForeshockSwitchPortSuspect", "resolved", {"instance": "host1"}, timeout=60)
        poll(lambda: not alert_names(prom, "ForeshockSwitchPortSuspect"), 30,
             "Prometheus to drop the port alert")
    print("ok")


if __name__ == "__main__":
    main()
