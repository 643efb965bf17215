"""netdev on real kernel counters: an MTU mismatch on a veth pair makes the receiver drop and
the sender count transmit drops; traffic moves the byte counters; promtool accepts the output.

Runs `foreshock collect` inside each namespace (the collector's own-namespace path).
Measured on this kernel (6.x veth): a frame larger than the receiver's MTU is dropped in
__dev_forward_skb, which counts rx_dropped on the receiving veth, and veth_xmit then counts
tx_dropped on the sending one; the rx length/over error counters stay at 0.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import BIN, Netns, check, fail, parse_metrics, promtool_check, require_root, require_tool, run, value  # noqa: E402

CONFIG = """
collectors:
  self:
    enabled: false
  netdev:
    include: "fsnd-.*"
    optics: false
    driver_stats_include: "peer_ifindex|rx_queue_0_xdp_packets"
"""


def collect(ns, cfg):
    p = ns.exec([BIN, "--config", cfg, "collect"])
    return p.stdout


def main():
    require_root()
    require_tool("ping")
    require_tool("promtool")
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write(CONFIG)
        cfg = f.name
    cfg_ioctl = cfg + ".ioctl.yml"
    a = Netns("fsnd-c1")
    b = Netns("fsnd-c2")
    try:
        run(["ip", "link", "add", "fsnd-c1a", "netns", a.name, "type", "veth", "peer", "name",
             "fsnd-c2b", "netns", b.name])
        a.exec(["ip", "addr", "add", "10.203.1.1/24", "dev", "fsnd-c1a"])
        b.exec(["ip", "addr", "add", "10.203.1.2/24", "dev", "fsnd-c2b"])
        a.exec(["ip", "link", "set", "fsnd-c1a", "up"])
        b.exec(["ip", "link", "set", "fsnd-c2b", "up"])
        a.exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.203.1.2"])

        text_a = collect(a, cfg)
        promtool_check(text_a)
        m = parse_metrics(text_a)
        check(value(m, "foreshock_network_up", interface="lo") is None,
              "lo must not be selected by default")
        check(value(m, "foreshock_network_info", interface="fsnd-c1a", kind="veth") == 1,
              "fsnd-c1a must be reported as a veth (selected by include)")
        check(value(m, "foreshock_network_mtu_bytes", interface="fsnd-c1a") == 1500, "MTU 1500")
        check(value(m, "foreshock_network_carrier", interface="fsnd-c1a") == 1, "carrier up")
        check(value(m, "foreshock_network_operstate", interface="fsnd-c1a") == 6, "operstate up")
        check(value(m, "foreshock_network_speed_bytes_per_second", interface="fsnd-c1a") == 10e9 / 8,
              "veth reports 10000 Mb/s through ethtool netlink link modes")
        check(value(m, "foreshock_network_transmit_packets_total", interface="fsnd-c1a") >= 3,
              "the pings must show in transmit packets")
        check(value(m, "foreshock_network_info", interface="fsnd-c1a", driver="veth") == 1,
              "driver name from ETHTOOL_GDRVINFO")
        peer_index = int(b.exec(["cat", "/sys/class/net/fsnd-c2b/ifindex"]).stdout)
        check(value(m, "foreshock_network_driver_stat", interface="fsnd-c1a", stat="peer_ifindex") == peer_index,
              "opt-in driver stat peer_ifindex (ethtool -S) must name the peer's ifindex")
        check(value(m, "foreshock_network_driver_stat", interface="fsnd-c1a", stat="rx_queue_0_xdp_packets") == 0,
              "second opt-in driver stat present")
        check(len([k for k in m if k[0] == "foreshock_network_driver_stat"]) == 2,
              "only the driver stats matching driver_stats_include are exported")
        # The ioctl fallback for kernels without ethtool netlink gives the same link details.
        with open(cfg_ioctl, "w") as f:
            f.write(CONFIG + "    ethtool_netlink: false\n")
        mi = parse_metrics(collect(a, cfg_ioctl))
        check(value(mi, "foreshock_network_speed_bytes_per_second", interface="fsnd-c1a") == 10e9 / 8,
              "ETHTOOL_GSET fallback must report the same speed")
        check(value(mi, "foreshock_network_full_duplex", interface="fsnd-c1a") == 1, "full duplex via ioctl")
        tx_drop0 = value(m, "foreshock_network_transmit_dropped_total", interface="fsnd-c1a")
        mb = parse_metrics(collect(b, cfg))
        rx_drop0 = value(mb, "foreshock_network_receive_dropped_total", interface="fsnd-c2b")
        host0 = value(mb, "foreshock_network_errors_total", interface="fsnd-c2b", **{"class": "host"},
                      direction="receive")
        rx_bytes0 = value(mb, "foreshock_network_receive_bytes_total", interface="fsnd-c2b")
        check(None not in (tx_drop0, rx_drop0, host0, rx_bytes0), "baseline series missing")

        # The receiver's MTU shrinks below what the sender puts on the wire.
        b.exec(["ip", "link", "set", "fsnd-c2b", "mtu", "1000"])
        a.exec(["ping", "-c", "5", "-i", "0.2", "-W", "1", "-s", "1400", "10.203.1.2"], check_rc=False)

        m = parse_metrics(collect(a, cfg))
        mb_text = collect(b, cfg)
        promtool_check(mb_text)
        mb = parse_metrics(mb_text)
        tx_drop1 = value(m, "foreshock_network_transmit_dropped_total", interface="fsnd-c1a")
        rx_drop1 = value(mb, "foreshock_network_receive_dropped_total", interface="fsnd-c2b")
        host1 = value(mb, "foreshock_network_errors_total", interface="fsnd-c2b", **{"class": "host"},
                      direction="receive")
        print(f"MTU mismatch: receiver rx_dropped {rx_drop0} -> {rx_drop1}, "
              f"sender tx_dropped {tx_drop0} -> {tx_drop1}")
        check(rx_drop1 - rx_drop0 >= 5, f"receiver rx_dropped must rise by >= 5, got {rx_drop0} -> {rx_drop1}")
        check(tx_drop1 - tx_drop0 >= 5, f"sender tx_dropped must rise by >= 5, got {tx_drop0} -> {tx_drop1}")
        check(host1 - host0 >= 5, "the host error class must include the drops")
        check(value(mb, "foreshock_network_receive_length_errors_total", interface="fsnd-c2b") == 0,
              "this kernel counts the oversize frame as dropped, not as a length error")
        check(value(mb, "foreshock_network_mtu_bytes", interface="fsnd-c2b") == 1000, "new MTU seen")
        check(value(mb, "foreshock_network_errors_total", interface="fsnd-c2b",
                    **{"class": "physical"}, direction="receive") == 0,
              "a software drop is not a physical error")
        check(value(mb, "foreshock_network_receive_bytes_total", interface="fsnd-c2b") >= rx_bytes0,
              "byte counters never go backwards")
    finally:
        a.close()
        b.close()
        os.unlink(cfg)
        if os.path.exists(cfg_ioctl):
            os.unlink(cfg_ioctl)
    print("ok")


if __name__ == "__main__":
    main()
