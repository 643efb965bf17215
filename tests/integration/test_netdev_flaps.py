"""netdev link events: a down/up of the peer between two polls is counted as a flap with the
time it happened (not the time of the next poll); carrier changes rise; an interface deleted
mid-run disappears cleanly and a new one appears.

The agent runs in the root namespace and reads the test namespace by path (the collector's
`namespaces` option: sockets opened by a thread that joined it with setns), so its series
carry netns="fsnd-f1".
"""
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import Agent, Netns, check, parse_metrics, promtool_check, require_root, require_tool, run, value, wait_for  # noqa: E402

INTERVAL = 2.0
CONFIG = f"""
collectors:
  self:
    enabled: false
  netdev:
    interval: {int(INTERVAL)}s
    timeout: 1s
    kinds: []
    include: "fsnd-.*"
    optics: false
    namespaces: ["/run/netns/fsnd-f1"]
"""


def poll_time(m):
    return value(m, "foreshock_collector_last_success_timestamp_seconds", collector="netdev") or 0


def wait_next_poll(agent, after, until=lambda m: True, what="the next netdev cycle"):
    """Waits for a collection that finished after `after` and whose metrics satisfy `until`;
    returns (metrics, exposition text) of that scrape."""
    def newer():
        text = agent.metrics()
        m = parse_metrics(text)
        return (m, text) if poll_time(m) > after and until(m) else None
    return wait_for(newer, timeout=4 * INTERVAL + 5, interval=0.05, what=what)


def veth(a, b, left, right):
    run(["ip", "link", "add", left, "netns", a.name, "type", "veth", "peer", "name", right,
         "netns", b.name])
    a.exec(["ip", "link", "set", left, "up"])
    b.exec(["ip", "link", "set", right, "up"])


def main():
    require_root()
    require_tool("promtool")
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write(CONFIG)
        cfg = f.name
    a = Netns("fsnd-f1")
    b = Netns("fsnd-f2")
    agent = None
    try:
        veth(a, b, "fsnd-f1a", "fsnd-f2b")
        veth(a, b, "fsnd-f1c", "fsnd-f2d")
        # Carrier settles asynchronously (linkwatch); wait before the agent takes its baseline.
        wait_for(lambda: "LOWER_UP" in a.exec(["ip", "link", "show", "fsnd-f1a"]).stdout, what="carrier")
        agent = Agent(["--config", cfg, "--web.listen-address", "127.0.0.1:0", "serve"])
        lab = {"interface": "fsnd-f1a", "netns": "fsnd-f1"}
        m = wait_for(lambda: (lambda mm: mm if value(mm, "foreshock_network_up", **lab) is not None else None)(
            parse_metrics(agent.metrics())), timeout=15, what="fsnd-f1a in the agent's metrics")
        check(value(m, "foreshock_network_namespace_up", netns="fsnd-f1") == 1, "namespace up")
        m, _ = wait_next_poll(agent, poll_time(m))
        flaps0 = value(m, "foreshock_network_link_flaps_total", **lab)
        changes0 = value(m, "foreshock_network_carrier_changes_total", **lab)
        check(flaps0 == 0, f"no flap before the test, got {flaps0}")

        # Flap right after a poll, so that both surrounding polls see the carrier up.
        m, _ = wait_next_poll(agent, poll_time(m))
        polled = poll_time(m)
        t0 = time.time()
        b.exec(["ip", "link", "set", "fsnd-f2b", "down"])
        time.sleep(0.2)
        b.exec(["ip", "link", "set", "fsnd-f2b", "up"])
        wait_for(lambda: "LOWER_UP" in a.exec(["ip", "link", "show", "fsnd-f1a"]).stdout, what="carrier back")
        t1 = time.time()
        check(t1 - polled < INTERVAL, "the flap must fit between two polls (machine too slow?)")
        m, _ = wait_next_poll(agent, polled)
        after = poll_time(m)
        check(value(m, "foreshock_network_carrier", **lab) == 1, "the next poll sees carrier up again")
        flaps1 = value(m, "foreshock_network_link_flaps_total", **lab)
        changes1 = value(m, "foreshock_network_carrier_changes_total", **lab)
        last = value(m, "foreshock_network_link_last_change_timestamp_seconds", **lab)
        print(f"flaps {flaps0} -> {flaps1}, carrier changes {changes0} -> {changes1}, "
              f"flap at {t0:.3f}..{t1:.3f}, last change {last}, next poll {after:.3f}")
        check(flaps1 == flaps0 + 1, f"one flap expected, got {flaps0} -> {flaps1}")
        check(changes1 == changes0 + 2, f"carrier changes must rise by 2, got {changes0} -> {changes1}")
        check(last is not None and t0 - 0.05 <= last <= t1 + 0.05,
              f"last change {last} must be the event's time (between {t0} and {t1})")
        check(after - last > 0.3, "the change time comes from the event, not from the next poll")
        check(value(m, "foreshock_network_errors_total", **lab, **{"class": "link"}) == changes1,
              "the link error class is the carrier changes")
        check(value(m, "foreshock_network_up", interface="fsnd-f1c", netns="fsnd-f1") == 1,
              "second interface present")

        # Delete one interface mid-run; add another.
        a.exec(["ip", "link", "del", "fsnd-f1c"])
        veth(a, b, "fsnd-f1e", "fsnd-f2f")
        t2 = time.time()
        m, text = wait_next_poll(
            agent, t2, lambda mm: value(mm, "foreshock_network_up", interface="fsnd-f1e", netns="fsnd-f1") is not None,
            "the new interface")
        check(not re.search(r'interface="fsnd-f1c"', text), "the deleted interface must disappear from every series")
        check(value(m, "foreshock_collector_success", collector="netdev") == 1, "collector still succeeds")
        check(value(m, "foreshock_network_link_flaps_total", interface="fsnd-f1e", netns="fsnd-f1") == 0,
              "a new interface starts with no flaps")
        check(value(m, "foreshock_network_link_flaps_total", **lab) == flaps1, "flap count kept")
        promtool_check(text)

        # The configured namespace goes away: only its series go, reported on namespace_up.
        run(["ip", "netns", "del", a.name])
        t3 = time.time()
        m, text = wait_next_poll(
            agent, t3, lambda mm: value(mm, "foreshock_network_namespace_up", netns="fsnd-f1") == 0,
            "namespace_up 0 after the namespace was deleted")
        check('netns="fsnd-f1",reason=""' not in text and 'interface="fsnd-f1a"' not in text,
              "no series of the deleted namespace remain")
        check(value(m, "foreshock_collector_success", collector="netdev") == 1,
              "a missing extra namespace does not fail the collector")
        promtool_check(text)
        check(agent.stop() == 0, "agent must exit cleanly on SIGTERM")
    finally:
        if agent is not None:
            agent.stop()
        a.close()
        b.close()
        os.unlink(cfg)
    print("ok")


if __name__ == "__main__":
    main()
