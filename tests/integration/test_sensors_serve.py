"""`foreshock serve` on the fixture with a 1s interval: a value changed in the tree shows up in
the next cycle; a changed sensors.conf re-initializes libsensors (new label); a read that
blocks forever is bounded (timeout, then blocked, without a new thread or a log line per cycle)
and recovers when the attribute reads again; a new chip appears after SIGHUP. Needs root (mount namespace)."""
import os
import signal
import time

import fslib
from fslib import check, value, wait_for
from sensors_ns import BLOCKING, Fixture

C = "coretemp-isa-0000"
B = "it87-isa-0a30"


def main():
    fslib.require_tool("nsenter")
    with Fixture(fifo_targets=BLOCKING) as fx:
        conf = os.path.join(fx.dir, "sensors.conf")
        with open(conf, "w") as f:
            f.write('chip "coretemp-*"\n    label temp1 "Before"\n')
        agent_cfg = f"""
collectors:
  sensors:
    interval: 1s
    timeout: 1s
    read_timeout: 200ms
    config_file: {conf}
"""
        with fx.agent(agent_cfg) as agent:
            def metrics():
                return fslib.parse_metrics(agent.metrics())

            def has(name, want, **labels):
                m = metrics()
                return m if value(m, name, **labels) == want else None

            m = wait_for(lambda: has("foreshock_sensor_temperature_celsius", 52, chip=C, sensor="temp1"),
                         timeout=15, what="the first cycle with coretemp temp1 = 52")
            check(value(m, "foreshock_sensor_info", chip=C, sensor="temp1", label="Before") == 1, "initial label")
            fslib.promtool_check(agent.metrics())

            # A value changed in the fixture appears in the next cycle (libsensors is not
            # re-initialized for that: it reads the attribute each time).
            fx.write("hwmon/hwmon0/temp1_input", "67000\n")
            wait_for(lambda: has("foreshock_sensor_temperature_celsius", 67, chip=C, sensor="temp1"),
                     timeout=5, what="coretemp temp1 = 67 after the fixture changed")
            m = wait_for(lambda: has("foreshock_sensor_temperature_headroom_celsius", 13, chip=C, sensor="temp1"),
                         timeout=5, what="headroom 80 - 67 = 13")

            # The blocking attribute: timeout on the first cycle, then "blocked" while the
            # abandoned read is still stuck; still one blocked thread; collector still succeeds.
            m = wait_for(lambda: has("foreshock_sensor_up", 0, chip=B, sensor="temp2", reason="blocked"),
                         timeout=10, what="it87 temp2 reported as blocked on a later cycle")
            check(value(m, "foreshock_sensor_blocked_reads") == 1, "one abandoned read, not one per cycle")
            check(value(m, "foreshock_collector_success", collector="sensors") == 1, "collector stays successful")
            check(value(m, "foreshock_sensor_fan_rpm", chip=B, sensor="fan1") == 900, "the chip's other sensors are read")

            # A changed sensors.conf is picked up at the next cycle (libsensors re-initialized).
            with open(conf, "w") as f:
                f.write('chip "coretemp-*"\n    label temp1 "After"\n')
            wait_for(lambda: has("foreshock_sensor_info", 1, chip=C, sensor="temp1", label="After"),
                     timeout=10, what="the new label after editing sensors.conf")

            time.sleep(2.5)  # a few more cycles with the read still blocked
            out = agent.output()
            downs = out.count(f"{B}/temp2 is down")
            check(downs == 2, f"two transitions logged (timeout, blocked), not one per cycle: {downs}\n{out}")
            check(out.count("level=error") == 0, f"no error lines:\n{out}")

            # Recovery: remove the blocking FIFO in the agent's mount namespace and let the
            # stuck read return; the attribute then reads its regular file again.
            pid = agent.proc.pid  # unshare and the wrapper exec into foreshock: same pid
            fslib.run(["nsenter", "-t", str(pid), "-m", "umount", "-l", "/sys/class/" + BLOCKING[0]])
            fd = os.open(fx.fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
            m = wait_for(lambda: has("foreshock_sensor_temperature_celsius", 40, chip=B, sensor="temp2"),
                         timeout=10, what="it87 temp2 readable again after the FIFO is gone")
            check(value(m, "foreshock_sensor_up", chip=B, sensor="temp2", reason="") == 1, "it87 temp2 up again")
            wait_for(lambda: has("foreshock_sensor_blocked_reads", 0), timeout=5,
                     what="the abandoned thread to end")
            check(f"{B}/temp2 recovered" in agent.output(), "recovery is logged once")

            # A chip that appears later is picked up on reload (SIGHUP re-initializes
            # libsensors), not by polling: libsensors is only re-initialized on purpose.
            os.makedirs(fx.path("hwmon/hwmon7"))
            fx.write("hwmon/hwmon7/name", "lm75\n")
            fx.write("hwmon/hwmon7/temp1_input", "30500\n")
            time.sleep(2.5)
            check(value(metrics(), "foreshock_sensor_up", chip="lm75-virtual-0") is None,
                  "a new chip is not picked up without a reload")
            agent.signal(signal.SIGHUP)
            wait_for(lambda: has("foreshock_sensor_temperature_celsius", 30.5, chip="lm75-virtual-0", sensor="temp1"),
                     timeout=10, what="the hot-plugged chip after SIGHUP")
    print("ok")


if __name__ == "__main__":
    main()
