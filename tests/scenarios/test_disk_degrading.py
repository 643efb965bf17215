"""Scenario 3, disk degrading: a real failed drive's pending sectors grow, and the shipped disk
alerts go warning, then critical, at a webhook behind a real Prometheus and Alertmanager.

The drive: Backblaze Drive Stats, Seagate ST4000DM000 serial Z300ZV41, which failed on
2018-07-27 (shared failed_drives.csv). Replayed days (its real rows, see disk_replay.py for
how a row becomes a smartctl --json report):

  2018-03-08  197 = 198 = 16   the agent first sees the drive: counts present, no growth seen
  2018-03-09  16               unchanged
  2018-03-14  16               unchanged
  2018-03-21  16               unchanged
  2018-03-22  197 = 198 = 24   pending / offline-uncorrectable sectors grew by 8

Expected, per the shipped rules (packaging/prometheus/foreshock-rules.yml) and the engine's
disk rules (docs/health.md): raw > 0 without growth -> pending_sectors warning ->
ForeshockDiskErrorsPresent (severity warning); any increase within 7 days -> critical ->
ForeshockDiskErrorsGrowing (severity critical).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from disk_replay import backblaze_days  # noqa: E402
from disk_scenario import FOR_SCALE, DiskAgent, check_alert  # noqa: E402
from scenario_lib import Stack, check  # noqa: E402

SERIAL = "Z300ZV41"
FIRST_SEEN = "2018-03-08"
FLAT = ["2018-03-09", "2018-03-14", "2018-03-21"]
GREW = "2018-03-22"


def wait_pending_sectors_alert(hook, name, severity, addr, summary, description_has):
    """Waits for the firing pending_sectors alert `name` at the webhook; checks its labels, that
    its summary is exactly `summary` and that its description holds every phrase of
    description_has. Returns the alert."""
    alert = hook.wait_for_alert(name, "firing", {"check": "pending_sectors"}, timeout=60)
    check_alert(alert, name, severity, "pending_sectors", addr, SERIAL)
    ann = alert["annotations"]
    check(ann.get("summary") == summary, f"{severity} summary: {ann.get('summary')!r}")
    check(all(phrase in ann.get("description", "") for phrase in description_has),
          f"{severity} description: {ann.get('description')!r}")
    return alert


def main():
    days = backblaze_days(SERIAL, [FIRST_SEEN, *FLAT, GREW])
    # The data itself must say what the scenario claims (guards against a changed fixture).
    for d in [FIRST_SEEN, *FLAT]:
        check(days[d]["smart_197_raw"].startswith("16") and days[d]["smart_198_raw"].startswith("16"),
              f"{SERIAL} {d}: expected 16 pending sectors, got {days[d]}")
    check(days[GREW]["smart_197_raw"].startswith("24"), f"{SERIAL} {GREW}: {days[GREW]}")

    with Stack() as st:
        da = DiskAgent(st)
        da.disk.write(days[FIRST_SEEN])
        da.start()
        addr = da.addr
        m = da.show_day(days[FIRST_SEEN])
        check(da.status(m, "pending_sectors") == 1,
              f"16 pending sectors first seen should be a warning: {da.status(m, 'pending_sectors')}")

        hook, _, prom = st.alerting({"foreshock": [addr]}, FOR_SCALE)
        prom.wait_for_query('up{job="foreshock"} == 1', timeout=30, what="the first good scrape")

        # The disk Prometheus sees is the Backblaze drive.
        info = prom.wait_for_query('foreshock_disk_info{device="sda"}', timeout=30)
        check(info[0]["metric"].get("serial") == SERIAL and info[0]["metric"].get("model") == "ST4000DM000",
              f"foreshock_disk_info: {info[0]['metric']}")

        # Warning: counts present, not growing.
        warn = wait_pending_sectors_alert(
            hook, "ForeshockDiskErrorsPresent", "warning", addr,
            f"disk disk/sda (serial {SERIAL}) on {addr} has pending_sectors",
            ["not growing in the last 7 days"])
        hook.wait_for_alert("ForeshockDiskErrorsPresent", "firing",
                            {"check": "offline_uncorrectable"}, timeout=30)
        print("warning:", warn["labels"], warn["annotations"]["summary"])

        # Unchanged days keep it a warning: rewriting the same counts is not growth.
        for d in FLAT:
            m = da.show_day(days[d])
            check(da.status(m, "pending_sectors") == 1
                  and da.evidence(m, "pending_sectors", "increase_7d") == 0,
                  f"{d}: unchanged counts must stay a warning with no 7-day increase: "
                  f"status {da.status(m, 'pending_sectors')}, "
                  f"increase_7d {da.evidence(m, 'pending_sectors', 'increase_7d')}")
        check(not hook.matching("ForeshockDiskErrorsGrowing"),
              f"critical alert before any growth: {hook.matching('ForeshockDiskErrorsGrowing')}")
        check(not [a for a in prom.alerts() if a["labels"]["alertname"] == "ForeshockDiskErrorsGrowing"],
              "ForeshockDiskErrorsGrowing pending/firing in Prometheus before any growth")

        # Critical: the counts grew by 8 within the 7-day window.
        da.show_day(days[GREW])
        m = da.wait_status("pending_sectors", 2)
        check(da.evidence(m, "pending_sectors", "increase_7d") == 8
              and da.evidence(m, "pending_sectors", "smart_197_raw") == 24,
              f"{GREW}: evidence increase_7d {da.evidence(m, 'pending_sectors', 'increase_7d')}, "
              f"smart_197_raw {da.evidence(m, 'pending_sectors', 'smart_197_raw')}")
        crit = wait_pending_sectors_alert(
            hook, "ForeshockDiskErrorsGrowing", "critical", addr,
            f"disk disk/sda (serial {SERIAL}) on {addr}: pending_sectors growing",
            ["grew within the last 7 days", "replace the disk"])
        crit2 = hook.wait_for_alert("ForeshockDiskErrorsGrowing", "firing",
                                    {"check": "offline_uncorrectable"}, timeout=30)
        check_alert(crit2, "ForeshockDiskErrorsGrowing", "critical", "offline_uncorrectable", addr, SERIAL)
        # The warning came first.
        order = [a["labels"]["alertname"] for a in hook.alerts() if a["status"] == "firing"
                 and a["labels"].get("check") == "pending_sectors"]
        check(order.index("ForeshockDiskErrorsPresent") < order.index("ForeshockDiskErrorsGrowing"),
              f"warning did not come before critical: {order}")
        # Prometheus itself shows the evidence the alert is based on.
        ev = prom.wait_for_query('foreshock_health_evidence{component="disk/sda",check="pending_sectors",'
                                 'evidence="increase_7d"} == 8', timeout=30)
        check(ev, "increase_7d evidence not in Prometheus")
        print("critical:", crit["labels"], crit["annotations"]["summary"])
    print("ok")


if __name__ == "__main__":
    main()
