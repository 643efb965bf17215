"""A real LLDP speaker: lldpd in the switch namespace (private control socket, tx-interval 1)
sends on the bridge port; the agent in the host namespace decodes it live. The neighbour's
system name and port id appear in foreshock_lldp_neighbor_info, the advertised management
address becomes a probe target, and after lldpd dies (SIGKILL: no shutdown frame) the
neighbour ages out after its TTL (tx-interval 1 x tx-hold 4 = 4 s)."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fslib  # noqa: E402
from probe_net import GW4, LLDP_EVERY_SECOND, NsAgent, Topology, scrape, series, val, wait_metric, write_config  # noqa: E402

CONFIG = fslib.probe_config(off=("self",), collectors=[LLDP_EVERY_SECOND], implicit_targets=True,
                            probe=[("gateways", "false"), ("probe_interval", "200ms")])


def main():
    lldpd = fslib.require_tool("lldpd")
    lldpcli = fslib.require_tool("lldpcli")
    fslib.require_tool("promtool")
    with Topology("ll") as topo:
        h1 = topo.hosts[0]
        h1.exec(["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"])
        sock = f"/tmp/{topo.prefix}-lldpd.sock"
        pid = f"/tmp/{topo.prefix}-lldpd.pid"
        empty = write_config(topo, "")
        topo.files += [sock, pid]
        # -d foreground, -u private control socket, -p private pid file, -O our (empty)
        # startup config instead of /etc/lldpd.d, -I only the bridge port, -m the management
        # address to advertise.
        speaker = topo.spawn(topo.sw, [lldpd, "-d", "-u", sock, "-p", pid, "-O", empty, "-I", "p1",
                                       "-m", GW4], stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
        fslib.wait_for(lambda: os.path.exists(sock), timeout=10, what="lldpd's control socket")
        topo.sw.exec([lldpcli, "-u", sock, "configure", "system", "hostname", "sw1.fspr"])
        topo.sw.exec([lldpcli, "-u", sock, "configure", "lldp", "portidsubtype", "ifname"])
        topo.sw.exec([lldpcli, "-u", sock, "configure", "lldp", "tx-interval", "1"])

        with NsAgent(h1, write_config(topo, CONFIG)) as agent:
            m = wait_metric(agent, lambda m: series(m, "foreshock_lldp_neighbor_info", system_name="sw1.fspr"),
                            15, "lldpd's neighbour to be decoded")
            info = series(m, "foreshock_lldp_neighbor_info", system_name="sw1.fspr")
            fslib.check(len(info) == 1, f"one neighbour expected: {info}")
            labels = info[0][0]
            print("neighbour:", labels)
            fslib.check(labels["interface"] == "eth0", f"heard on eth0: {labels}")
            fslib.check(labels["port_id"] == "p1", f"port id should be the switch port p1: {labels}")
            fslib.check(labels["port_description"] == "p1", f"port description: {labels}")
            fslib.check(labels["mgmt_address"] == GW4, f"management address: {labels}")
            details = series(m, "foreshock_lldp_neighbor_details_info", interface="eth0")
            fslib.check(details and details[0][0]["protocol"] == "lldp", f"details: {details}")
            ttl = val(m, "foreshock_lldp_neighbor_ttl_remaining_seconds", interface="eth0")
            fslib.check(ttl is not None and 0 < ttl <= 4, f"TTL remaining should be <= 4 s: {ttl}")
            fslib.check(val(m, "foreshock_lldp_listener_up", interface="eth0") == 1, "listener up on eth0")
            fslib.check(val(m, "foreshock_lldp_neighbor_changes_total", interface="eth0") == 1,
                        "one change: the neighbour appeared")
            # The switch's management address is probed (the lldp -> probe join).
            m = wait_metric(agent, lambda m: (val(m, "foreshock_probe_received_total", name="lldp-management") or 0) >= 3,
                            10, "the LLDP management address to be probed")
            up = series(m, "foreshock_probe_up", name="lldp-management", target=GW4)
            fslib.check(up and up[0][1] == 1 and up[0][0]["interface"] == "eth0", f"mgmt probe: {up}")
            fslib.promtool_check(agent.metrics())

            # lldpd dies without a shutdown frame: the neighbour must stay until its TTL runs out.
            # lldpd is two processes (privileged monitor + worker); a dying monitor makes the
            # worker send a shutdown frame, so kill both at once (all are ours: the namespace
            # holds nothing else).
            pids = fslib.run(["ip", "netns", "pids", topo.sw.name]).stdout.split()
            fslib.check(str(speaker.pid) in pids, f"lldpd {speaker.pid} not among {pids}")
            for p in pids:
                os.kill(int(p), signal.SIGKILL)
            speaker.wait()
            killed = time.monotonic()
            time.sleep(1.5)
            m = scrape(agent)
            fslib.check(series(m, "foreshock_lldp_neighbor_info", system_name="sw1.fspr"),
                        "the neighbour must not vanish before its TTL")
            m = wait_metric(agent, lambda m: not series(m, "foreshock_lldp_neighbor_info", system_name="sw1.fspr"),
                            10, "the neighbour to age out")
            gone_after = time.monotonic() - killed
            print(f"aged out {gone_after:.1f} s after lldpd died")
            fslib.check(gone_after <= 4 + 2.5, f"aged out too late: {gone_after:.1f} s")
            fslib.check(val(m, "foreshock_lldp_neighbor_changes_total", interface="eth0") == 2,
                        "two changes: appeared, aged out")
            fslib.check(val(m, "foreshock_lldp_neighbors", interface="eth0") == 0, "no neighbour left")
            m = wait_metric(agent, lambda m: not series(m, "foreshock_probe_up", name="lldp-management"),
                            5, "the management-address target to be dropped with its neighbour")

            # CDP as a fallback source: lldpd -ccc sends CDP frames (its startup config this
            # time names the host, so no neighbour is ever seen under the real hostname).
            for stale in (sock, pid):  # left behind by the killed lldpd
                if os.path.exists(stale):
                    os.unlink(stale)
            startup = write_config(topo, "configure system hostname sw1.fspr\n"
                                         "configure lldp tx-interval 1\n")
            speaker = topo.spawn(topo.sw, [lldpd, "-d", "-ccc", "-u", sock, "-p", pid, "-O", startup,
                                           "-I", "p1", "-m", GW4],
                                 stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))
            m = wait_metric(agent, lambda m: series(m, "foreshock_lldp_neighbor_details_info", protocol="cdp"),
                            15, "a CDP neighbour from lldpd -ccc")
            cdp = series(m, "foreshock_lldp_neighbor_details_info", protocol="cdp")
            fslib.check(len(cdp) == 1, f"one CDP neighbour: {cdp}")
            info = series(m, "foreshock_lldp_neighbor_info", chassis_id=cdp[0][0]["chassis_id"],
                          port_id=cdp[0][0]["port_id"])
            print("cdp neighbour:", info)
            fslib.check(info[0][0]["system_name"] == "sw1.fspr" and info[0][0]["port_id"] == "p1"
                        and info[0][0]["mgmt_address"] == GW4, f"CDP neighbour fields: {info}")
            fslib.check((val(m, "foreshock_lldp_frames_received_total", interface="eth0", protocol="cdp") or 0) > 0,
                        "CDP frames counted")
            fslib.check(val(m, "foreshock_lldp_frames_invalid_total", interface="eth0") == 0,
                        "no frame from lldpd may fail to decode")
            fslib.promtool_check(agent.metrics())
    print("ok")


if __name__ == "__main__":
    main()
