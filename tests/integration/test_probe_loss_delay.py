"""Loss, delay and a pulled cable, all on real kernel traffic in namespaces:
- nftables `numgen random mod 100 < 30 drop` on the switch port of host 1 -> the loss ratio
  the agent reports is within a few points of 30 %;
- host 2 hangs off the switch through the TAP wire helper with 40 ms each way -> its RTT
  histogram sits between 80 and 100 ms;
- `ip link set down` on host 1's switch port -> the target goes down; back up -> recovered."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fslib  # noqa: E402
from probe_net import GW4, NsAgent, Topology, scrape, series, val, wait_metric, write_config  # noqa: E402

LOSS_PCT = 30
DELAY_MS = 40


def config(interval, timeout):
    return fslib.probe_config(
        [f'{{name: gw, address: "{GW4}", kind: icmp, interval: {interval}, timeout: {timeout}}}'])


def main():
    fslib.require_tool("promtool")
    with Topology("ld") as topo:
        h1 = topo.hosts[0]
        h2 = topo.add_delayed_host(2, DELAY_MS)
        h1.exec(["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"])
        h2.exec(["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"])
        topo.sw.exec(["nft", "-f", "-"], input=f"""
table netdev fspr_loss {{
  chain ingress {{
    type filter hook ingress device "p1" priority 0; policy accept;
    meta protocol ip numgen random mod 100 < {LOSS_PCT} drop
  }}
}}
""")
        lossy = NsAgent(h1, write_config(topo, config("20ms", "500ms")))
        slow = NsAgent(h2, write_config(topo, config("100ms", "1s")))
        try:
            time.sleep(25)
            m1 = scrape(lossy)
            m2 = scrape(slow)

            sent = val(m1, "foreshock_probe_sent_total", name="gw")
            recv = val(m1, "foreshock_probe_received_total", name="gw")
            loss = val(m1, "foreshock_probe_loss_ratio", name="gw", window="1m")
            loss5 = val(m1, "foreshock_probe_loss_ratio", name="gw", window="5m")
            print(f"loss: sent {sent} received {recv} loss_ratio 1m {loss} 5m {loss5}")
            fslib.check(sent is not None and sent > 800, f"expected ~1,200 probes at 20 ms, got {sent}")
            fslib.check(loss is not None and abs(loss - LOSS_PCT / 100) <= 0.05,
                        f"1m loss ratio {loss} should be within 5 points of {LOSS_PCT} %")
            fslib.check(loss5 is not None and abs(loss5 - loss) < 0.02, f"5m loss ratio {loss5}")
            fslib.check(abs((1 - recv / sent) - LOSS_PCT / 100) <= 0.05,
                        f"counters: {recv}/{sent} received")

            count = val(m2, "foreshock_probe_rtt_seconds_count", name="gw")
            total = val(m2, "foreshock_probe_rtt_seconds_sum", name="gw")
            buckets = {float(ls["le"]): v for ls, v in series(m2, "foreshock_probe_rtt_seconds_bucket", name="gw")}
            mean = total / count
            print(f"delay: {count} replies, mean RTT {mean * 1000:.1f} ms, buckets {buckets}")
            fslib.check(count > 150, f"expected ~240 replies through the wire, got {count}")
            fslib.check(2 * DELAY_MS / 1000 <= mean < 2 * DELAY_MS / 1000 + 0.02,
                        f"mean RTT {mean} should be just above {2 * DELAY_MS} ms")
            fslib.check(buckets[0.05] == 0 and buckets[0.25] == count,
                        f"every RTT should fall between the 50 ms and 250 ms bounds: {buckets}")
            last = val(m2, "foreshock_probe_last_rtt_seconds", name="gw")
            fslib.check(0.08 <= last < 0.1, f"last RTT {last}")
            fslib.promtool_check(lossy.metrics())

            # Unplug host 1 at the switch (no injected loss from here on).
            topo.sw.exec(["nft", "delete", "table", "netdev", "fspr_loss"])
            wait_metric(lossy, lambda m: val(m, "foreshock_probe_up", name="gw", reason="") == 1, 10,
                        "the target up with the loss removed")
            topo.sw.exec(["ip", "link", "set", "p1", "down"])
            m = wait_metric(lossy, lambda m: val(m, "foreshock_probe_up", name="gw") == 0, 10,
                            "the target down after the port went down")
            print("down:", series(m, "foreshock_probe_up", name="gw"))
            topo.sw.exec(["ip", "link", "set", "p1", "up"])
            wait_metric(lossy, lambda m: val(m, "foreshock_probe_up", name="gw") == 1, 15,
                        "recovery after the port came back")
        finally:
            lossy.stop()
            slow.stop()
    print("ok")


if __name__ == "__main__":
    main()
