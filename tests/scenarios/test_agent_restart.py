"""Scenario 4, agent restart: the agent is SIGKILLed while a disk alert is firing and started
again with the same state.directory and port. The history saved on the save timer survives,
the 7-day increase rule still sees the growth after the restart, and the critical disk alert
neither resolves nor re-fires (same startsAt) at a webhook behind a real Prometheus and
Alertmanager.

The drive: Backblaze Drive Stats, Seagate ST4000DM000 serial Z300ZV41 (failed 2018-07-27;
shared failed_drives.csv). Replayed days (its real rows, see disk_replay.py):

  2018-03-21  197 = 198 = 16   first seen
  2018-03-22  197 = 198 = 24   grew by 8 -> ForeshockDiskErrorsGrowing (critical)
  -- SIGKILL, restart --
  2018-03-23  197 = 198 = 24   unchanged: only the saved history knows about the growth

Without the history (lost or not saved) the first reading after the restart would have no
earlier point, `increase_7d` would be 0 and the disk only a warning: the test checks the
evidence the restarted agent exports, not just the alert.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from disk_replay import backblaze_days  # noqa: E402
from disk_scenario import FOR_SCALE, DiskAgent, check_alert, wait_until  # noqa: E402
from fslib import value  # noqa: E402
from scenario_lib import Stack, alert_time_ms, check  # noqa: E402

SERIAL = "Z300ZV41"
FIRST_SEEN, GREW, AFTER = "2018-03-21", "2018-03-22", "2018-03-23"
ALERT = "ForeshockDiskErrorsGrowing"


def disk_alert_events(hook):
    """(status, startsAt) of every webhook notification of the pending_sectors alert."""
    return [(a["status"], a.get("startsAt"))
            for a in hook.matching(ALERT, labels={"check": "pending_sectors"})]


def prometheus_active_at(prom):
    """activeAt of the firing pending_sectors ForeshockDiskErrorsGrowing in Prometheus."""
    return wait_until(lambda: [a["activeAt"] for a in prom.alerts()
                               if a["labels"]["alertname"] == ALERT and a["state"] == "firing"
                               and a["labels"].get("check") == "pending_sectors"],
                      30, f"{ALERT} pending_sectors firing in Prometheus")


def main():
    days = backblaze_days(SERIAL, [FIRST_SEEN, GREW, AFTER])
    check([days[d]["smart_197_raw"].split(".")[0] for d in (FIRST_SEEN, GREW, AFTER)] == ["16", "24", "24"],
          f"{SERIAL}: unexpected 197 counts {[days[d]['smart_197_raw'] for d in days]}")

    with Stack() as st:
        da = DiskAgent(st)
        da.disk.write(days[FIRST_SEEN])
        da.start()
        addr = da.addr
        da.show_day(days[FIRST_SEEN])
        da.show_day(days[GREW])
        m = da.wait_status("pending_sectors", 2)
        check(da.evidence(m, "pending_sectors", "increase_7d") == 8,
              f"growth not seen before the restart: increase_7d "
              f"{da.evidence(m, 'pending_sectors', 'increase_7d')}")
        saves_at_growth = value(m, "foreshock_health_history_saves_total")

        hook, am, prom = st.alerting({"foreshock": [addr]}, FOR_SCALE)
        fired = hook.wait_for_alert(ALERT, "firing", {"check": "pending_sectors"}, timeout=60)
        check_alert(fired, ALERT, "critical", "pending_sectors", addr, SERIAL)
        starts_at = fired["startsAt"]
        active_at = prometheus_active_at(prom)[0]

        # SIGKILL loses everything since the last timer save: wait for a save after the growth
        # (state.save_interval is 10 s, its minimum).
        wait_until(lambda: value(da.metrics(), "foreshock_health_history_saves_total") > saves_at_growth,
                   25, "a history save after the growth was recorded")
        check(os.path.exists(os.path.join(da.state_dir, "history.bin")), "no history.bin in state.directory")

        da.kill()
        # A real outage window: Prometheus scrapes fail and the rules are evaluated without the
        # agent's series (ForeshockAgentDown firing at the webhook proves both happened).
        prom.wait_for_query('up{job="foreshock"} == 0', timeout=30, what="Prometheus to see the agent down")
        hook.wait_for_alert("ForeshockAgentDown", "firing", {"instance": addr}, timeout=30)

        da.start()  # same port, same state.directory
        check(da.addr == addr, f"restarted agent listens on {da.addr}, not {addr}")
        m = da.show_day(days[AFTER])
        check(value(m, "foreshock_health_history_load_rejected") == 0,
              "the history saved before the kill was rejected at start")
        check(da.evidence(m, "pending_sectors", "increase_7d") == 8,
              f"after the restart the 7-day increase is {da.evidence(m, 'pending_sectors', 'increase_7d')}, "
              "not 8: the history did not survive")
        check(da.status(m, "pending_sectors") == 2,
              f"after the restart pending_sectors is {da.status(m, 'pending_sectors')}, not critical")

        # Prometheus has scraped the restarted agent and evaluated the disk rules on it.
        start_time = value(m, "process_start_time_seconds")
        check(start_time, "restarted agent exports no process_start_time_seconds")
        prom.wait_for_query(f'process_start_time_seconds == {start_time} and on() '
                            'foreshock_health_evidence{component="disk/sda",check="pending_sectors",'
                            'evidence="increase_7d"} == 8',
                            timeout=30, what="Prometheus to scrape the restarted agent's evidence")
        hook.wait_for_alert("ForeshockAgentDown", "resolved", {"instance": addr}, timeout=30)
        prom.wait_for_query(f'ALERTS{{alertname="{ALERT}",check="pending_sectors",alertstate="firing"}} '
                            f'and on() process_start_time_seconds == {start_time}',
                            timeout=30, what=f"{ALERT} evaluated as firing after the restart")

        events = disk_alert_events(hook)
        check(all(s == "firing" for s, _ in events),
              f"{ALERT} resolved around the restart (spurious resolve/re-fire): {events}")
        # The webhook and the v2 API spell times differently ("20.16Z" vs "20.160Z"): compare instants.
        check(all(alert_time_ms(t) == alert_time_ms(starts_at) for _, t in events),
              f"{ALERT} startsAt changed: {events}")
        now_active = prometheus_active_at(prom)
        check(now_active == [active_at], f"Prometheus activeAt was {active_at}, now {now_active}")
        am_alerts = [a for a in am.alerts() if a["labels"].get("alertname") == ALERT
                     and a["labels"].get("check") == "pending_sectors"]
        check(len(am_alerts) == 1 and alert_time_ms(am_alerts[0]["startsAt"]) == alert_time_ms(starts_at)
              and am_alerts[0]["status"]["state"] == "active",
              f"Alertmanager's view of {ALERT}: {am_alerts}")
        print(f"{ALERT} kept firing across the restart, startsAt {starts_at}; webhook events {events}")
    print("ok")


if __name__ == "__main__":
    main()
