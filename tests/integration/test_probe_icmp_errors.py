"""ICMP errors answering probes, on real kernel traffic in namespaces.

The switch namespace is the hosts' gateway. nftables there rejects echo requests to three
addresses beyond it, each with its own ICMP error (the kernel builds and sends them):
  10.77.0.5   -> ICMP host unreachable
  10.78.0.5   -> ICMP administratively prohibited
  fd00:77::5  -> ICMPv6 address unreachable
and drops those to 10.79.0.5 silently. Host 1 probes through ping sockets, host 2 through a raw
socket (its ping_group_range left closed). On both, each rejected target is down with the
error's reason (not "timeout"), counts foreshock_probe_icmp_errors_total{reason} about once per
probe, and every probe is lost; the silently dropped target is down with reason "timeout" and
no ICMP error; the gateway itself stays up with no error. The ICMP rate limits are lifted in
the switch namespace only (net.ipv4.icmp_ratelimit, net.ipv6.icmp.ratelimit), the host's
settings untouched.
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fslib  # noqa: E402
from probe_net import GW4, NsAgent, Topology, scrape, series, val, write_config  # noqa: E402

TARGETS = {  # name: (address, expected reason)
    "unreach": ("10.77.0.5", "host_unreachable"),
    "prohib": ("10.78.0.5", "admin_prohibited"),
    "unreach6": ("fd00:77::5", "host_unreachable"),
}
SILENT = ("silent", "10.79.0.5")

CONFIG = fslib.probe_config(
    [f'{{name: {n}, address: "{a}", kind: icmp, interval: 500ms}}'
     for n, a in [("gw", GW4), SILENT] + [(n, a) for n, (a, _) in TARGETS.items()]],
    off=("self", "lldp", "smart"))

RULES = """
table inet fspr_reject {
  chain pre {
    type filter hook prerouting priority 0; policy accept;
    ip daddr 10.77.0.5 icmp type echo-request reject with icmp type host-unreachable
    ip daddr 10.78.0.5 icmp type echo-request reject with icmp type admin-prohibited
    ip6 daddr fd00:77::5 icmpv6 type echo-request reject with icmpv6 type addr-unreachable
    ip daddr 10.79.0.5 drop
  }
}
"""


def check_host(agent, path):
    m = scrape(agent)
    fslib.promtool_check(agent.metrics())
    for name, (addr, reason) in TARGETS.items():
        up = series(m, "foreshock_probe_up", name=name)
        fslib.check(len(up) == 1 and up[0][1] == 0 and up[0][0].get("reason") == reason,
                    f"{path}: {name} ({addr}) should be down with reason {reason}: {up}")
        errs = val(m, "foreshock_probe_icmp_errors_total", name=name, reason=reason)
        sent = val(m, "foreshock_probe_sent_total", name=name)
        recv = val(m, "foreshock_probe_received_total", name=name)
        fslib.check(errs is not None and sent and errs >= 0.8 * sent - 2,
                    f"{path}: {name}: {errs} ICMP errors for {sent} probes")
        fslib.check(recv == 0, f"{path}: {name}: {recv} replies from a rejected target")
        loss = val(m, "foreshock_probe_loss_ratio", name=name, window="1m")
        fslib.check(loss == 1, f"{path}: {name}: loss ratio {loss}, want 1")
        print(f"{path}: {name} {addr}: down ({reason}), {errs:.0f} errors for {sent:.0f} probes")
    up = series(m, "foreshock_probe_up", name=SILENT[0])
    fslib.check(len(up) == 1 and up[0][1] == 0 and up[0][0].get("reason") == "timeout",
                f"{path}: the silently dropped target should be down with reason timeout: {up}")
    fslib.check(not series(m, "foreshock_probe_icmp_errors_total", name=SILENT[0]),
                f"{path}: ICMP errors counted for a silently dropped target")
    fslib.check(val(m, "foreshock_probe_up", name="gw") == 1, f"{path}: the gateway should be up")
    fslib.check(not series(m, "foreshock_probe_icmp_errors_total", name="gw"),
                f"{path}: ICMP errors counted for the gateway")


def main():
    fslib.require_tool("promtool")
    with Topology("ie", hosts=2) as topo:
        h_ping, h_raw = topo.hosts
        topo.sw.exec(["sysctl", "-qw", "net.ipv4.icmp_ratelimit=0"])
        topo.sw.exec(["sysctl", "-qw", "net.ipv6.icmp.ratelimit=0"])
        topo.sw.exec(["nft", "-f", "-"], input=RULES)
        h_ping.exec(["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"])
        cfg = write_config(topo, CONFIG)
        ping = NsAgent(h_ping, cfg)
        raw = NsAgent(h_raw, cfg)
        try:
            time.sleep(8)
            fslib.check("ping socket" in ping.output(), f"host 1 should use ping sockets:\n{ping.output()}")
            fslib.check("raw socket" in raw.output(), f"host 2 should use a raw socket:\n{raw.output()}")
            check_host(ping, "ping socket")
            check_host(raw, "raw socket")

            # `foreshock check` on the agent's scrape names the error, not just "unreachable".
            saved = write_config(topo, ping.metrics())
            state = tempfile.mkdtemp(prefix="fspr-state-")
            check_cfg = write_config(topo, f"state:\n  directory: {state}\n")
            p = fslib.run([fslib.BIN, "--config", check_cfg, "check", "--color", "never",
                           "--from-metrics", saved], check_rc=False)
            shutil.rmtree(state, ignore_errors=True)
            fslib.check(p.returncode == 2, f"check on rejected targets: exit {p.returncode}\n{p.stdout}{p.stderr}")
            for name, (addr, reason) in TARGETS.items():
                line = [l for l in p.stdout.splitlines() if f"{name} ({addr}): " in l]
                fslib.check(line and f"icmp: {reason}" in line[0],
                            f"check should say why {name} is unreachable ({reason}):\n{p.stdout}")

            # Lift the reject: the same targets now time out instead (nothing routes beyond the
            # switch), and the error counters stop growing.
            topo.sw.exec(["nft", "delete", "table", "inet", "fspr_reject"])
            before = val(scrape(ping), "foreshock_probe_icmp_errors_total", name="prohib",
                         reason="admin_prohibited")
            time.sleep(4)
            m = scrape(ping)
            after = val(m, "foreshock_probe_icmp_errors_total", name="prohib", reason="admin_prohibited")
            reason = series(m, "foreshock_probe_up", name="prohib")[0][0].get("reason")
            print(f"after the reject was lifted: prohib reason {reason}, errors {before} -> {after}")
            fslib.check(after is not None and after - before <= 2,
                        f"ICMP errors kept growing after the reject was removed: {before} -> {after}")
        finally:
            ping.stop()
            raw.stop()
    print("ok")


if __name__ == "__main__":
    main()
