"""Probe targets given as host names: resolved off the probing thread with a bound, never at
the cost of the other targets. The agent runs in a private mount namespace with a test
/etc/hosts, /etc/nsswitch.conf and /etc/resolv.conf bind-mounted over the real ones (no real
DNS is ever asked: the only name server is an address inside the test topology that drops
everything). The configuration passes --check-config; the agent then probes
gw.fspr.test (from the hosts file) and follows it when the hosts file changes; a name the
name server never answers is down with reason resolve_timeout after resolve_timeout, a name
no source knows is down with resolve_failed, a malformed address and a tcp target without a
port are down with invalid_config, and the gateway probes run throughout. The agent stops
promptly although a lookup is still blocked."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fslib  # noqa: E402
from probe_net import GW4, NsAgent, Topology, host_addr4, series, val, wait_metric, write_config  # noqa: E402

CONFIG = """
collectors:
  self: {enabled: false}
  lldp: {enabled: false}
  probe:
    interval: 1s
    timeout: 1s
    probe_interval: 200ms
    resolve_interval: 2s
    resolve_timeout: 1s
    targets:
      - {name: by-name, address: gw.fspr.test}
      - {name: hung, address: hung.fspr.test}
      - {name: bad, address: "not a host!"}
      - {name: noport, address: 10.66.0.1, kind: tcp}
"""

MOUNT_WRAPPER = ('mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf && '
                 'mount --bind "$3" /etc/resolv.conf && shift 3 && exec "$@"')


def up(m, name):
    s = series(m, "foreshock_probe_up", name=name)
    return (s[0][1], s[0][0]["reason"], s[0][0]["target"]) if len(s) == 1 else None


def main():
    fslib.require_tool("unshare")
    fslib.require_tool("mount")
    with Topology("ph") as topo:
        h1 = topo.hosts[0]
        h1.exec(["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"])
        hosts = write_config(topo, f"127.0.0.1 localhost\n{GW4} gw.fspr.test\n")
        # 10.99.0.53 is routed to the switch namespace, which does not forward: queries vanish.
        resolv = write_config(topo, "nameserver 10.99.0.53\noptions timeout:15 attempts:2\n")
        nss_dns = write_config(topo, "hosts: files dns\n")
        nss_files = write_config(topo, "hosts: files\n")
        config = write_config(topo, CONFIG)

        check = fslib.run([fslib.BIN, "--check-config", "--config", config], check_rc=False)
        fslib.check(check.returncode == 0, f"--check-config accepts host names: {check.stdout}{check.stderr}")

        wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-c", MOUNT_WRAPPER, "sh",
                   hosts, nss_dns, resolv]
        agent = NsAgent(h1, config, wrapper=wrapper)
        try:
            m = wait_metric(agent, lambda m: (up(m, "by-name") or (0,))[0] == 1
                            and (up(m, "hung") or (0, ""))[1] == "resolve_timeout", 15,
                            "gw.fspr.test up and hung.fspr.test timed out")
            print("by-name:", up(m, "by-name"), "hung:", up(m, "hung"))
            fslib.check(up(m, "by-name")[2] == "gw.fspr.test", "the target label is the configured name")
            fslib.check(up(m, "bad")[:2] == (0, "invalid_config"), f"malformed address: {up(m, 'bad')}")
            fslib.check(up(m, "noport")[:2] == (0, "invalid_config"), f"tcp without port: {up(m, 'noport')}")
            gw = series(m, "foreshock_probe_up", name="default-gateway", target=GW4, probe="icmp")
            fslib.check(gw and gw[0][1] == 1, f"the gateway probes run: {gw}")
            fslib.check(val(m, "foreshock_collector_success", collector="probe") == 1,
                        "the probe collector itself is fine")

            # The hosts file changes: the name follows at the next resolution, same series.
            with open(hosts, "w") as f:
                f.write(f"127.0.0.1 localhost\n{host_addr4(1)} gw.fspr.test\n")
            wait_metric(agent, lambda m: f"gw.fspr.test resolves to {host_addr4(1)}" in agent.output(), 10,
                        "gw.fspr.test to be re-resolved")
            m = wait_metric(agent, lambda m: (up(m, "by-name") or (0,))[0] == 1, 10, "by-name up again")
            fslib.check(len(series(m, "foreshock_probe_up", name="by-name")) == 1, "one series for the name")
            fslib.promtool_check(agent.metrics())
            # A lookup is still blocked in the name server wait (2 x 15 s): stopping must not wait.
            start = time.monotonic()
            rc = agent.stop(timeout=10)
            took = time.monotonic() - start
            print(f"stopped in {took:.2f} s with a lookup blocked (rc {rc})")
            fslib.check(rc == 0 and took < 5, f"the agent must stop promptly: rc {rc} after {took:.1f} s")
        finally:
            agent.__exit__(None, None, None)

        # With only the hosts file as a source, an unknown name fails at once.
        wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-c", MOUNT_WRAPPER, "sh",
                   hosts, nss_files, resolv]
        with NsAgent(h1, config, wrapper=wrapper) as agent:
            m = wait_metric(agent, lambda m: (up(m, "hung") or (0, ""))[1] == "resolve_failed", 10,
                            "an unknown name to fail")
            fslib.check(up(m, "by-name")[0] == 1, "the known name is probed")
            fslib.check("hung.fspr.test" in agent.output() and "resolve_failed" in agent.output(),
                        "the failure is logged with the name")
    print("ok")


if __name__ == "__main__":
    main()
