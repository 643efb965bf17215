"""The kernel collector end to end through the binary.

1. A FIFO at <devfs>/kmsg (a temp --path.devfs root: /dev/kmsg itself is the kernel's) fed with
   records in the /dev/kmsg format while `foreshock serve` runs: the disk, NVMe, read-only and
   AER counters show up in /metrics per device, a sequence gap counts as lost records, a
   user-space record shaped like an I/O error does not count, the output passes promtool, and
   `foreshock check --from-metrics` on that scrape names the disk returning I/O errors (exit 2).
2. A one-shot `foreshock check` with read_existing reads a regular file at <devfs>/kmsg, so the
   errors logged before it ran make the verdict (exit 2, the md array and the disk named).
3. The real /dev/kmsg of this machine: a uniquely tagged line written to it (as user space:
   facility LOG_USER, so it never counts as a hardware error nor looks like one) is read by
   the running agent: foreshock_kernel_log_records_total grows. Skipped, saying so, only when
   this machine has no /dev/kmsg.
"""
import os
import shutil
import tempfile
import threading
import time
import uuid

import fslib
from fslib import BIN, check, run, value, wait_for


def write_config(tmp, name, kernel, disable_self=False):
    """Writes <tmp>/<name>.yml: the kernel collector set to `kernel` (a YAML flow mapping),
    every other hardware collector (and `self` when asked) off, state in <tmp>/state-<name>.
    Returns the config's path."""
    state = os.path.join(tmp, f"state-{name}")
    os.makedirs(state, exist_ok=True)
    off = ["smart", "sensors", "netdev", "probe", "lldp"] + (["self"] if disable_self else [])
    cfg = os.path.join(tmp, f"{name}.yml")
    with open(cfg, "w") as f:
        f.write(f"collectors:\n  kernel: {kernel}\n"
                + "".join(f"  {c}: {{enabled: false}}\n" for c in off)
                + f"state:\n  directory: {state}\n")
    return cfg


def wait_scrape(agent, pred, what):
    """Scrapes the agent until pred(parsed metrics) holds (10 s at most); returns that scrape."""
    def ready():
        m = fslib.parse_metrics(agent.metrics())
        return m if pred(m) else None
    return wait_for(ready, timeout=10, what=what)


def write_tree(root):
    for d in ["sys/block/sda", "sys/block/vdb", "sys/class/nvme/nvme0", "dev"]:
        os.makedirs(os.path.join(root, d), exist_ok=True)


RECORDS = (
    "3,100,1000,-;I/O error, dev sda, sector 2048 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2\n"
    " SUBSYSTEM=block\n DEVICE=b8:0\n"
    "3,101,1001,-;I/O error, dev sda, sector 4096 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2\n"
    "2,102,1002,-;EXT4-fs (vdb): Remounting filesystem read-only\n"
    # 103..109 overwritten in the ring before they were read
    "4,110,1003,-;nvme nvme0: I/O tag 3 (1003) opcode 0x2 (Read) QID 1 timeout, reset controller\n"
    "3,111,1004,-;pcieport 0000:00:1c.0: AER: Correctable error message received from 0000:01:00.0\n"
    "11,112,1005,-;I/O error, dev vdb, sector 0\n"
)


def fifo_serve(tmp):
    root = os.path.join(tmp, "fifo")
    write_tree(root)
    fifo = os.path.join(root, "dev", "kmsg")
    os.mkfifo(fifo, 0o600)
    cfg = write_config(tmp, "fifo", "{interval: 1s, timeout: 1s}")
    with fslib.Agent(["--config", cfg, "--path.sysfs", os.path.join(root, "sys"),
                      "--path.devfs", os.path.join(root, "dev"),
                      "--web.listen-address", "127.0.0.1:0", "serve"]) as agent:
        m = wait_scrape(agent, lambda x: value(x, "foreshock_kernel_source_up", source="kmsg") == 1,
                        "the kmsg source up on the FIFO")
        check(value(m, "foreshock_kernel_block_io_errors_total", device="sda") == 0,
              "a known disk starts at 0")
        # open() of a FIFO for writing blocks until the reader has it open: bound it.
        done = threading.Event()

        def writer():
            with open(fifo, "w") as f:
                f.write(RECORDS)
            done.set()
        t = threading.Thread(target=writer, daemon=True)
        t.start()
        t.join(5)
        check(done.is_set(), "writing the records to the FIFO did not finish in 5 s")
        m = wait_scrape(agent, lambda x: value(x, "foreshock_kernel_log_records_total") == 6,
                        "6 records read from the FIFO")
        check(value(m, "foreshock_kernel_block_io_errors_total", device="sda") == 2, "sda I/O errors")
        check(value(m, "foreshock_kernel_block_io_errors_total", device="vdb") == 0,
              "a user-space line shaped like an I/O error counted for vdb")
        check(value(m, "foreshock_kernel_fs_readonly_total", device="vdb", fs="ext4") == 1, "ext4 read-only")
        check(value(m, "foreshock_kernel_nvme_timeouts_total", device="nvme0") == 1, "nvme timeout")
        check(value(m, "foreshock_kernel_nvme_resets_total", device="nvme0") == 1, "nvme reset")
        check(value(m, "foreshock_kernel_pcie_aer_errors_total", device="0000:01:00.0", **{"class": "corrected"}) == 1,
              "AER corrected")
        check(value(m, "foreshock_kernel_log_lost_records_total") == 7, "lost records from the sequence gap")
        text = agent.metrics()
        fslib.promtool_check(text)
        scrape = os.path.join(tmp, "scrape.prom")
        with open(scrape, "w") as f:
            f.write(text)
    p = run([BIN, "--config", cfg, "check", "--from-metrics", scrape], check_rc=False)
    check(p.returncode == 2, f"check on the scrape: expected exit 2, got {p.returncode}\n{p.stdout}{p.stderr}")
    check("disk returning I/O errors" in p.stdout and "sda" in p.stdout, f"check does not name sda:\n{p.stdout}")
    check("went read-only" in p.stdout or "out of write service" in p.stdout,
          f"check does not report the read-only filesystem:\n{p.stdout}")
    print("fifo stream: ok")


def one_shot_check(tmp):
    root = os.path.join(tmp, "file")
    write_tree(root)
    for d in ["sys/block/md0/md/dev-vdb", "sys/block/md0/md/dev-vdc"]:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    files = {"level": "raid1", "raid_disks": "2", "degraded": "1", "array_state": "clean",
             "sync_action": "idle", "dev-vdb/state": "in_sync", "dev-vdc/state": "faulty"}
    for k, v in files.items():
        with open(os.path.join(root, "sys/block/md0/md", k), "w") as f:
            f.write(v + "\n")
    with open(os.path.join(root, "dev", "kmsg"), "w") as f:
        f.write("3,5,100,-;critical medium error, dev sda, sector 8 op 0x0:(READ) flags 0x0\n"
                "2,6,101,-;md/raid1:md0: Disk failure on vdc, disabling device.\n")
    cfg = write_config(tmp, "oneshot", "{read_existing: true}", disable_self=True)
    p = run([BIN, "--config", cfg, "--path.sysfs", os.path.join(root, "sys"),
             "--path.devfs", os.path.join(root, "dev"), "check"], check_rc=False)
    check(p.returncode == 2, f"one-shot check: expected exit 2, got {p.returncode}\n{p.stdout}{p.stderr}")
    check("md array md0" in p.stdout and "array degraded" in p.stdout, f"md0 not named:\n{p.stdout}")
    check("disk returning I/O errors" in p.stdout, f"sda not named:\n{p.stdout}")
    print("one-shot check: ok")


def real_kmsg(tmp):
    dev = "/dev/kmsg"
    if not os.path.exists(dev):
        print(f"SKIP real kmsg: this machine has no {dev}")
        return
    check(os.access(dev, os.R_OK | os.W_OK),
          f"{dev} exists but is not readable and writable by this test (root expected)")
    cfg = write_config(tmp, "real", "{interval: 1s, timeout: 1s}")
    with fslib.Agent(["--config", cfg, "--web.listen-address", "127.0.0.1:0", "serve"]) as agent:
        m = wait_scrape(agent, lambda x: value(x, "foreshock_kernel_source_up", source="kmsg") is not None,
                        "the kernel collector's first cycle")
        check(value(m, "foreshock_kernel_source_up", source="kmsg", reason="") == 1,
              f"the agent cannot read {dev}:\n{agent.output()}")
        before = value(m, "foreshock_kernel_log_records_total")
        tag = f"foreshock-test-{uuid.uuid4().hex[:12]}"
        # <14> = LOG_USER, info: an ordinary user-space line, tagged so it is recognisable.
        with open(dev, "w") as f:
            f.write(f"<14>{tag}: kernel collector stream check\n")
        m = wait_scrape(agent, lambda x: value(x, "foreshock_kernel_log_records_total") >= before + 1,
                        f"the agent to read the line {tag} written to {dev}")
        check(value(m, "foreshock_kernel_log_malformed_records_total") == 0, "malformed records from the real kernel")
        print(f"real kmsg: ok (records {before:.0f} -> {value(m, 'foreshock_kernel_log_records_total'):.0f})")


def main():
    fslib.require_tool("promtool")
    tmp = tempfile.mkdtemp(prefix="foreshock-kmsg-test-")
    try:
        fifo_serve(tmp)
        one_shot_check(tmp)
        real_kmsg(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_kernel_kmsg: ok")


if __name__ == "__main__":
    main()
