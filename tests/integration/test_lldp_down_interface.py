"""A down interface is not an LLDP listen target and never fills the log: in a namespace with
an administratively down veth (eth1), one up without carrier (eth2, its peer down) and an up
pair (eth3/eth4), the agent listens only on the up pair and logs no warning over three
interface rescans (10 s apart). Bringing eth1's pair up makes it a listen target at the next
rescan; taking it down again drops it, with an info line, not a warning."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fslib  # noqa: E402
from probe_net import NsAgent, scrape, series, wait_metric  # noqa: E402

CONFIG = """
collectors:
  self: {enabled: false}
  probe: {enabled: false}
  netdev: {enabled: false}
  sensors: {enabled: false}
  smart: {enabled: false}
  lldp:
    interval: 1s
    timeout: 1s
    include: "eth.*"
"""


def listeners(m):
    return {ls["interface"]: v for ls, v in series(m, "foreshock_lldp_listener_up")}


def warnings(agent):
    return [l for l in agent.output().splitlines() if re.search(r"level=(warn|error)", l)]


def main():
    fslib.require_root()
    fslib.require_tool("ip")
    ns_name = f"fsld-{os.getpid() % 100000}"
    cfg = f"/tmp/{ns_name}.yml"
    with fslib.Netns(ns_name) as ns:
        try:
            with open(cfg, "w") as f:
                f.write(CONFIG)
            ns.exec(["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"])  # both down
            ns.exec(["ip", "link", "add", "eth2", "type", "veth", "peer", "name", "eth2p"])
            ns.exec(["ip", "link", "set", "eth2", "up"])  # up, but its peer is down: no carrier
            ns.exec(["ip", "link", "add", "eth3", "type", "veth", "peer", "name", "eth4"])
            ns.exec(["ip", "link", "set", "eth3", "up"])
            ns.exec(["ip", "link", "set", "eth4", "up"])
            with NsAgent(ns, cfg) as agent:
                m = wait_metric(agent, lambda m: listeners(m).get("eth3") == 1, 10, "a listener on eth3")
                started = time.monotonic()
                time.sleep(31)  # three rescans
                m = scrape(agent)
                got = listeners(m)
                print(f"listeners after {time.monotonic() - started:.0f} s: {got}")
                fslib.check(set(got) == {"eth3", "eth4"} and all(v == 1 for v in got.values()),
                            f"only the up pair is listened on: {got}")
                warned = warnings(agent)
                fslib.check(not warned, "no warning or error for down links:\n" + "\n".join(warned))

                # The down link comes up: it becomes a listen target at the next rescan.
                ns.exec(["ip", "link", "set", "eth1p", "up"])
                ns.exec(["ip", "link", "set", "eth1", "up"])
                wait_metric(agent, lambda m: listeners(m).get("eth1") == 1, 15, "a listener on eth1 once up")
                # And down again: dropped at the next rescan, logged as information.
                ns.exec(["ip", "link", "set", "eth1", "down"])
                wait_metric(agent, lambda m: "eth1" not in listeners(m), 15, "eth1 to be dropped once down")
                time.sleep(11)
                warned = warnings(agent)
                fslib.check(not warned, "no warning when a link goes down:\n" + "\n".join(warned))
                fslib.check("interface eth1 is down or gone" in agent.output(), "the drop is logged (info)")
        finally:
            if os.path.exists(cfg):
                os.unlink(cfg)
    print("ok")


if __name__ == "__main__":
    main()
