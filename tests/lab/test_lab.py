"""The hardware lab: the real foreshock .deb installed in a Debian guest booted by QEMU (TCG),
with the Debian kernel and systemd as PID 1, reads SMART from emulated ATA, NVMe and SCSI disks
through the shipped, hardened unit; survives a watchdog stop, a reload and a reboot with its
history; and reports faults injected through QEMU's monitor.

Stages (each prints its timing; the run fails at the first broken promise):
 1. image: scripts/lab-image.sh builds the guest root (mmdebstrap) or reuses the cached one
    in <build>/lab; the .deb is built by packaging/build-deb.sh from this build's binary.
 2. boot + install: dpkg -i in the guest; the package's postinst starts the service; systemd
    reports it Type=notify, active, with a watchdog.
 3. SMART through the hardening: foreshock_disk_up 1 and QEMU's own SMART values for the ATA
    (libatasmart, AHCI), NVMe (admin ioctl) and SCSI (smartctl, virtio-scsi) disks, read by
    the service under its shipped sandbox (User=foreshock, DevicePolicy=closed, ...).
 4. watchdog: SIGSTOP of the agent; systemd's watchdog kills it and Restart= brings it back.
 5. reload: a changed config (lldp disabled) is applied by `systemctl reload` in the same
    process.
 6. reboot: the service is active after boot, the history saved at shutdown is loaded.
 7. NVMe critical warning set at run time with qom-set (smart_critical_warning) -> the bit
    series, the health verdict (critical) and `foreshock check` exit 2 in the guest.
 8. kernel-reported faults: blkdebug EIO, ext4 error and read-only remount, md member failed,
    PCIe AER uncorrectable (non-fatal), corrected machine check, NVMe timeout and controller
    reset -> the kernel collector's series, the health verdicts and `foreshock check`.

Needs root (mmdebstrap) and, on the first run, the Debian mirror of the machine's apt sources.
Environment: FORESHOCK_BIN, FORESHOCK_SOURCE_DIR, FORESHOCK_BUILD_DIR (from CTest);
FORESHOCK_LAB_KEEP=1 keeps the lab's temporary directory (console log, overlay images).
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from fslib import BIN, SOURCE_DIR, check, fail, parse_metrics, require_root, require_tool, value  # noqa: E402
from qemu_lab import Lab, log  # noqa: E402

BUILD_DIR = os.environ.get("FORESHOCK_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
ATA, NVME, SCSI = "FSLABATA0001", "FSLABNVME0001", "FSLABSCSI0001"

# The agent's configuration in the guest: SMART read every 20 s instead of 5 min so that the
# lab sees each step within a few cycles; history saved often so that a reboot has some.
GUEST_CONFIG = """\
web:
  listen_addresses: [":19100"]
state:
  directory: /var/lib/foreshock
  save_interval: 30s
log:
  level: info
health:
  enabled: true
collectors:
  self: {enabled: true, interval: 15s, timeout: 5s}
  smart: {enabled: true, interval: 20s, timeout: 19s, read_timeout: 15s}
  lldp: {enabled: %s}
  kernel: {enabled: true, read_existing: true}
"""

# The shipped unit's watchdog is 60 s; the lab shortens it (a drop-in, like an operator would)
# so that the watchdog stage takes seconds, not minutes. Nothing else of the unit is changed.
WATCHDOG_DROPIN = "[Service]\nWatchdogSec=20s\n"

TIMES = {}
# FORESHOCK_LAB_STAGES=kernel,... runs only those of the optional stages (watchdog, reload,
# reboot, nvme, kernel) after boot, install and SMART, for work on one of them; default: all.
STAGES = set(filter(None, os.environ.get("FORESHOCK_LAB_STAGES", "watchdog,reload,reboot,nvme,kernel").split(",")))


def timed(name):
    class T:
        def __enter__(self):
            self.t0 = time.monotonic()
            log(f"stage {name} ...")

        def __exit__(self, *exc):
            TIMES[name] = time.monotonic() - self.t0
            if exc[0] is None:
                log(f"stage {name} done in {TIMES[name]:.1f}s")
    return T()


def disk_series(metrics, name, serial, **labels):
    return value(metrics, name, serial=serial, **labels)


class Guest:
    def __init__(self, lab):
        self.lab = lab
        self.g = lab.qga

    def sh(self, script, **kw):
        return self.g.sh(script, **kw)

    def unit(self, *props):
        out = self.sh("systemctl show foreshock -p " + ",".join(props))
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def metrics(self):
        return parse_metrics(self.lab.metrics(timeout=20))

    def wait_metrics(self, pred, timeout, what):
        """Scrapes the guest agent (through the hostfwd) until pred(metrics) is true."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.metrics()
                if pred(last):
                    return last
            except OSError:
                pass  # the agent is restarting
            time.sleep(3)
        journal = self.sh("journalctl -u foreshock --no-pager -n 40", check=False)
        fail(f"timed out after {timeout}s waiting for {what}\njournal: {journal}\n"
             f"last scrape: {sorted(k for k in (last or {}) if k[0].startswith('foreshock_disk_up'))}")

    def wait_active(self, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            u = self.unit("ActiveState", "SubState", "MainPID")
            if u.get("ActiveState") == "active" and u.get("SubState") == "running":
                return u
            time.sleep(2)
        fail(f"foreshock.service not active after {what}: {self.unit('ActiveState', 'SubState', 'Result')}\n"
             + self.sh("journalctl -u foreshock --no-pager -n 30", check=False)[1])


def stage_install(guest):
    g = guest
    g.sh("mkdir -p /mnt/lab && mount -o ro LABEL=labdata /mnt/lab")
    out = g.sh("dpkg -i /mnt/lab/foreshock.deb 2>&1")
    log("dpkg: " + out.strip().splitlines()[-1])
    u = g.wait_active(180, "install")
    props = g.unit("Type", "NotifyAccess", "WatchdogUSec", "User", "DevicePolicy", "UnitFileState")
    check(props.get("Type") == "notify" and props.get("NotifyAccess") == "main",
          f"installed unit is not Type=notify/NotifyAccess=main: {props}")
    check(props.get("UnitFileState") == "enabled", f"package did not enable the unit: {props}")
    check(props.get("User") == "foreshock", f"service does not run as foreshock: {props}")
    # The lab's config and watchdog drop-in, then a restart: the config as an operator sets it.
    g.sh("mkdir -p /etc/systemd/system/foreshock.service.d && "
         f"printf '{WATCHDOG_DROPIN}' > /etc/systemd/system/foreshock.service.d/lab.conf && "
         "cp /mnt/lab/foreshock.yml /etc/foreshock/foreshock.yml && "
         "foreshock --config /etc/foreshock/foreshock.yml --check-config && "
         "systemctl daemon-reload && systemctl restart foreshock")
    u = g.wait_active(180, "restart with the lab config")
    wd = g.unit("WatchdogUSec")["WatchdogUSec"]
    check(wd in ("20s", "20000000"), f"watchdog not armed from the drop-in: {wd}")
    status = g.unit("StatusText")["StatusText"]
    check(status.startswith("serving metrics on"), f"sd_notify STATUS= seen by systemd: {status!r}")
    log(f"systemd: Type=notify, watchdog {wd}, status {status!r}")
    return int(u["MainPID"])


def stage_smart(guest):
    def all_up(m):
        return all(disk_series(m, "foreshock_disk_up", s) == 1 for s in (ATA, NVME, SCSI))
    m = guest.wait_metrics(all_up, 180, "foreshock_disk_up 1 for the ATA, NVMe and SCSI disks")
    for serial, backend in ((ATA, "ata"), (NVME, "nvme"), (SCSI, "smartctl")):
        info = [dict(ls) for (n, ls), v in m.items() if n == "foreshock_disk_info" and dict(ls).get("serial") == serial]
        check(len(info) == 1 and info[0].get("backend") == backend,
              f"disk {serial}: expected backend {backend}, info {info}")
        log(f"disk {info[0].get('device')} ({serial}) up via {backend}")
    # QEMU's own SMART data, read through the real paths:
    # ATA (hw/ide/core.c): attribute 190 airflow temperature raw 0x1f = 31 C, drive reports passed.
    # libatasmart cannot read it on Debian 12's kernel (fixed-format sense, see live_source.cc),
    # so this value comes through the ATA backend's smartctl fallback.
    check(disk_series(m, "foreshock_disk_temperature_celsius", ATA) == 31,
          f"ATA temperature {disk_series(m, 'foreshock_disk_temperature_celsius', ATA)} != 31 (QEMU IDE)")
    check(disk_series(m, "foreshock_disk_smart_healthy", ATA) == 1, "ATA disk not healthy")
    # NVMe (hw/nvme/ctrl.c): composite temperature 323 K, no critical warning bit; read with the
    # admin ioctl on the namespace node (/dev/nvme0 is root-only on Debian).
    check(disk_series(m, "foreshock_disk_temperature_celsius", NVME) == 50,
          f"NVMe temperature {disk_series(m, 'foreshock_disk_temperature_celsius', NVME)} != 50 (QEMU nvme 323 K)")
    check(disk_series(m, "foreshock_disk_smart_healthy", NVME) == 1, "NVMe disk not healthy")
    for bit in ("available_spare", "temperature", "reliability", "read_only", "volatile_backup"):
        check(disk_series(m, "foreshock_disk_nvme_critical_warning", NVME, bit=bit) == 0,
              f"NVMe critical warning bit {bit} set before any injection")
    # SCSI through smartctl --json: QEMU's scsi-hd has no SMART log pages, so smartctl reports the
    # disk without health data; what proves the path is that smartctl ran (its exit status is
    # exported) through the sandbox and the disk answered.
    st = disk_series(m, "foreshock_disk_smartctl_exit_status", SCSI)
    check(st is not None, "SCSI disk has no smartctl exit status: smartctl did not run on it")
    log(f"SCSI smartctl exit status {st:.0f}; ATA temperature 31 C; NVMe temperature 50 C")
    return m


def stage_watchdog(guest, pid):
    guest.sh(f"kill -STOP {pid}")
    t0 = time.monotonic()
    deadline = t0 + 150
    while time.monotonic() < deadline:
        u = guest.unit("MainPID", "ActiveState", "NRestarts")
        if u.get("MainPID") not in (str(pid), "0") and u.get("ActiveState") == "active":
            break
        time.sleep(2)
    else:
        fail(f"systemd did not restart the stopped agent: {guest.unit('MainPID', 'ActiveState', 'Result')}")
    journal = guest.sh("journalctl -u foreshock --no-pager -n 60")
    check("Watchdog timeout" in journal, f"the restart was not the watchdog's:\n{journal}")
    new = int(u["MainPID"])
    log(f"watchdog killed {pid}, systemd restarted the agent as {new} after {time.monotonic() - t0:.0f}s"
        f" (NRestarts={u.get('NRestarts')})")
    guest.wait_active(120, "the watchdog restart")
    return new


def stage_reload(guest, pid):
    m = guest.metrics()
    check(value(m, "foreshock_collector_success", collector="lldp") is not None, "lldp not running before reload")
    guest.sh("cp /mnt/lab/foreshock-nolldp.yml /etc/foreshock/foreshock.yml && systemctl reload foreshock")
    guest.wait_metrics(lambda m: value(m, "foreshock_collector_success", collector="lldp") is None,
                       90, "the lldp collector to be gone after the reload")
    u = guest.unit("MainPID", "ActiveState")
    check(int(u["MainPID"]) == pid and u["ActiveState"] == "active", f"reload restarted the agent: {u} (was {pid})")
    journal = guest.sh("journalctl -u foreshock --no-pager -n 30")
    check("configuration reloaded from /etc/foreshock/foreshock.yml" in journal, f"no reload in the journal:\n{journal}")


def stage_reboot(guest, lab):
    # The agent may have been restarted seconds ago (watchdog stage): wait for its first health
    # cycles to record points and for one save, so that the reboot has history to keep.
    m = guest.wait_metrics(lambda m: (value(m, "foreshock_health_history_points") or 0) > 0 and
                           (value(m, "foreshock_health_history_saves_total") or 0) > 0, 120,
                           "history points and a save before the reboot")
    saves = value(m, "foreshock_health_history_saves_total") or 0
    points = value(m, "foreshock_health_history_points")
    lab.reboot()
    u = guest.wait_active(180, "the reboot")
    check(guest.unit("UnitFileState")["UnitFileState"] == "enabled", "unit not enabled after reboot")
    m = guest.wait_metrics(lambda m: value(m, "foreshock_health_history_points") is not None, 120,
                           "the agent's history after the reboot")
    after = value(m, "foreshock_health_history_points")
    check(value(m, "foreshock_health_history_load_rejected") == 0, "history rejected after the reboot")
    check(after >= points, f"history lost over the reboot: {points} points before, {after} after")
    log(f"history: {points:.0f} points before the reboot ({saves:.0f} saves), {after:.0f} after")
    return int(u["MainPID"])


def stage_nvme_critical_warning(guest, lab):
    dev = lab.qmp
    # Bit 1 (0x02): temperature above threshold... use bit 2 (0x04, reliability degraded).
    dev.execute("qom-set", path="/machine/peripheral/nvme0", property="smart_critical_warning", value=4)
    m = guest.wait_metrics(
        lambda m: disk_series(m, "foreshock_disk_nvme_critical_warning", NVME, bit="reliability") == 1,
        120, "the NVMe reliability critical-warning bit")
    check(disk_series(m, "foreshock_disk_smart_healthy", NVME) == 0, "NVMe still healthy with a critical warning")
    status = [v for (n, ls), v in m.items() if n == "foreshock_health_status"
              and dict(ls).get("check") == "nvme_critical_warning" and dict(ls).get("serial") == NVME]
    check(status == [2], f"health verdict for the NVMe critical warning: {status} (want [2])")
    rc, out, err = guest.sh("foreshock --config /etc/foreshock/foreshock.yml check --format json", check=False)
    report = json.loads(out)
    check(rc == 2 and report["status"] == "critical", f"foreshock check exit {rc}, status {report.get('status')}")
    found = [c for cat in report["categories"] for comp in cat["components"] for c in comp["checks"]
             if c["check"] == "nvme_critical_warning" and c["severity"] == "critical"]
    check(found, f"foreshock check does not report the NVMe critical warning:\n{out}")
    log(f"NVMe critical warning -> health status 2, check: {found[0]['summary']}")


# ---- kernel-reported hardware errors (collectors/kernel) --------------------------------------

FIXTURE_DIR = os.path.join(SOURCE_DIR, "tests", "fixtures", "kernel")


class Kmsg:
    """The guest kernel's log as /dev/kmsg hands it out, read from a sequence number on."""

    def __init__(self, guest):
        self.guest = guest
        self.captured = {}

    def records(self):
        # /dev/kmsg blocks at its end: timeout ends the read (exit 124 is expected).
        rc, out, err = self.guest.sh("timeout 3 cat /dev/kmsg", check=False)
        recs, cur = [], None
        for line in out.splitlines():
            if line.startswith(" ") and cur is not None:
                cur.append(line)
            elif ";" in line:
                cur = [line]
                recs.append(cur)
        return recs

    def mark(self):
        recs = self.records()
        return int(recs[-1][0].split(",")[1]) if recs else -1

    def since(self, seq):
        return [r for r in self.records() if int(r[0].split(",")[1]) > seq and int(r[0].split(",")[0]) < 8]

    def capture(self, name, seq, must_contain):
        recs = self.since(seq)
        text = "\n".join("\n".join(r) for r in recs) + "\n"
        check(must_contain in text, f"{name}: the guest kernel did not log {must_contain!r}:\n{text}")
        self.captured[name] = text
        return text


def serial_to_dev(guest, serial):
    out = guest.sh("lsblk -dn -o NAME,SERIAL")
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == serial:
            return parts[0]
    fail(f"no disk with serial {serial} in the guest:\n{out}")


def counter(m, name, **labels):
    return value(m, name, **labels) or 0


def verdict(m, check_name, component_prefix):
    """The worst foreshock_health_status of one check over the components under a prefix."""
    vals = [v for (n, ls), v in m.items() if n == "foreshock_health_status"
            and dict(ls).get("check") == check_name and dict(ls).get("component", "").startswith(component_prefix)]
    return max(vals) if vals else None


def wait_verdict(guest, check_name, component_prefix, want, what):
    m = guest.wait_metrics(lambda m: verdict(m, check_name, component_prefix) == want, 90,
                           f"health check {check_name} on {component_prefix}* to be {want} ({what})")
    log(f"  health: {check_name} on {component_prefix}* = {want}")
    return m


def fault_block_eio(guest, kmsg):
    dev = serial_to_dev(guest, "FSLABEIO0001")
    seq = kmsg.mark()
    rc, out, err = guest.sh(f"dd if=/dev/{dev} of=/dev/null bs=512 skip=1000 count=8 iflag=direct", check=False)
    check(rc != 0 and "Input/output error" in err, f"blkdebug did not fail the read of {dev}: {rc} {err}")
    kmsg.capture("block_io_error_scsi", seq, f"I/O error, dev {dev}")
    guest.wait_metrics(lambda m: counter(m, "foreshock_kernel_block_io_errors_total", device=dev) >= 1, 90,
                       f"foreshock_kernel_block_io_errors_total{{device={dev}}}")
    log(f"blkdebug EIO on {dev} -> foreshock_kernel_block_io_errors_total{{device={dev}}} >= 1")
    wait_verdict(guest, "block_io_errors", f"kernel/disk/{dev}", 2, "I/O errors in the last hour")
    return dev


def fault_fs_readonly(guest, kmsg):
    dev = serial_to_dev(guest, "LABFS")
    guest.sh(f"mkfs.ext4 -q -F /dev/{dev} && mkdir -p /mnt/fs && mount -o errors=remount-ro /dev/{dev} /mnt/fs")
    seq = kmsg.mark()
    # ext4's own error path, entered through its sysfs test hook: the same ext4_error() and
    # errors=remount-ro handling a corrupted inode or a failed metadata read goes through.
    guest.sh(f"echo 'foreshock lab injected error' > /sys/fs/ext4/{dev}/trigger_fs_error")
    text = kmsg.capture("ext4_error_remount_ro", seq, "EXT4-fs error (device " + dev)
    check("read-only" in text, f"ext4 did not remount read-only:\n{text}")
    # Writes now fail; /proc/mounts of Debian's 6.1 kernel still says rw at this point (the
    # superblock, not the mount, is read-only), so the write is what is checked.
    rc, _, err = guest.sh("echo x > /mnt/fs/after-error", check=False)
    check(rc != 0 and "Read-only" in err, f"a write after the error did not fail read-only: {rc} {err}")
    guest.wait_metrics(lambda m: counter(m, "foreshock_kernel_fs_errors_total", device=dev) >= 1 and
                       counter(m, "foreshock_kernel_fs_readonly_total", device=dev) >= 1, 90,
                       f"foreshock_kernel_fs_errors_total and _fs_readonly_total for {dev}")
    log(f"ext4 error on {dev} -> fs_errors_total and fs_readonly_total")
    wait_verdict(guest, "fs_readonly", f"kernel/fs/{dev}", 2, "remounted read-only")
    wait_verdict(guest, "fs_errors", f"kernel/fs/{dev}", 1, "ext4 error")


def fault_mce(guest, kmsg, lab):
    # A corrected memory-read error in bank 1; the kernel finds it at its next poll (1 s here).
    guest.sh("echo 1 > /sys/devices/system/machinecheck/machinecheck0/check_interval")
    seq = kmsg.mark()
    lab.qmp.hmp("mce 0 1 0x900000000000009f 0x0 0x0 0x0")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = "\n".join("\n".join(r) for r in kmsg.since(seq))
        if "Hardware Error" in text or "Machine check" in text:
            break
        time.sleep(3)
    kmsg.capture("mce_corrected", seq, "Hardware Error")
    guest.wait_metrics(lambda m: sum(v for (n, ls), v in m.items() if n == "foreshock_kernel_mce_events_total") >= 1,
                       90, "foreshock_kernel_mce_events_total")
    m = wait_verdict(guest, "machine_checks", "kernel/", 1, "a corrected machine check")
    kinds = {dict(ls).get("kind"): v for (n, ls), v in m.items() if n == "foreshock_kernel_mce_events_total"}
    check(kinds.get("corrected", 0) >= 1 and not kinds.get("uncorrected"),
          f"the corrected MCE was not classed corrected: {kinds}")
    log(f"mce (corrected, bank 1) -> foreshock_kernel_mce_events_total {kinds}")


def fault_pcie_aer(guest, kmsg, lab):
    """An uncorrectable (non-fatal) Completion Timeout injected on the NVMe's root port.

    Only uncorrectable errors reach the guest: QEMU 7.2's pcie_aer_msg_alldev() (hw/pci/
    pcie_aer.c) drops every message that is not uncorrectable, so a correctable injection
    (-c) only sets the port's Correctable Error Status bit (lspci: CESta Timeout+) and never
    raises the root port's interrupt (RootSta CERcvd-): the guest kernel cannot see it."""
    port = guest.sh("basename $(readlink -f /sys/class/nvme/nvme0/device/..)").strip()
    seq = kmsg.mark()
    lab.qmp.hmp("pcie_aer_inject_error rp1 COMP_TIME")  # non-fatal by the port's UESvrt
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "AER: " not in "\n".join("\n".join(r) for r in kmsg.since(seq)):
        time.sleep(2)
    kmsg.capture("pcie_aer_nonfatal", seq, "AER: Uncorrected (Non-Fatal) error message received from " + port)
    guest.wait_metrics(lambda m: counter(m, "foreshock_kernel_pcie_aer_errors_total", device=port, **{"class": "nonfatal"}) >= 1
                       and counter(m, "foreshock_pcie_aer_errors_total", device=port, **{"class": "nonfatal"}) >= 1,
                       90, f"kernel_pcie_aer_errors_total and pcie_aer_errors_total (aer_dev_nonfatal) of {port}")
    wait_verdict(guest, "pcie_aer", "kernel/pcie/", 2, "an uncorrectable AER error")
    sysfs = guest.sh(f"tail -n1 /sys/bus/pci/devices/{port}/aer_dev_nonfatal")
    log(f"AER non-fatal CmpltTO on {port} -> kernel_pcie_aer_errors_total and {sysfs.strip()}")
    return port


def fault_nvme_timeout(guest, kmsg, lab):
    """The NVMe namespace stops answering in time: QEMU's I/O throttling (block_set_io_throttle,
    3000 B/s of reads) holds the second of two 64 KiB reads ~21 s; with nvme_core.io_timeout=5
    the guest driver times the command out, aborts it, times it out again and resets the
    controller. (A blkdebug breakpoint would hold the request forever, and QEMU's nvme
    controller reset cancels its requests synchronously: QEMU would hang; a throttled request
    completes.)"""
    seq = kmsg.mark()
    lab.qmp.execute("block_set_io_throttle", device="nvm", bps=0, bps_rd=3000, bps_wr=0,
                    iops=0, iops_rd=0, iops_wr=0)
    try:
        guest.sh("timeout 150 dd if=/dev/nvme0n1 of=/dev/null bs=64k count=2 iflag=direct",
                 timeout=180)
    finally:
        lab.qmp.execute("block_set_io_throttle", device="nvm", bps=0, bps_rd=0, bps_wr=0,
                        iops=0, iops_rd=0, iops_wr=0)
    text = kmsg.capture("nvme_timeout_reset", seq, "timeout, reset controller")
    check("timeout, aborting" in text, f"no NVMe abort before the reset:\n{text}")
    guest.wait_metrics(lambda m: counter(m, "foreshock_kernel_nvme_timeouts_total", device="nvme0") >= 1 and
                       counter(m, "foreshock_kernel_nvme_resets_total", device="nvme0") >= 1, 90,
                       "foreshock_kernel_nvme_timeouts_total and _resets_total of nvme0")
    m = wait_verdict(guest, "nvme_resets", "kernel/nvme/nvme0", 1, "an NVMe timeout and reset")
    log(f"NVMe throttled -> timeouts {counter(m, 'foreshock_kernel_nvme_timeouts_total', device='nvme0'):.0f}, "
        f"resets {counter(m, 'foreshock_kernel_nvme_resets_total', device='nvme0'):.0f}")


def fault_ata_link_reset(guest, kmsg, lab):
    """The AHCI disk stops answering in time: the same read throttling as for NVMe, with the
    disk's SCSI command timeout at 5 s, makes libata's error handler freeze the port
    ("exception Emask ... frozen") and hard-reset the link. The throttle is lifted as soon as
    the reset is logged (QEMU's AHCI reset waits for the held request)."""
    dev = serial_to_dev(guest, ATA)
    guest.sh(f"echo 5 > /sys/block/{dev}/device/timeout")
    seq = kmsg.mark()
    lab.qmp.execute("block_set_io_throttle", device="ata", bps=0, bps_rd=3000, bps_wr=0,
                    iops=0, iops_rd=0, iops_wr=0)
    try:
        guest.sh(f"(timeout 150 dd if=/dev/{dev} of=/dev/null bs=64k count=2 iflag=direct "
                 ">/dev/null 2>&1 &)")
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and \
                "hard resetting link" not in "\n".join("\n".join(r) for r in kmsg.since(seq)):
            time.sleep(2)
    finally:
        lab.qmp.execute("block_set_io_throttle", device="ata", bps=0, bps_rd=0, bps_wr=0,
                        iops=0, iops_rd=0, iops_wr=0)
    guest.sh("while pgrep -x dd >/dev/null; do sleep 1; done", timeout=180)
    text = kmsg.capture("ata_timeout_link_reset", seq, "hard resetting link")
    check("exception Emask" in text, f"no libata exception before the link reset:\n{text}")
    port = re.search(r"(ata\d+): hard resetting link", text).group(1)
    m = guest.wait_metrics(lambda m: counter(m, "foreshock_kernel_ata_link_resets_total", port=port) >= 1 and
                           counter(m, "foreshock_kernel_ata_exceptions_total", port=port) >= 1, 90,
                           f"foreshock_kernel_ata_link_resets_total and _exceptions_total of {port}")
    wait_verdict(guest, "ata_link_resets", f"kernel/ata/{port}", 1, "an ATA link reset")
    log(f"ATA {dev} throttled -> {port} link resets "
        f"{counter(m, 'foreshock_kernel_ata_link_resets_total', port=port):.0f}, exceptions "
        f"{counter(m, 'foreshock_kernel_ata_exceptions_total', port=port):.0f}")


def fault_md_degraded(guest, kmsg):
    a, b = serial_to_dev(guest, "LABMD0"), serial_to_dev(guest, "LABMD1")
    guest.sh(f"mdadm --create /dev/md0 --run --level=1 --raid-devices=2 --metadata=1.2 --assume-clean "
             f"/dev/{a} /dev/{b} 2>&1")
    seq = kmsg.mark()
    guest.sh(f"mdadm /dev/md0 --fail /dev/{b} 2>&1")
    kmsg.capture("md_raid1_disk_failure", seq, "Disk failure on " + b)
    guest.wait_metrics(lambda m: counter(m, "foreshock_kernel_md_disk_failures_total", array="md0") >= 1 and
                       sum(v for (n, ls), v in m.items() if n == "foreshock_md_degraded" and dict(ls).get("array", dict(ls).get("device")) == "md0") >= 1,
                       90, "md0 degraded in foreshock_md_degraded and kernel_md_disk_failures_total")
    log(f"md0 (raid1 {a}+{b}) with {b} failed -> md_degraded 1, kernel_md_disk_failures_total 1")
    m = guest.metrics()
    check(verdict(m, "md_degraded", "kernel/md/md0") == 2, f"md_degraded verdict {verdict(m, 'md_degraded', 'kernel/md/md0')}")


def stage_kernel_faults(guest, lab):
    kmsg = Kmsg(guest)
    try:
        fault_block_eio(guest, kmsg)
        fault_fs_readonly(guest, kmsg)
        fault_md_degraded(guest, kmsg)
        fault_pcie_aer(guest, kmsg, lab)
        fault_mce(guest, kmsg, lab)
        fault_nvme_timeout(guest, kmsg, lab)
        fault_ata_link_reset(guest, kmsg, lab)
        check_report_kernel(guest)
    finally:
        # FORESHOCK_LAB_WRITE_FIXTURES=1 refreshes tests/fixtures/kernel from this run.
        if os.environ.get("FORESHOCK_LAB_WRITE_FIXTURES"):
            write_fixtures(kmsg, lab, guest)


def check_report_kernel(guest):
    """`foreshock check` in the guest (one-shot, read_existing) reports every injected fault."""
    rc, out, err = guest.sh("foreshock --config /etc/foreshock/foreshock.yml check --format json", check=False)
    report = json.loads(out)
    found = {(c["check"], c["severity"]) for cat in report["categories"] for comp in cat["components"]
             for c in comp["checks"]}
    want = [("block_io_errors", "critical"), ("fs_readonly", "critical"), ("md_degraded", "critical"),
            ("pcie_aer", "critical"), ("machine_checks", "warning"), ("nvme_resets", "warning"),
            ("ata_link_resets", "warning")]
    missing = [w for w in want if w not in found]
    check(rc == 2 and not missing, f"foreshock check exit {rc}; missing {missing}:\n{out[:6000]}")
    log(f"foreshock check: exit {rc}, reports {sorted(c for c in found if c[1] != 'ok')}")


def write_fixtures(kmsg, lab, guest):
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    for name, text in kmsg.captured.items():
        with open(os.path.join(FIXTURE_DIR, name + ".kmsg"), "w") as f:
            f.write(text)
    log(f"kernel log fixtures written to {FIXTURE_DIR}: {sorted(kmsg.captured)}")


def main():
    require_root()
    for tool in ("qemu-system-x86_64", "qemu-img", "mmdebstrap", "mke2fs", "dpkg-buildpackage"):
        require_tool(tool)
    if not BIN:
        fail("FORESHOCK_BIN is not set")
    t_lab = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fs-lab-host-") as tmp:
        with timed("image"):
            p = subprocess.run([os.path.join(SOURCE_DIR, "scripts", "lab-image.sh"),
                                os.path.join(BUILD_DIR, "lab")], capture_output=True, text=True)
            if p.returncode != 0:
                fail(f"lab-image.sh failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-6000:]}")
            image = p.stdout.strip().splitlines()[-1]
            log(open(os.path.join(image, "image.info")).read().strip().replace("\n", "; "))
        with timed("deb"):
            p = subprocess.run([os.path.join(SOURCE_DIR, "packaging", "build-deb.sh"),
                                os.path.join(tmp, "deb"), BIN], capture_output=True, text=True)
            if p.returncode != 0:
                fail(f"build-deb.sh failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
            deb = glob.glob(os.path.join(tmp, "deb", "*.deb"))[0]
        for name, lldp in (("foreshock.yml", "true"), ("foreshock-nolldp.yml", "false")):
            with open(os.path.join(tmp, name), "w") as f:
                f.write(GUEST_CONFIG % lldp)
        files = {"foreshock.deb": deb, "foreshock.yml": os.path.join(tmp, "foreshock.yml"),
                 "foreshock-nolldp.yml": os.path.join(tmp, "foreshock-nolldp.yml")}
        # nvme_core.io_timeout=5: the NVMe timeout fault needs a stall of seconds, not 30 s.
        with Lab(image, files, BUILD_DIR, extra_append="nvme_core.io_timeout=5") as lab:
            with timed("boot"):
                lab.start()
            log(f"guest kernel {lab.guest_kernel()}, {lab.qemu_version()}")
            guest = Guest(lab)
            with timed("install"):
                pid = stage_install(guest)
            with timed("smart"):
                stage_smart(guest)
            if "watchdog" in STAGES:
                with timed("watchdog"):
                    pid = stage_watchdog(guest, pid)
            # The later stages in order: (FORESHOCK_LAB_STAGES name, figure name, stage).
            for name, figure, stage in (
                    ("reload", "reload", lambda: stage_reload(guest, pid)),
                    ("reboot", "reboot", lambda: stage_reboot(guest, lab)),
                    ("nvme", "nvme_critical_warning", lambda: stage_nvme_critical_warning(guest, lab)),
                    ("kernel", "kernel_faults", lambda: stage_kernel_faults(guest, lab))):
                if name in STAGES:
                    with timed(figure):
                        stage()
            boots = ", ".join(f"{b:.1f}s" for b in lab.boot_seconds)
    log("figures: boot to systemd running " + boots + "; " +
        ", ".join(f"{k} {v:.1f}s" for k, v in TIMES.items()) + f"; lab total {time.monotonic() - t_lab:.1f}s")
    print("ok")


if __name__ == "__main__":
    main()
