"""The ICMP prober's three socket paths, in namespaces with real kernel traffic:
ping socket (net.ipv4.ping_group_range widened in the host namespace only; the agent runs as
nobody without capabilities), raw socket (ping sockets refused, root with CAP_NET_RAW), and
neither (an explicit error naming both remedies). Also: default gateways of both families
discovered from the routing table, the interface label, ARP, NDP and TCP probes; the NDP
probe of the IPv6 gateway stays up while nftables drops its ICMPv6 echo requests."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fslib  # noqa: E402
from probe_net import GW4, GW6, NsAgent, Topology, scrape, series, val, wait_metric, write_config  # noqa: E402

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
          "--bounding-set=-all"]

CONFIG = fslib.probe_config(
    [f'{{name: db, address: "{GW4}", kind: tcp, port: 8080, interval: 300ms, timeout: 2s, labels: {{service: postgres}}}}',
     f'{{name: closed, address: "{GW4}", kind: tcp, port: 9, interval: 300ms}}'],
    implicit_targets=True, probe=[("probe_interval", "200ms"), ("probe_timeout", "1s")])

LISTENER = ("import socket,time\n"
            "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            f"s.bind(('{GW4}', 8080)); s.listen(128)\n"
            "while True:\n  c,_=s.accept(); c.close()\n")


def icmp_gateway(m, family_addr):
    return series(m, "foreshock_probe_received_total", target=family_addr, probe="icmp", name="default-gateway")


def main():
    fslib.require_tool("setpriv")
    fslib.require_tool("ping")
    fslib.require_tool("promtool")
    with open("/proc/sys/net/ipv4/ping_group_range") as f:
        host_range = f.read()
    with Topology("ic") as topo:
        h1 = topo.hosts[0]
        cfg = write_config(topo, CONFIG)
        topo.spawn(topo.sw, ["python3", "-c", LISTENER])

        # 1. Ping sockets, unprivileged.
        h1.exec(["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"])
        with NsAgent(h1, cfg, wrapper=NOBODY) as agent:
            m = wait_metric(agent, lambda m: icmp_gateway(m, GW4) and icmp_gateway(m, GW4)[0][1] >= 3
                            and icmp_gateway(m, GW6) and icmp_gateway(m, GW6)[0][1] >= 3
                            and series(m, "foreshock_probe_tcp_failures_total", errno="ECONNREFUSED")
                            and series(m, "foreshock_probe_received_total", name="db")
                            and series(m, "foreshock_probe_received_total", name="db")[0][1] >= 2,
                            15, "ping-socket probes of both gateways and the TCP targets")
            fslib.check(val(m, "foreshock_probe_socket_info", family="ipv4", mode="ping") == 1,
                        "IPv4 ICMP should use a ping socket")
            fslib.check(val(m, "foreshock_probe_socket_info", family="ipv6", mode="ping") == 1,
                        "IPv6 ICMP should use a ping socket")
            up = series(m, "foreshock_probe_up", target=GW4, probe="icmp", name="default-gateway")
            fslib.check(up and up[0][1] == 1 and up[0][0]["interface"] == "eth0",
                        f"IPv4 gateway should be up via eth0: {up}")
            up6 = series(m, "foreshock_probe_up", target=GW6, probe="icmp")
            fslib.check(up6 and up6[0][1] == 1 and up6[0][0]["interface"] == "eth0", f"IPv6 gateway: {up6}")
            rtt = series(m, "foreshock_probe_rtt_seconds_count", target=GW4, probe="icmp")
            fslib.check(rtt and rtt[0][1] >= 3, f"RTT histogram should have observations: {rtt}")
            last = val(m, "foreshock_probe_last_rtt_seconds", target=GW4, probe="icmp")
            fslib.check(last is not None and 0 < last < 0.05, f"last RTT on a veth should be tiny: {last}")
            arp = series(m, "foreshock_probe_up", target=GW4, probe="arp")
            fslib.check(arp and arp[0][1] == 0 and arp[0][0]["reason"] == "no_cap_net_raw",
                        f"ARP without CAP_NET_RAW must say so: {arp}")
            ndp = series(m, "foreshock_probe_up", target=GW6, probe="ndp")
            fslib.check(ndp and ndp[0][1] == 0 and ndp[0][0]["reason"] == "no_cap_net_raw",
                        f"NDP without CAP_NET_RAW must say so: {ndp}")
            db = series(m, "foreshock_probe_up", name="db")
            fslib.check(db and db[0][1] == 1 and db[0][0]["service"] == "postgres"
                        and db[0][0]["target"] == f"{GW4}:8080", f"TCP target db: {db}")
            conn = series(m, "foreshock_probe_tcp_connect_duration_seconds_count", name="db")
            fslib.check(conn and conn[0][1] >= 2, f"connect histogram: {conn}")
            closed = series(m, "foreshock_probe_up", name="closed")
            fslib.check(closed and closed[0][1] == 0 and closed[0][0]["reason"] == "econnrefused",
                        f"refused TCP target: {closed}")
            fslib.promtool_check(agent.metrics())

        # 2. Raw sockets: ping sockets refused, the agent is root (CAP_NET_RAW). A concurrent
        # iputils ping must not be mistaken for our replies.
        h1.exec(["sysctl", "-qw", "net.ipv4.ping_group_range=1 0"])
        with NsAgent(h1, cfg) as agent:
            pinger = topo.spawn(h1, ["ping", "-q", "-c", "20", "-i", "0.1", GW4])
            m = wait_metric(agent, lambda m: icmp_gateway(m, GW4) and icmp_gateway(m, GW4)[0][1] >= 5
                            and series(m, "foreshock_probe_received_total", target=GW4, probe="arp")
                            and series(m, "foreshock_probe_received_total", target=GW4, probe="arp")[0][1] >= 3,
                            15, "raw-socket ICMP and ARP probes of the gateway")
            pinger.wait(timeout=10)
            time.sleep(1.5)
            m = scrape(agent)
            fslib.check(val(m, "foreshock_probe_socket_info", family="ipv4", mode="raw") == 1,
                        "IPv4 ICMP should fall back to a raw socket")
            fslib.check(val(m, "foreshock_probe_socket_info", family="ipv6", mode="raw") == 1,
                        "IPv6 ICMP should fall back to a raw socket")
            sent = val(m, "foreshock_probe_sent_total", target=GW4, probe="icmp", name="default-gateway")
            recv = val(m, "foreshock_probe_received_total", target=GW4, probe="icmp", name="default-gateway")
            dups = val(m, "foreshock_probe_duplicates_total", target=GW4, probe="icmp", name="default-gateway")
            fslib.check(recv <= sent and recv >= sent - 2 and dups == 0,
                        f"raw socket: foreign ping replies must not count (sent {sent}, received {recv}, dup {dups})")
            up6 = series(m, "foreshock_probe_received_total", target=GW6, probe="icmp")
            fslib.check(up6 and up6[0][1] >= 3, f"IPv6 raw-socket probes: {up6}")
            arp_up = val(m, "foreshock_probe_up", target=GW4, probe="arp")
            fslib.check(arp_up == 1, f"ARP probe of the on-link gateway should be up: {arp_up}")
            ndp = series(m, "foreshock_probe_up", target=GW6, probe="ndp", name="default-gateway")
            fslib.check(ndp and ndp[0][1] == 1 and ndp[0][0]["interface"] == "eth0",
                        f"NDP probe of the on-link IPv6 gateway should be up via eth0: {ndp}")
            text = agent.metrics()
            fslib.promtool_check(text)
            # The health engine treats the discovered gateways as gateways, one verdict per
            # address and one loss verdict per probe kind: no two series alike.
            health = [l for l in text.splitlines() if l.startswith("foreshock_health_status{")
                      and 'component="upstream/default-gateway"' in l]
            fslib.check(len(health) == len(set(l.rsplit(" ", 1)[0] for l in health)),
                        "duplicate health series:\n" + "\n".join(health))
            fslib.check(val(m, "foreshock_health_status", check="gateway_unreachable", target=GW6) == 0
                        and val(m, "foreshock_health_status", check="gateway_loss", target=GW4, probe="arp") == 0,
                        "the discovered gateway should get the gateway checks:\n" + "\n".join(health))

            # ICMPv6 echo to the gateway filtered: the ICMP probe goes down, the NDP probe (the
            # gateway still answers neighbour solicitations) keeps being answered.
            topo.sw.exec(["nft", "-f", "-"], input=f"""
table inet fspr_noecho {{
  chain in {{
    type filter hook input priority 0; policy accept;
    ip6 daddr {GW6} icmpv6 type echo-request drop
  }}
}}
""")
            m = wait_metric(agent, lambda m: val(m, "foreshock_probe_up", target=GW6, probe="icmp") == 0,
                            10, "the ICMP probe of the IPv6 gateway down with echo filtered")
            before = val(m, "foreshock_probe_received_total", target=GW6, probe="ndp")
            time.sleep(1.5)
            m = scrape(agent)
            after = val(m, "foreshock_probe_received_total", target=GW6, probe="ndp")
            fslib.check(val(m, "foreshock_probe_up", target=GW6, probe="ndp") == 1 and after >= before + 3,
                        f"NDP must keep answering with ICMPv6 echo filtered: received {before} -> {after}")
            fslib.check(val(m, "foreshock_health_status", check="gateway_unreachable", target=GW6) == 0,
                        "a gateway that answers neighbour discovery is not unreachable (no page)")
            print(f"echo filtered: icmp down, ndp received {before} -> {after}")
            topo.sw.exec(["nft", "delete", "table", "inet", "fspr_noecho"])

            # The gateway changes: the prober follows the routing table within a second or so.
            topo.sw.exec(["ip", "addr", "add", "10.66.0.254/24", "dev", "br0"])
            h1.exec(["ip", "route", "replace", "default", "via", "10.66.0.254"])
            changed = time.monotonic()
            m = wait_metric(agent, lambda m: (val(m, "foreshock_probe_received_total", target="10.66.0.254",
                                                  probe="icmp", name="default-gateway") or 0) >= 2
                            and not series(m, "foreshock_probe_sent_total", target=GW4, name="default-gateway"),
                            10, "the new default gateway to replace the old one")
            print(f"gateway change followed within {time.monotonic() - changed:.1f} s")
            h1.exec(["ip", "route", "replace", "default", "via", GW4])

        # 3. Neither: ping sockets refused and no CAP_NET_RAW.
        with NsAgent(h1, cfg, wrapper=NOBODY) as agent:
            m = wait_metric(agent, lambda m: series(m, "foreshock_probe_up", probe="icmp", reason="no_icmp_socket"),
                            10, "ICMP targets down for lack of a socket")
            fslib.check(val(m, "foreshock_probe_socket_info", family="ipv4", mode="none") == 1,
                        "socket mode should be none")
            log = agent.output()
            fslib.check("ping_group_range" in log and "CAP_NET_RAW" in log and "gid 65534" in log,
                        f"the error must name both remedies:\n{log}")
            fslib.check(val(m, "foreshock_probe_up", name="db") == 1,
                        "TCP probes keep working without ICMP")
            fslib.check(agent.proc.poll() is None, "the agent must keep running")
    with open("/proc/sys/net/ipv4/ping_group_range") as f:
        fslib.check(f.read() == host_range, "the host's ping_group_range must be untouched")
    print("ok")


if __name__ == "__main__":
    main()
