"""`foreshock collect` with the smart collector in replay mode over the shared SMART data.

Every smartctl --json report, every skdump blob and NVMe log pages encoded from the NVMe
values of those reports (spec layout, built here with struct) become disks. The output must
pass `promtool check metrics`, and for every file the exported values must equal what
smartctl / skdump themselves reported (read here with Python's json module, independently of
the agent's own JSON reader).
"""
import json
import os
import re
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fslib  # noqa: E402

SMART = os.path.join(fslib.TEST_DATA, "smart")
CW_BITS = ["available_spare", "temperature", "reliability", "read_only", "volatile_backup",
           "persistent_memory"]


def close(a, b):
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def label_of(rel):
    name = rel[:-5] if rel.endswith(".json") else rel
    name = name[:-5] if name.endswith(".nvme") else name
    return name.replace("/", "_")


def encode_nvme_page(log):
    """SMART / Health Information log page 02h (NVMe base spec), 512 bytes, little-endian."""
    page = bytearray(512)
    page[0] = log.get("critical_warning", 0)
    struct.pack_into("<H", page, 1, log["temperature"] + 273)
    page[3] = log.get("available_spare", 0)
    page[4] = log.get("available_spare_threshold", 0)
    page[5] = log.get("percentage_used", 0)
    for off, key in [(32, "data_units_read"), (48, "data_units_written"), (64, "host_reads"),
                     (80, "host_writes"), (96, "controller_busy_time"), (112, "power_cycles"),
                     (128, "power_on_hours"), (144, "unsafe_shutdowns"), (160, "media_errors"),
                     (176, "num_err_log_entries")]:
        struct.pack_into("<QQ", page, off, log.get(key, 0) & (2**64 - 1), log.get(key, 0) >> 64)
    struct.pack_into("<II", page, 192, log.get("warning_temp_time", 0), log.get("critical_comp_time", 0))
    for i, t in enumerate(log.get("temperature_sensors", [])[:8]):
        struct.pack_into("<H", page, 200 + 2 * i, t + 273)
    return bytes(page)


def main():
    tmp = tempfile.mkdtemp(prefix="fssm-replay-")
    try:
        os.symlink(SMART, os.path.join(tmp, "shared"))
        os.mkdir(os.path.join(tmp, "native"))
        reports = {}
        for root, _, files in os.walk(os.path.join(SMART, "smartctl-json")):
            for f in sorted(files):
                if not f.endswith(".json"):
                    continue
                path = os.path.join(root, f)
                with open(path) as fh:
                    doc = json.load(fh)
                if "devices" in doc and "device" not in doc:
                    continue  # smartctl --scan output
                rel = os.path.relpath(path, SMART)
                reports["shared_" + label_of(rel)] = doc
        nvme_pages = {}
        for label, doc in reports.items():
            log = doc.get("nvme_smart_health_information_log")
            if log:
                name = "native_" + label
                with open(os.path.join(tmp, "native", label + ".nvme"), "wb") as fh:
                    fh.write(encode_nvme_page(log))
                nvme_pages[name] = log
        with open(os.path.join(tmp, "native", "truncated.nvme"), "wb") as fh:
            fh.write(b"\0" * 100)
        cfg = os.path.join(tmp, "foreshock.yml")
        with open(cfg, "w") as fh:
            fh.write(f"collectors:\n  smart:\n    replay_dir: {tmp}\n    parallel_reads: 2\n")

        p = fslib.run([fslib.BIN, "--config", cfg, "--no-collector.self", "collect"])
        text = p.stdout
        fslib.promtool_check(text)
        m = fslib.parse_metrics(text)
        v = lambda name, **l: fslib.value(m, name, **l)  # noqa: E731

        fslib.check(not re.search(r'device="[^"]*(skdump|nvme-cli|scan)', text),
                    "skdump text, nvme-cli JSON and smartctl --scan files must not become disks")
        checked = 0
        for dev, doc in reports.items():
            name = os.path.basename(dev)
            if dev.endswith("standby-sdc"):
                fslib.check(v("foreshock_disk_up", device=dev) == 1, f"{dev}: standby disk is up")
                fslib.check(v("foreshock_disk_power_state", device=dev, state="standby") == 1,
                            f"{dev}: power state standby")
                fslib.check(v("foreshock_disk_standby_skips_total", device=dev) == 1, f"{dev}: one skip")
                fslib.check(v("foreshock_disk_temperature_celsius", device=dev) is None,
                            f"{dev}: no values for a skipped disk")
                continue
            if dev.endswith("nonexistent-device"):
                fslib.check(v("foreshock_disk_up", device=dev, reason="unknown_device_type") == 0,
                            f"{dev}: missing device is down with its reason")
                continue
            if dev.endswith("smartctl_info_hitachi_autodetect"):
                fslib.check(v("foreshock_disk_up", device=dev, reason="not_smart_capable") == 0,
                            f"{dev}: drive without SMART is down with its reason")
                continue
            fslib.check(v("foreshock_disk_up", device=dev) == 1, f"{dev}: up")
            passed = doc.get("smart_status", {}).get("passed")
            if passed is not None:
                fslib.check(v("foreshock_disk_smart_healthy", device=dev) == (1 if passed else 0),
                            f"{dev}: healthy == smart_status.passed ({passed})")
            temp = doc.get("temperature", {}).get("current")
            if temp is not None:
                fslib.check(close(v("foreshock_disk_temperature_celsius", device=dev), temp),
                            f"{dev}: temperature {temp}")
            pot = doc.get("power_on_time")
            if pot and "hours" in pot:
                want = pot["hours"] * 3600 + pot.get("minutes", 0) * 60
                fslib.check(close(v("foreshock_disk_power_on_seconds_total", device=dev), want),
                            f"{dev}: power-on {want}s")
            seen = set()
            for a in doc.get("ata_smart_attributes", {}).get("table", []):
                if a["id"] in seen:
                    continue
                seen.add(a["id"])
                if a["id"] in (5, 187, 188, 197, 198, 199):
                    got = v("foreshock_disk_ata_attribute_raw", device=dev, id=str(a["id"]))
                    fslib.check(close(got, a["raw"]["value"]),
                                f"{dev}: attribute {a['id']} raw {a['raw']['value']}, got {got}")
            for aid, fam in [(5, "reallocated_sectors"), (197, "pending_sectors"),
                             (198, "offline_uncorrectable_sectors")]:
                if aid in seen:
                    want = next(a["raw"]["value"] for a in doc["ata_smart_attributes"]["table"] if a["id"] == aid)
                    fslib.check(close(v("foreshock_disk_" + fam, device=dev), want), f"{dev}: {fam}")
            log = doc.get("nvme_smart_health_information_log")
            if log:
                fslib.check(close(v("foreshock_disk_media_errors_total", device=dev), log["media_errors"]),
                            f"{dev}: media errors")
                fslib.check(close(v("foreshock_disk_nvme_available_spare_ratio", device=dev),
                                  log["available_spare"] / 100), f"{dev}: spare")
                fslib.check(close(v("foreshock_disk_nvme_percentage_used_ratio", device=dev),
                                  log["percentage_used"] / 100), f"{dev}: percentage used")
                for bit, bname in enumerate(CW_BITS):
                    fslib.check(v("foreshock_disk_nvme_critical_warning", device=dev, bit=bname) ==
                                (log["critical_warning"] >> bit) & 1, f"{dev}: critical warning {bname}")
            if "scsi_grown_defect_list" in doc:
                fslib.check(v("foreshock_disk_scsi_grown_defects", device=dev) == doc["scsi_grown_defect_list"],
                            f"{dev}: grown defects")
            checked += 1
        fslib.check(checked >= 160, f"only {checked} smartctl reports compared")

        for dev, log in nvme_pages.items():
            fslib.check(v("foreshock_disk_up", device=dev) == 1, f"{dev}: native NVMe page is up")
            fslib.check(close(v("foreshock_disk_media_errors_total", device=dev), log["media_errors"]),
                        f"{dev}: media errors through the native decoder")
            fslib.check(close(v("foreshock_disk_temperature_celsius", device=dev), log["temperature"]),
                        f"{dev}: temperature through the native decoder")
            fslib.check(close(v("foreshock_disk_power_on_seconds_total", device=dev), log["power_on_hours"] * 3600),
                        f"{dev}: power-on hours through the native decoder")
        fslib.check(v("foreshock_disk_up", device="native_truncated", reason="replay_file_invalid") == 0,
                    "a truncated NVMe page is a down disk with reason replay_file_invalid")

        blobs = [f for f in os.listdir(os.path.join(SMART, "ata-blobs")) if f != "expected"]
        fslib.check(len(blobs) == 15, "15 blobs")
        for b in blobs:
            dev = "shared_ata-blobs_" + b
            fslib.check(v("foreshock_disk_up", device=dev) == 1, f"{dev}: up")
            with open(os.path.join(SMART, "ata-blobs", "expected", b + ".skdump.txt")) as fh:
                exp = fh.read()
            model = re.search(r"^Model: \[(.*)\]$", exp, re.M).group(1)
            fslib.check(v("foreshock_disk_up", device=dev, model=model) == 1, f"{dev}: model {model}")
            cyc = re.search(r"^Power Cycles: (\d+)$", exp, re.M)
            if cyc:
                fslib.check(v("foreshock_disk_power_cycles_total", device=dev) == int(cyc.group(1)),
                            f"{dev}: power cycles")
        fslib.check(v("foreshock_disk_smart_status", device="shared_ata-blobs_SAMSUNG_HD501LJ--CR100-12",
                      status="bad_sector") == 1, "libatasmart verdict bad_sector")
        # Seagate packed raw caution.
        fslib.check(v("foreshock_disk_ata_attribute_raw_packed", device="shared_ata-blobs_ST9100821AS--3.CME",
                      id="1") == 1, "Seagate attribute 1 is flagged packed")
        print(f"ok: {checked} smartctl reports, {len(nvme_pages)} NVMe pages, {len(blobs)} blobs")
    finally:
        for root, dirs, files in os.walk(tmp, topdown=False):
            for f in files:
                os.unlink(os.path.join(root, f))
            for d in dirs:
                p = os.path.join(root, d)
                os.unlink(p) if os.path.islink(p) else os.rmdir(p)
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
