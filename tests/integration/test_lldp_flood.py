"""A neighbour table under attack stays bounded: from the switch side of the host's link, a
flood of LLDP frames with tens of thousands of made-up chassis ids (each advertising its own
management address) for a bounded time. The agent keeps at most max_neighbors_per_interface
neighbours (16 by default), counts the rest in foreshock_lldp_neighbors_dropped_total, logs
the full table once (rate-limited), probes at most max_lldp_targets (8) advertised addresses,
keeps the real switch heard before the flood and the gateway probes, and its RSS and scrape
size stay flat. (Before the bounds the same flood grew the agent to 1.7 GB RSS, 263k series
and 3,066 probe targets.)"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fslib  # noqa: E402
from probe_net import GW4, LLDP_EVERY_SECOND, NsAgent, Topology, scrape, series, val, wait_metric, write_config  # noqa: E402

FLOOD_SECONDS = 8
MAX_FRAMES = 400_000
CONFIG = fslib.probe_config(off=("self",), collectors=[LLDP_EVERY_SECOND], implicit_targets=True,
                            probe=[("probe_interval", "500ms")])


def tlv(t, value):
    return struct.pack("!H", (t << 9) | len(value)) + value


def lldp_frame(chassis, system_name, mgmt4, ttl=120):
    body = (tlv(1, b"\x07" + chassis.encode())            # chassis id, locally assigned
            + tlv(2, b"\x07" + b"p1")                       # port id
            + tlv(3, struct.pack("!H", ttl))
            + tlv(5, system_name.encode())
            # management address: length 5 (subtype + 4 bytes), IPv4, ifIndex 1, no OID
            + tlv(8, b"\x05\x01" + socket.inet_aton(mgmt4) + b"\x02" + struct.pack("!I", 1) + b"\x00")
            + tlv(0, b""))
    return b"\x01\x80\xc2\x00\x00\x0e" + b"\x02\x00\x00\x66\x00\x01" + b"\x88\xcc" + body


def flood(topo, port, seconds, real):
    """Runs in the switch namespace (a child process: setns is per thread and we must not
    move the test itself); prints the number of frames sent."""
    script = f"""
import socket, struct, sys, time
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
from test_lldp_flood import lldp_frame
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(({port!r}, 0))
real = lldp_frame("sw-real", "sw1.flood", {GW4!r})
deadline = time.monotonic() + {seconds}
sent = 0
next_real = 0
while time.monotonic() < deadline and sent < {MAX_FRAMES}:
    if time.monotonic() >= next_real:
        s.send(real)
        next_real = time.monotonic() + 1
    for _ in range(200):
        i = sent
        try:
            s.send(lldp_frame("flood-%d" % i, "flood-%d" % i,
                              "10.77.%d.%d" % ((i // 250) % 250, i % 250 + 1)))
        except OSError:
            time.sleep(0.001)
        sent += 1
print(sent)
"""
    return topo.sw.exec([sys.executable, "-c", script], timeout=seconds + 30).stdout.strip()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    fslib.fail(f"no VmRSS for {pid}")


def main():
    fslib.require_tool("promtool")
    with Topology("lf") as topo:
        h1 = topo.hosts[0]
        h1.exec(["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"])
        with NsAgent(h1, write_config(topo, CONFIG)) as agent:
            wait_metric(agent, lambda m: val(m, "foreshock_lldp_listener_up", interface="eth0") == 1,
                        15, "the LLDP listener on eth0")
            wait_metric(agent, lambda m: series(m, "foreshock_probe_up", name="default-gateway"),
                        15, "the gateway probes")
            # The real switch is heard before the flood.
            topo.sw.exec([sys.executable, "-c",
                          "import socket,sys; sys.path.insert(0, %r); from test_lldp_flood import lldp_frame;"
                          "s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('p1',0));"
                          "s.send(lldp_frame('sw-real','sw1.flood',%r))"
                          % (os.path.dirname(os.path.abspath(__file__)), GW4)])
            wait_metric(agent, lambda m: series(m, "foreshock_lldp_neighbor_info", system_name="sw1.flood"),
                        10, "the real switch")
            time.sleep(2)  # let RSS settle after start-up
            rss_before = rss_kb(agent.proc.pid)
            before_text = agent.metrics()

            start = time.monotonic()
            sent = int(flood(topo, "p1", FLOOD_SECONDS, GW4))
            took = time.monotonic() - start
            print(f"flood: {sent} frames with distinct chassis ids in {took:.1f} s ({sent / took:.0f}/s)")
            fslib.check(sent >= 10_000, f"the flood must be a flood: only {sent} frames sent")

            time.sleep(2)  # two lldp and probe cycles after the flood
            text = agent.metrics()
            m = fslib.parse_metrics(text)
            rss_after = rss_kb(agent.proc.pid)
            print(f"RSS {rss_before} kB before, {rss_after} kB after; scrape {len(before_text)} bytes "
                  f"before, {len(text)} after; {len(m)} series")

            neighbours = val(m, "foreshock_lldp_neighbors", interface="eth0")
            fslib.check(neighbours == 16, f"neighbours on eth0 bounded at the per-interface default 16: {neighbours}")
            fslib.check(series(m, "foreshock_lldp_neighbor_info", system_name="sw1.flood"),
                        "the switch heard before the flood keeps its place")
            dropped = val(m, "foreshock_lldp_neighbors_dropped_total", interface="eth0", reason="interface_limit")
            fslib.check(dropped is not None and dropped >= 1000,
                        f"dropped neighbours counted (sent {sent}): {dropped}")
            fslib.check(val(m, "foreshock_lldp_neighbors_dropped_total", interface="eth0", reason="table_limit") == 0,
                        "one interface cannot reach the table limit")
            fslib.check(len(m) < 1000, f"series bounded: {len(m)}")
            fslib.check(len(text) < 400_000, f"scrape size bounded: {len(text)} bytes")

            lldp_targets = {ls["target"] for ls, _ in series(m, "foreshock_probe_up", name="lldp-management")}
            fslib.check(1 <= len(lldp_targets) <= 8, f"LLDP-derived probe targets capped at 8: {sorted(lldp_targets)}")
            over = val(m, "foreshock_probe_lldp_addresses_over_limit")
            fslib.check(over is not None and over >= 16 - 8, f"addresses over the limit counted: {over}")
            fslib.check(series(m, "foreshock_probe_up", name="default-gateway", target=GW4),
                        "the gateway probes are still there")
            print(f"dropped (interface_limit): {dropped:.0f}; LLDP probe targets: {len(lldp_targets)}; "
                  f"addresses over the limit: {over:.0f}")
            fslib.check(rss_after - rss_before < 16 * 1024,
                        f"RSS must stay flat: {rss_before} -> {rss_after} kB")

            # The counter keeps rising while the flood goes on, and the table stays full.
            flood(topo, "p1", 2, GW4)
            time.sleep(1.5)
            m2 = scrape(agent)
            dropped2 = val(m2, "foreshock_lldp_neighbors_dropped_total", interface="eth0", reason="interface_limit")
            fslib.check(dropped2 > dropped, f"the drop counter rises with the flood: {dropped} -> {dropped2}")
            fslib.check(val(m2, "foreshock_lldp_neighbors", interface="eth0") == 16, "still 16 neighbours")

            log = agent.output()
            full = log.count("neighbour table full")
            fslib.check(full == 1, f"the full table is logged once (rate-limited), got {full} lines:\n{log[-3000:]}")
            told = log.count("neighbour on eth0")
            fslib.check(told <= 10, f"new-neighbour log lines rate-limited: {told}")
            fslib.promtool_check(text)
    print("ok")


if __name__ == "__main__":
    main()
