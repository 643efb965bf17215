"""A machine without hwmon chips (like a VM): the sensors collector succeeds with no sensor
series and logs nothing, cycle after cycle. Two shapes: an empty hwmon class, and no hwmon
class at all (libsensors then falls back to its pre-2.6.14 i2c scan). Needs root."""
import os
import shutil
import tempfile

import fslib
from fslib import check, value, wait_for
from sensors_ns import Fixture

CFG = """
collectors:
  sensors:
    interval: 1s
    timeout: 1s
    config_file: /dev/null
"""


def run(with_hwmon_class):
    with Fixture() as fx:
        # Replace the fixture with an empty class tree.
        shutil.rmtree(os.path.join(fx.sys, "class"))
        os.makedirs(os.path.join(fx.sys, "class", "thermal"))
        if with_hwmon_class:
            os.makedirs(os.path.join(fx.sys, "class", "hwmon"))
        with fx.agent(CFG) as agent:
            def cycles():
                m = fslib.parse_metrics(agent.metrics())
                ts = value(m, "foreshock_collector_last_success_timestamp_seconds", collector="sensors")
                return m if ts else None

            first = wait_for(cycles, timeout=10, what="a first sensors cycle")
            t0 = value(first, "foreshock_collector_last_success_timestamp_seconds", collector="sensors")
            m = wait_for(lambda: (lambda x: x if value(x, "foreshock_collector_last_success_timestamp_seconds",
                                                        collector="sensors") >= t0 + 2 else None)(cycles()),
                         timeout=10, what="two more sensors cycles")
            text = agent.metrics()
            fslib.promtool_check(text)
            check(value(m, "foreshock_collector_success", collector="sensors") == 1, "success stays 1")
            check(not any(n in ("foreshock_sensor_up", "foreshock_thermal_zone_up") for (n, _) in m),
                  "no sensor or zone series")
            if with_hwmon_class:
                check(value(m, "foreshock_sensor_chips") == 0, "zero chips")
            log = agent.output()
            noisy = [l for l in log.splitlines()
                     if "component=sensors" in l and ("level=warn" in l or "level=error" in l)]
            check(not noisy, "no warnings or errors from the sensors collector:\n" + "\n".join(noisy))


def main():
    run(with_hwmon_class=True)
    run(with_hwmon_class=False)
    print("ok")


if __name__ == "__main__":
    main()
