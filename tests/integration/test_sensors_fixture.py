"""The sensors collector reads the fixture chips through the real libsensors: labels, limits,
alarms, headroom, a faulty sensor, an EIO sensor, a read that blocks forever, thermal zones,
drivetemp off by default, and the include/exclude filters. Needs root (mount namespace)."""
import time

import fslib
from fslib import check, value
from sensors_ns import BLOCKING, FAILING, Fixture

BASE = """
collectors:
  sensors:
    config_file: /dev/null
    read_timeout: 300ms
"""


def approx(a, b):
    return a is not None and abs(a - b) < 1e-6


def main():
    with Fixture(fifo_targets=BLOCKING, eio_targets=FAILING) as fx:
        started = time.monotonic()
        m, text, log = fx.collect(BASE, timeout=30)
        elapsed = time.monotonic() - started
        fslib.promtool_check(text)
        check(value(m, "foreshock_collector_success", collector="sensors") == 1,
              "sensors collector must succeed despite a faulty, a failing and a blocked sensor")
        # The blocked read is bounded: one read_timeout (300ms), not forever.
        check(elapsed < 10, f"collect took {elapsed:.1f}s with a blocking sensor")

        # coretemp: labels from the chip's _label files, limits, crit alarm, headroom.
        c = "coretemp-isa-0000"
        check(value(m, "foreshock_sensor_info", chip=c, sensor="temp1", label="Package id 0",
                    type="temperature") == 1, "coretemp temp1 label 'Package id 0'")
        check(value(m, "foreshock_sensor_info", chip=c, sensor="temp2", label="Core 0") == 1,
              "coretemp temp2 label 'Core 0'")
        check(approx(value(m, "foreshock_sensor_temperature_celsius", chip=c, sensor="temp2"), 101),
              "coretemp Core 0 is 101 °C")
        check(approx(value(m, "foreshock_sensor_temperature_crit_celsius", chip=c, sensor="temp2"), 100),
              "coretemp crit limit 100")
        check(value(m, "foreshock_sensor_alarm", chip=c, sensor="temp2", kind="crit") == 1,
              "coretemp Core 0 raises its crit alarm")
        check(value(m, "foreshock_sensor_alarm", chip=c, sensor="temp1", kind="crit") == 0,
              "coretemp Package has no crit alarm")
        check(approx(value(m, "foreshock_sensor_temperature_headroom_celsius", chip=c, sensor="temp2"), -21),
              "Core 0 is 21 °C over its max of 80: headroom -21")
        check(approx(value(m, "foreshock_sensor_temperature_headroom_celsius", chip=c, sensor="temp1"), 28),
              "Package headroom to max 80 is 28")

        # k10temp: a fan and a voltage with limits (PCI chip name from bus address 00:18.3).
        k = "k10temp-pci-00c3"
        check(approx(value(m, "foreshock_sensor_fan_rpm", chip=k, sensor="fan1"), 1250), "k10temp fan1 1250 rpm")
        check(approx(value(m, "foreshock_sensor_fan_min_rpm", chip=k, sensor="fan1"), 300), "fan1 min 300")
        check(approx(value(m, "foreshock_sensor_voltage_volts", chip=k, sensor="in0"), 1.35), "Vcore 1.35 V")
        check(approx(value(m, "foreshock_sensor_voltage_max_volts", chip=k, sensor="in0"), 1.55), "Vcore max")
        check(approx(value(m, "foreshock_sensor_current_amperes", chip=k, sensor="curr1"), 32), "Icore 32 A")
        check(approx(value(m, "foreshock_sensor_power_watts", chip=k, sensor="power1"), 65), "power 65 W")

        # nvme composite with limits; the 65261.85 "no limit" max of Sensor 1 gives no headroom.
        n = "nvme-pci-0100"
        check(value(m, "foreshock_sensor_info", chip=n, sensor="temp1", label="Composite") == 1, "nvme Composite")
        check(approx(value(m, "foreshock_sensor_temperature_max_celsius", chip=n, sensor="temp1"), 84.85), "nvme max")
        check(approx(value(m, "foreshock_sensor_temperature_min_celsius", chip=n, sensor="temp1"), -273.15), "nvme min")
        check(approx(value(m, "foreshock_sensor_temperature_headroom_celsius", chip=n, sensor="temp1"), 46),
              "nvme headroom 84.85 - 38.85")
        check(value(m, "foreshock_sensor_temperature_headroom_celsius", chip=n, sensor="temp2") is None,
              "an nvme sensor whose max is the 0xFFFF-kelvin 'unset' value has no headroom")

        # ACPI thermal zone: the hwmon side has no device link (virtual chip), and the zone itself.
        check(approx(value(m, "foreshock_sensor_temperature_celsius", chip="acpitz-virtual-0", sensor="temp1"), 27.8),
              "acpitz virtual chip")
        check(approx(value(m, "foreshock_thermal_zone_temperature_celsius", zone="thermal_zone0", type="acpitz"), 27.8),
              "thermal_zone0 acpitz 27.8")
        check(approx(value(m, "foreshock_thermal_zone_trip_point_celsius", zone="thermal_zone0", trip="0",
                           trip_type="critical"), 105), "acpitz critical trip point 105")
        check(value(m, "foreshock_cooling_device_max_state", device="cooling_device0", type="Processor") == 3,
              "cooling device max state")
        check(value(m, "foreshock_cooling_device_cur_state", device="cooling_device1", type="Fan") == 1,
              "cooling device cur state")

        # The faulty chip: temp2 has its fault flag set, temp3 fails with EIO; temp1 is fine.
        f = "nct6775-isa-0290"
        check(value(m, "foreshock_sensor_up", chip=f, sensor="temp2", reason="fault") == 0, "fault flag -> down")
        check(value(m, "foreshock_sensor_fault", chip=f, sensor="temp2") == 1, "fault gauge")
        check(value(m, "foreshock_sensor_temperature_celsius", chip=f, sensor="temp2") is None,
              "a faulty sensor's garbage input (127) is not exported")
        check(value(m, "foreshock_sensor_up", chip=f, sensor="temp3", reason="io_error") == 0, "EIO -> io_error")
        check(value(m, "foreshock_sensor_up", chip=f, sensor="temp1", reason="") == 1, "the chip's other sensors stay up")
        check(approx(value(m, "foreshock_sensor_temperature_celsius", chip=f, sensor="temp1"), 34), "SYSTIN 34")
        check("nct6775-isa-0290/temp3 is down (io_error)" in log and "Input/output error" in log,
              f"the EIO is logged with the sensor and errno text:\n{log}")

        # The blocking chip: temp2 times out, the rest of the chip is read.
        b = "it87-isa-0a30"
        check(value(m, "foreshock_sensor_up", chip=b, sensor="temp2", reason="timeout") == 0, "blocked read -> timeout")
        check(approx(value(m, "foreshock_sensor_temperature_celsius", chip=b, sensor="temp1"), 41), "it87 temp1 still read")
        check(approx(value(m, "foreshock_sensor_fan_rpm", chip=b, sensor="fan1"), 900), "it87 fan1 still read")
        check(value(m, "foreshock_sensor_blocked_reads") == 1, "one read is left blocked")

        # drivetemp is off by default.
        check(not any(ls and dict(ls).get("chip", "").startswith("drivetemp") for (_, ls) in m),
              "drivetemp chips are not read by default")
        check(value(m, "foreshock_sensor_chips") == 6, "six chips without drivetemp")

    with Fixture() as fx:
        m, _, _ = fx.collect(BASE + "    drivetemp: true\n")
        check(approx(value(m, "foreshock_sensor_temperature_celsius", chip="drivetemp-scsi-0-0", sensor="temp1"), 33),
              "drivetemp: true reads the drive temperature chip")

        # Filters: chips by name, sensors by name or label.
        m, _, _ = fx.collect(BASE + "    chip_include: 'coretemp-.*|k10temp-.*'\n"
                                    "    sensor_exclude: 'Core 1|fan1'\n")
        chips = {dict(ls)["chip"] for (n, ls) in m if n == "foreshock_sensor_up"}
        check(chips == {"coretemp-isa-0000", "k10temp-pci-00c3"}, f"chip_include keeps two chips: {chips}")
        check(value(m, "foreshock_sensor_up", chip="coretemp-isa-0000", sensor="temp3") is None,
              "sensor_exclude by label 'Core 1' drops coretemp temp3")
        check(value(m, "foreshock_sensor_fan_rpm", chip="k10temp-pci-00c3", sensor="fan1") is None,
              "sensor_exclude by name drops fan1")
        check(value(m, "foreshock_sensor_up", chip="coretemp-isa-0000", sensor="temp2") is not None,
              "other sensors stay")
        m, _, _ = fx.collect(BASE + "    chip_exclude: 'nvme-.*'\n    sensor_include: 'temp1|Core 0'\n"
                                    "    thermal_zones: false\n")
        ups = {(dict(ls)["chip"], dict(ls)["sensor"]) for (n, ls) in m if n == "foreshock_sensor_up"}
        check(("coretemp-isa-0000", "temp2") in ups and ("coretemp-isa-0000", "temp3") not in ups,
              f"sensor_include matches the label 'Core 0' or the name temp1: {ups}")
        check(not any(c == "nvme-pci-0100" for c, _ in ups), "chip_exclude drops nvme")
        check(not any(n.startswith("foreshock_thermal_zone") for (n, _) in m), "thermal_zones: false")
    print("ok")


if __name__ == "__main__":
    main()
