"""The smart collector's live device path on a host WITHOUT SMART-capable disks.

This machine (and CI) has no ATA/NVMe/SCSI disk that answers SMART, so only the failure
paths of the live backends can be exercised for real: every disk still gets its up series
with a reason, never a crash and never silence. Covered here:
  - the real /sys and /dev of this host (whatever whole disks it has, e.g. a virtio disk);
  - the same disk forced through libatasmart, as root and as an unprivileged user;
  - a fake sysfs tree with an ATA disk whose node is not a block device, an ATA disk
    without a node, and an NVMe namespace whose controller node is a plain file;
  - smartctl replaced by stand-in scripts: argv without a shell (--nocheck, -d type), the
    standby exit (no read, power state standby), and a hung smartctl killed at its timeout;
  - the real smartctl (smartmontools) forced onto the host's disk: its output, with the
    collector's own argv (--json=o among it), is parsed and the failure reported with
    smartctl's own message, never "output invalid".
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fslib  # noqa: E402

SKIP = ("loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd")
STANDBY_JSON = os.path.join(fslib.TEST_DATA, "smart", "smartctl-json", "smartctl_exporter",
                            "from-open-prs", "standby-sdc.json")


def collect(cfg_text, tmp, extra=(), prefix=()):
    cfg = os.path.join(tmp, "cfg-%d.yml" % time.monotonic_ns())
    with open(cfg, "w") as fh:
        fh.write(cfg_text)
    os.chmod(tmp, 0o755)
    os.chmod(cfg, 0o644)
    p = fslib.run(list(prefix) + [fslib.BIN, "--config", cfg, "--no-collector.self"] + list(extra)
                  + ["collect"])
    fslib.promtool_check(p.stdout)
    m = fslib.parse_metrics(p.stdout)
    fslib.check(fslib.value(m, "foreshock_collector_success", collector="smart") == 1,
                "the smart collector succeeds even when every disk fails:\n" + p.stderr)
    return m, p.stdout, p.stderr


def reason_of(text, device):
    found = re.search(r'foreshock_disk_up\{device="%s"[^}]*reason="([^"]+)"\} 0' % re.escape(device), text)
    return found.group(1) if found else None


def real_host(tmp):
    disks = sorted(d for d in os.listdir("/sys/block")
                   if not d.startswith(SKIP) and not re.match(r"nvme\d+c\d+n\d+$", d))
    m, text, err = collect("collectors:\n  smart:\n    read_timeout: 30s\n", tmp)
    for name in os.listdir("/sys/block"):
        if name.startswith(SKIP):
            fslib.check(f'device="{name}"' not in text, f"{name} is not a disk and must not be listed")
    if not disks:
        print("no whole disk on this host: the real-device part is skipped (missing hardware)")
        return None
    for d in disks:
        fslib.check(fslib.value(m, "foreshock_disk_up", device=d) is not None, f"{d}: has an up series")
        fslib.check(fslib.value(m, "foreshock_disk_info", device=d) == 1, f"{d}: has an info series")
    print(f"real host disks: {disks}; reasons: {[reason_of(text, d) for d in disks]}")
    return disks[0]


def forced_ata(tmp, disk):
    cfg = f"collectors:\n  smart:\n    read_timeout: 30s\n    devices:\n      - device: {disk}\n        backend: ata\n"
    m, text, err = collect(cfg, tmp)
    if fslib.value(m, "foreshock_disk_up", device=disk) == 1:
        print(f"{disk} answers ATA SMART here; the failure path is not exercised")
        return
    r = reason_of(text, disk)
    fslib.check(r is not None, f"{disk} forced to ATA: up 0 with a reason")
    fslib.check(f"{disk}:" in err and "/dev/" + disk in err, f"one log line names {disk} and its node:\n{err}")
    nobody = shutil.which("setpriv")
    fslib.check(nobody is not None, "setpriv (util-linux) is needed")
    m, text, err = collect(cfg, tmp, prefix=[nobody, "--reuid=nobody", "--regid=nogroup",
                                             "--clear-groups", "--inh-caps=-all"])
    fslib.check(reason_of(text, disk) == "permission_denied",
                f"unprivileged: reason permission_denied, got {reason_of(text, disk)}")
    lines = [l for l in err.splitlines() if disk in l and "level=warn" in l]
    fslib.check(len(lines) == 1, f"exactly one log line for {disk}: {lines}")


def real_smartctl(tmp, disk):
    smartctl = fslib.require_tool("smartctl")
    cfg = (f"collectors:\n  smart:\n    read_timeout: 30s\n    smartctl_path: {smartctl}\n"
           f"    devices:\n      - device: {disk}\n        backend: smartctl\n        smartctl_type: scsi\n")
    m, text, err = collect(cfg, tmp)
    if fslib.value(m, "foreshock_disk_up", device=disk) == 1:
        print(f"{disk} answers SCSI SMART through smartctl here; the failure path is not exercised")
        return
    r = reason_of(text, disk)
    fslib.check(r not in (None, "smartctl_output_invalid", "smartctl_missing"),
                f"{disk} through the real smartctl: reason {r}, stderr:\n{err}")
    fslib.check(f"{disk}:" in err, f"no log line names {disk}:\n{err}")
    print(f"real smartctl on {disk}: reason {r}")


def fake_tree(tmp):
    sysfs = os.path.join(tmp, "sys")
    dev = os.path.join(tmp, "dev")
    os.makedirs(os.path.join(sysfs, "block"))
    os.makedirs(dev)

    def disk(devpath, name, files):
        d = os.path.join(sysfs, "devices", devpath, "block", name)
        os.makedirs(d)
        os.symlink(d, os.path.join(sysfs, "block", name))
        for rel, content in files.items():
            p = os.path.join(d, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as fh:
                fh.write(content)
        return d

    disk("pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0", "sda", {"size": "100\n"})
    disk("pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0", "sdb", {"size": "100\n"})
    ctrl = os.path.join(sysfs, "devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0")
    d = disk("pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0", "nvme0n1", {"size": "100\n"})
    os.symlink(ctrl, os.path.join(d, "device"))
    disk("pci0000:00/0000:00:03.0/0000:02:00.0/host2/port-2:0/end_device-2:0/target2:0:0/2:0:0:0",
         "sdc", {"size": "100\n"})
    for node in ("sda", "nvme0", "sdc"):
        with open(os.path.join(dev, node), "w") as fh:
            fh.write("not a device\n")
    return sysfs, dev


def fake_devices(tmp):
    sysfs, dev = fake_tree(tmp)
    # Each run records its argv in a file of its own: the collector runs disks in parallel, so
    # appends to one shared log would interleave.
    argv_dir = os.path.join(tmp, "smartctl-argv")
    os.makedirs(argv_dir)
    stub = os.path.join(tmp, "smartctl-standby")
    with open(stub, "w") as fh:
        fh.write(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(mktemp {argv_dir}/run.XXXXXX)\"\n"
                 f"cat {STANDBY_JSON}\nexit 2\n")
    os.chmod(stub, 0o755)
    cfg = (f"collectors:\n  smart:\n    read_timeout: 30s\n    smartctl_path: {stub}\n"
           "    devices:\n      - device: sdc-megaraid0\n        node: sdc\n        smartctl_type: megaraid,0\n")
    m, text, err = collect(cfg, tmp, extra=["--path.sysfs", sysfs, "--path.devfs", dev])
    v = lambda n, **l: fslib.value(m, n, **l)  # noqa: E731
    print("fake tree reasons:", {d: reason_of(text, d) for d in ("sda", "sdb", "nvme0n1")})
    fslib.check(reason_of(text, "sda") in ("not_smart_capable", "read_failed", "no_device"),
                f"sda (node is a plain file): up 0 with a reason, got {reason_of(text, 'sda')}")
    fslib.check(reason_of(text, "sdb") == "no_device", f"sdb (no node): no_device, got {reason_of(text, 'sdb')}")
    fslib.check(reason_of(text, "nvme0n1") == "not_smart_capable",
                f"nvme0n1 (controller node is a file): not_smart_capable, got {reason_of(text, 'nvme0n1')}")
    fslib.check(v("foreshock_disk_info", device="sda", transport="ata", backend="ata") == 1, "sda is ATA")
    fslib.check(v("foreshock_disk_info", device="nvme0n1", transport="nvme", backend="nvme") == 1, "nvme")
    for d in ("sdc", "sdc-megaraid0"):
        fslib.check(v("foreshock_disk_up", device=d) == 1, f"{d}: a standby disk answered")
        fslib.check(v("foreshock_disk_power_state", device=d, state="standby") == 1, f"{d}: standby")
        fslib.check(v("foreshock_disk_standby_skips_total", device=d) == 1, f"{d}: one skip")
    runs = []
    for name in sorted(os.listdir(argv_dir)):
        with open(os.path.join(argv_dir, name)) as fh:
            runs.append(fh.read().strip().split("\n"))
    fslib.check(len(runs) == 2, f"smartctl ran once per disk: {runs}")
    for argv in runs:
        fslib.check("--json=o" in argv and "--nocheck=standby" in argv, f"argv {argv}")
    mega = [a for a in runs if a[-1].endswith("/sdc") and "megaraid,0" in a]
    fslib.check(len(mega) == 1 and mega[0][mega[0].index("-d") + 1] == "megaraid,0",
                f"the config entry passes -d megaraid,0 as one argument: {runs}")


def hung_smartctl(tmp):
    os.makedirs(os.path.join(tmp, "h"))
    sysfs, dev = fake_tree(os.path.join(tmp, "h"))
    pidfile = os.path.join(tmp, "hung.pid")
    stub = os.path.join(tmp, "smartctl-hangs")
    with open(stub, "w") as fh:
        fh.write(f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 300\n")
    os.chmod(stub, 0o755)
    cfg = (f"collectors:\n  smart:\n    read_timeout: 20s\n    smartctl_path: {stub}\n"
           "    smartctl_timeout: 1s\n    include: ^sdc$\n")
    m, text, err = collect(cfg, tmp, extra=["--path.sysfs", sysfs, "--path.devfs", dev])
    fslib.check(reason_of(text, "sdc") == "timeout", f"hung smartctl: reason timeout, got {reason_of(text, 'sdc')}")
    with open(pidfile) as fh:
        pid = int(fh.read())
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    if alive:
        os.kill(pid, 9)
    fslib.check(not alive, "the hung smartctl was killed at its timeout")


def main():
    tmp = tempfile.mkdtemp(prefix="fssm-live-")
    try:
        disk = real_host(tmp)
        if disk:
            forced_ata(tmp, disk)
            real_smartctl(tmp, disk)
        fake_devices(tmp)
        hung_smartctl(tmp)
        print("ok")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
