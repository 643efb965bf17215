"""sensors.conf handling on the fixture through the real libsensors: label, compute and ignore
statements take effect (and agree with `sensors -c FILE -j`), a broken file is reported with
file and line even though sensors_init() returns 0, and the system files are found under
--path.rootfs (sensors3.conf plus sensors.d/*, hidden files skipped). Needs root."""
import json
import os

import fslib
from fslib import check, value
from sensors_ns import Fixture

GOOD = """# foreshock test configuration
chip "coretemp-isa-*"
    label temp1 "CPU package"
    compute temp3 @*2, @/2
    ignore temp2

chip "k10temp-pci-*"
    label fan1 "Pump"
"""

BROKEN = """chip "coretemp-isa-*"
    label temp1 "CPU package"
    labl temp2 "typo"
    label temp3 "Core one"
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def cfg(path):
    return f"collectors:\n  sensors:\n    config_file: {path}\n"


def main():
    fslib.require_tool("sensors")
    with Fixture() as fx:
        good = os.path.join(fx.dir, "good.conf")
        write(good, GOOD)
        m, text, log = fx.collect(cfg(good))
        fslib.promtool_check(text)
        c = "coretemp-isa-0000"
        check(value(m, "foreshock_sensor_config_errors") == 0, f"a valid file has no errors:\n{log}")
        check(value(m, "foreshock_sensor_info", chip=c, sensor="temp1", label="CPU package") == 1,
              "label statement renames coretemp temp1")
        check(value(m, "foreshock_sensor_info", chip="k10temp-pci-00c3", sensor="fan1", label="Pump") == 1,
              "label statement renames k10temp fan1")
        check(value(m, "foreshock_sensor_temperature_celsius", chip=c, sensor="temp3") == 98,
              "compute @*2 doubles Core 1 (49 -> 98)")
        check(value(m, "foreshock_sensor_temperature_max_celsius", chip=c, sensor="temp3") == 160,
              "compute applies to the limits too (80 -> 160)")
        check(value(m, "foreshock_sensor_up", chip=c, sensor="temp2") is None,
              "ignore statement drops coretemp temp2")
        check(value(m, "foreshock_sensor_temperature_celsius", chip=c, sensor="temp1") == 52,
              "an uncomputed sensor keeps its value")
        lm = json.loads(fx.run(["sensors", "-c", good, "-j", c]).stdout)[c]
        check(lm["Core 1"]["temp3_input"] == 98 and "CPU package" in lm and "Core 0" not in lm,
              f"lm-sensors reads the same file the same way: {lm}")

        # A broken file: libsensors recovers from the bad line (sensors_init returns 0), the
        # other statements still apply, and the error is reported with file and line.
        broken = os.path.join(fx.dir, "broken.conf")
        write(broken, BROKEN)
        m, text, log = fx.collect(cfg(broken))
        fslib.promtool_check(text)
        check(value(m, "foreshock_collector_success", collector="sensors") == 1, "a broken config is not fatal")
        check(value(m, "foreshock_sensor_config_errors") >= 1, "the error is counted")
        errs = [dict(ls)["error"] for (n, ls) in m if n == "foreshock_sensor_config_error_info"]
        check(any(e.startswith(f"{broken}:3: ") for e in errs), f"the error names {broken}:3: {errs}")
        check(f"{broken}:3:" in log, f"the error is logged with file and line:\n{log}")
        check(value(m, "foreshock_sensor_info", chip=c, sensor="temp3", label="Core one") == 1,
              "the statements after the bad line still apply")
        check(value(m, "foreshock_sensor_info", chip=c, sensor="temp1", label="CPU package") == 1,
              "the statements before the bad line still apply")

        # A missing config_file is an error naming it; the chips are still read.
        m, _, log = fx.collect(cfg(os.path.join(fx.dir, "missing.conf")))
        check(value(m, "foreshock_sensor_config_errors") == 1 and "missing.conf" in log,
              f"a missing config_file is reported:\n{log}")
        check(value(m, "foreshock_sensor_temperature_celsius", chip=c, sensor="temp1") == 52,
              "chips are read without the missing file")

        # System files under --path.rootfs: sensors3.conf, then sensors.d/* in name order.
        root = os.path.join(fx.dir, "root")
        write(os.path.join(root, "etc/sensors3.conf"), 'chip "coretemp-*"\n    label temp1 "Main file"\n')
        write(os.path.join(root, "etc/sensors.d/10-k10temp"), 'chip "k10temp-*"\n    label fan1 "Drop-in"\n')
        write(os.path.join(root, "etc/sensors.d/20-broken"), 'chip "nvme-*"\n    lable temp1 "x"\n')
        write(os.path.join(root, "etc/sensors.d/.hidden"), "this is not a sensors.conf\n")
        m, _, log = fx.collect("collectors:\n  sensors: {}\n", extra_args=["--path.rootfs", root])
        check(value(m, "foreshock_sensor_info", chip=c, sensor="temp1", label="Main file") == 1,
              "etc/sensors3.conf under the rootfs applies")
        check(value(m, "foreshock_sensor_info", chip="k10temp-pci-00c3", sensor="fan1", label="Drop-in") == 1,
              "etc/sensors.d/10-k10temp applies")
        errs = [dict(ls)["error"] for (n, ls) in m if n == "foreshock_sensor_config_error_info"]
        drop_in = os.path.join(root, "etc/sensors.d/20-broken")
        check(len(errs) == 1 and errs[0].startswith(f"{drop_in}:2: "),
              f"the error is located in the drop-in file, line 2 (hidden file skipped): {errs}")
    print("ok")


if __name__ == "__main__":
    main()
