"""Cross-check: on the same fixture tree, every hwmon value foreshock exports equals what
`sensors -j` (lm-sensors, run in the same mount namespace) and node_exporter's hwmon and
thermal_zone collectors (--path.sysfs on the tree) report, and none of them reports a value
foreshock misses. Needs root (mount namespace)."""
import json
import re
import subprocess
import time
import urllib.request

import fslib
from fslib import check, fail
from sensors_ns import Fixture

CONFIG = """
collectors:
  sensors:
    config_file: /dev/null
    drivetemp: true
"""

# libsensors' chip name -> node_exporter's chip label (its name from the device path).
NODE_CHIP = {
    "coretemp-isa-0000": "platform_coretemp_0",
    "k10temp-pci-00c3": "pci0000:00_0000:00:18_3",
    "nvme-pci-0100": "nvme_nvme0",
    "acpitz-virtual-0": "acpitz",
    "nct6775-isa-0290": "platform_nct6775_656",
    "it87-isa-0a30": "platform_it87_2608",
    "drivetemp-scsi-0-0": "target0:0:0_0:0:0:0",
}
# foreshock leaves out the input of a sensor whose fault flag is set (it is garbage);
# the other two tools print it.
FAULT_SUPPRESSED = {("nct6775-isa-0290", "temp2_input")}

PREFIX = {"temperature": "temp", "fan": "fan", "voltage": "in", "current": "curr", "power": "power"}
UNITS = ("celsius", "rpm", "volts", "amperes")


def foreshock_values(m):
    """(chip, sysfs attribute) -> value, reconstructed from foreshock's series."""
    out = {}
    labels = {}
    for (name, ls), v in m.items():
        ls = dict(ls)
        if "chip" not in ls or "sensor" not in ls:
            continue
        chip, sensor = ls["chip"], ls["sensor"]
        if name == "foreshock_sensor_info":
            labels[(chip, sensor)] = ls["label"]
            continue
        if name == "foreshock_sensor_alarm":
            kind = ls["kind"]
            out[(chip, f"{sensor}_alarm" if kind == "alarm" else f"{sensor}_{kind}_alarm")] = v
            continue
        if name == "foreshock_sensor_fault":
            out[(chip, f"{sensor}_fault")] = v
            continue
        mm = re.match(r"^foreshock_sensor_(temperature|fan|voltage|current|power)(_.*)?_(celsius|rpm|volts|amperes|watts)$", name)
        if not mm or "headroom" in name:
            continue
        part = (mm.group(2) or "_input")[1:].replace("hysteresis", "hyst")
        out[(chip, f"{sensor}_{part}")] = v
    return out, labels


def sensors_values(doc):
    out, labels = {}, {}
    for chip, body in doc.items():
        for label, attrs in body.items():
            if not isinstance(attrs, dict):
                continue  # "Adapter"
            for attr, v in attrs.items():
                out[(chip, attr)] = float(v)
                labels[(chip, attr.split("_")[0])] = label
    return out, labels


def node_values(text):
    out, labels = {}, {}
    for (name, ls), v in fslib.parse_metrics(text).items():
        ls = dict(ls)
        if name == "node_hwmon_sensor_label":
            labels[(ls["chip"], ls["sensor"])] = ls["label"]
            continue
        if not name.startswith("node_hwmon_") or name == "node_hwmon_chip_names":
            continue
        body = name[len("node_hwmon_"):]
        scaled_alarm = False
        for unit in ("_celsius", "_rpm", "_volts", "_amps", "_watt"):
            if body.endswith(unit):
                body = body[: -len(unit)]
                scaled_alarm = unit == "_celsius" and body.endswith("alarm")
                break
        rest = body.split("_", 1)[1] if "_" in body else "input"
        # node_exporter 1.5 scales every temp*_ file by 1/1000, alarms included.
        out[(ls["chip"], f"{ls['sensor']}_{rest}")] = v * 1000 if scaled_alarm else v
    return out, labels


def scrape_node_exporter(sysfs_root):
    binary = fslib.require_tool("prometheus-node-exporter")
    port = fslib.free_port()
    proc = subprocess.Popen([binary, f"--path.sysfs={sysfs_root}", "--collector.disable-defaults",
                             "--collector.hwmon", "--collector.thermal_zone",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                fail(f"node_exporter exited {proc.returncode}: {proc.stderr.read()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    return r.read().decode()
            except OSError:
                if time.monotonic() > deadline:
                    fail("node_exporter did not answer on its loopback port")
                time.sleep(0.1)
    finally:
        fslib.stop_process(proc, timeout=5)


def close(a, b, tol):
    return abs(a - b) <= tol


def main():
    fslib.require_tool("sensors")
    with Fixture() as fx:
        m, text, _ = fx.collect(CONFIG)
        fslib.promtool_check(text)
        fs, fs_labels = foreshock_values(m)
        p = fx.run(["sensors", "-c", "/dev/null", "-j"])
        lm, lm_labels = sensors_values(json.loads(p.stdout))
        ne, ne_labels = node_values(scrape_node_exporter(fx.sys))

        check(len(fs) > 40, f"foreshock exported only {len(fs)} hwmon values")
        # foreshock vs lm-sensors: same keys, same values (sensors prints 3 decimals).
        missing = set(lm) - set(fs) - FAULT_SUPPRESSED
        extra = set(fs) - set(lm)
        check(not missing, f"values sensors -j has and foreshock lacks: {sorted(missing)}")
        check(not extra, f"values foreshock has and sensors -j lacks: {sorted(extra)}")
        for k, v in fs.items():
            check(close(v, lm[k], 0.0005), f"{k}: foreshock {v} != sensors -j {lm[k]}")
        # Labels as lm-sensors prints them (the feature's label, or its name).
        for (chip, sensor), label in fs_labels.items():
            check(lm_labels.get((chip, sensor)) == label,
                  f"{chip}/{sensor}: label {label!r} != sensors -j {lm_labels.get((chip, sensor))!r}")

        # foreshock vs node_exporter (translated chip names).
        fs_node = {(NODE_CHIP[c], a): v for (c, a), v in fs.items()}
        suppressed = {(NODE_CHIP[c], a) for c, a in FAULT_SUPPRESSED}
        missing = set(ne) - set(fs_node) - suppressed
        extra = set(fs_node) - set(ne)
        check(not missing, f"values node_exporter has and foreshock lacks: {sorted(missing)}")
        check(not extra, f"values foreshock has and node_exporter lacks: {sorted(extra)}")
        for k, v in fs_node.items():
            check(close(v, ne[k], 1e-9 * max(1.0, abs(v))), f"{k}: foreshock {v} != node_exporter {ne[k]}")
        for (chip, sensor), label in fs_labels.items():
            nl = ne_labels.get((NODE_CHIP[chip], sensor))
            if nl is not None:  # node_exporter only knows labels from _label files
                check(nl == label, f"{chip}/{sensor}: label {label!r} != node_exporter {nl!r}")

        # Thermal zones and cooling devices against node_exporter's thermal_zone collector.
        nm = fslib.parse_metrics(scrape_node_exporter(fx.sys))
        zones = 0
        for (name, ls), v in m.items():
            ls = dict(ls)
            if name == "foreshock_thermal_zone_temperature_celsius":
                zones += 1
                nv = fslib.value(nm, "node_thermal_zone_temp", zone=ls["zone"].replace("thermal_zone", ""),
                                 type=ls["type"])
                check(nv is not None and close(v, nv, 1e-9), f"zone {ls}: {v} != node_exporter {nv}")
            if name in ("foreshock_cooling_device_cur_state", "foreshock_cooling_device_max_state"):
                want = {("name", ls["device"].replace("cooling_device", "")), ("type", ls["type"])}
                found = [x for (n, nls), x in nm.items()
                         if n == name.replace("foreshock_", "node_") and want <= set(nls)]
                nv = found[0] if len(found) == 1 else None
                check(nv == v, f"{name} {ls}: {v} != node_exporter {nv}")
        check(zones == 2, f"expected 2 thermal zones, got {zones}")
    print("ok")


if __name__ == "__main__":
    main()
