"""The QEMU hardware lab: one Debian guest (scripts/lab-image.sh) booted with TCG, its own kernel
and systemd as PID 1, with emulated SMART-capable disks of the three kinds the agent reads
(ATA on the q35 board's AHCI controller, NVMe behind a PCIe root port, SCSI on virtio-scsi),
faults injected through QMP, and commands run in the guest through the QEMU guest agent.

Channels (nothing leaves this machine):
- QMP on a unix socket in the lab's temporary directory (fault injection, reset);
- the QEMU guest agent (qemu-guest-agent in the guest) on a virtio-serial port backed by a
  unix socket: guest-exec runs commands and returns their exit status and output;
- user-mode networking with restrict=on (the guest reaches no outside address) and one hostfwd
  from 127.0.0.1:<free port> to the agent's :19100 in the guest;
- the serial console written to console.log (kernel and systemd boot messages).

Every QEMU process is started with PR_SET_PDEATHSIG=SIGKILL and killed in close(); the
temporary directory (overlay images, sockets, logs) is removed unless FORESHOCK_LAB_KEEP is set.
Thread-safety: a Lab and its clients are used from one thread only.
"""
import base64
import ctypes
import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from fslib import fail, free_port, require_tool  # noqa: E402

GUEST_IP = "10.0.2.15"
AGENT_PORT = 19100
_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def log(msg):
    print(f"[lab {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class JsonSocket:
    """Line-delimited JSON over a unix stream socket (QMP and the guest agent both speak it)."""

    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() > deadline:
                    fail(f"cannot connect to {path}")
                time.sleep(0.1)
        self.buf = b""

    def send(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b"\n")

    def recv(self, timeout):
        """The next JSON object, or None on timeout. 0xff bytes (guest-agent sync marks) and
        anything before them are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            if b"\xff" in self.buf:
                self.buf = self.buf.rsplit(b"\xff", 1)[1]
            line, nl, rest = self.buf.partition(b"\n")
            if nl:
                self.buf = rest
                line = line.strip()
                if not line:
                    continue
                try:
                    return json.loads(line)
                except ValueError:
                    continue  # partial garbage from a restarted guest agent
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                data = self.sock.recv(65536)
                if not data:
                    fail("the QEMU socket closed (QEMU exited?)")
                self.buf += data

    def close(self):
        self.sock.close()


class Qmp:
    def __init__(self, path):
        self.js = JsonSocket(path, 30)
        greeting = self.js.recv(30)
        if not greeting or "QMP" not in greeting:
            fail(f"no QMP greeting: {greeting}")
        self.execute("qmp_capabilities")

    def execute(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.js.send(msg)
        while True:
            r = self.js.recv(60)
            if r is None:
                fail(f"QMP {cmd}: no answer")
            if "event" in r:
                continue
            if "error" in r:
                fail(f"QMP {cmd} {args}: {r['error']}")
            return r["return"]

    def close(self):
        self.js.close()

    def hmp(self, line):
        """A human monitor command (mce, pcie_aer_inject_error have no QMP form)."""
        return self.execute("human-monitor-command", **{"command-line": line})


class GuestAgent:
    """Client of qemu-guest-agent: runs commands in the guest with guest-exec."""

    def __init__(self, path):
        self.js = JsonSocket(path, 30)

    def sync(self, timeout):
        """Waits until the guest agent answers (after boot or reboot); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            token = random.randrange(1, 2**31)
            self.js.send({"execute": "guest-sync-delimited", "arguments": {"id": token}})
            until = time.monotonic() + 3
            while time.monotonic() < until:
                r = self.js.recv(max(0.1, until - time.monotonic()))
                if r and r.get("return") == token:
                    return True
        return False

    def _call(self, cmd, timeout=30, **args):
        self.js.send({"execute": cmd, "arguments": args})
        r = self.js.recv(timeout)
        if r is None:
            fail(f"guest agent {cmd}: no answer in {timeout}s")
        if "error" in r:
            fail(f"guest agent {cmd}: {r['error']}")
        return r["return"]

    def exec(self, argv, timeout=120, stdin=None):
        """Runs argv in the guest; returns (exit code, stdout, stderr)."""
        args = {"path": argv[0], "arg": list(argv[1:]), "capture-output": True}
        if stdin is not None:
            args["input-data"] = base64.b64encode(stdin.encode()).decode()
        pid = self._call("guest-exec", **args)["pid"]
        deadline = time.monotonic() + timeout
        while True:
            st = self._call("guest-exec-status", pid=pid)
            if st.get("exited"):
                out = base64.b64decode(st.get("out-data", "")).decode(errors="replace")
                err = base64.b64decode(st.get("err-data", "")).decode(errors="replace")
                return st.get("exitcode", -st.get("signal", 0) or -1), out, err
            if time.monotonic() > deadline:
                fail(f"guest command {argv} did not finish in {timeout}s")
            time.sleep(0.2)

    def sh(self, script, timeout=120, check=True):
        """Runs a shell script in the guest; returns stdout (fails the test on a non-zero exit
        when check is set)."""
        rc, out, err = self.exec(["/bin/sh", "-c", script], timeout=timeout)
        if check and rc != 0:
            fail(f"guest command failed ({rc}): {script}\nstdout: {out}\nstderr: {err}")
        return out if check else (rc, out, err)

    def close(self):
        self.js.close()


class Lab:
    """One guest with its disks. Usage: with Lab(image_dir, data_files) as lab: ...

    data_files: {name: host path} copied onto the "labdata" disk (ext4 made with mke2fs -d),
    mounted read-only at /mnt/lab in the guest by mount_data().
    """

    def __init__(self, image_dir, data_files, build_dir, extra_append=""):
        for tool in ("qemu-system-x86_64", "qemu-img", "mke2fs"):
            require_tool(tool)
        self.image_dir = image_dir
        self.tmp = tempfile.mkdtemp(prefix="fs-lab-", dir=os.environ.get("TMPDIR"))
        self.proc = None
        self.qmp = None
        self.qga = None
        self.port = free_port()
        self.console = os.path.join(self.tmp, "console.log")
        self.boot_seconds = []
        self.extra_append = extra_append
        self._make_disks(data_files)

    # ---- disks -------------------------------------------------------------------------------

    def _img(self, *args):
        p = subprocess.run(["qemu-img", *args], capture_output=True, text=True)
        if p.returncode != 0:
            fail(f"qemu-img {args}: {p.stderr}")

    def _make_disks(self, data_files):
        t = self.tmp
        # The cached root stays pristine: the guest writes into a qcow2 overlay.
        self._img("create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                  os.path.join(self.image_dir, "rootfs.img"), os.path.join(t, "root.qcow2"))
        data = os.path.join(t, "data")
        os.mkdir(data)
        for name, path in data_files.items():
            shutil.copy(path, os.path.join(data, name))
        p = subprocess.run(["mke2fs", "-q", "-t", "ext4", "-L", "labdata", "-d", data,
                            os.path.join(t, "data.img"), "64M"], capture_output=True, text=True)
        if p.returncode != 0:
            fail(f"mke2fs of the data disk: {p.stderr}")
        # The EIO disk is raw: blkdebug's rules fire on the format driver's read event, which
        # qcow2 would not send for clusters never written (it returns zeros by itself).
        self._img("create", "-q", "-f", "raw", os.path.join(t, "eio.raw"), "16M")
        for name, size in (("ata", "64M"), ("nvme", "64M"), ("scsi", "64M"),
                           ("md0", "32M"), ("md1", "32M"), ("fs", "32M")):
            self._img("create", "-q", "-f", "qcow2", os.path.join(t, name + ".qcow2"), size)

    def qemu_argv(self):
        t = self.tmp
        k = self.image_dir
        d = lambda name, fmt="qcow2": f"file={os.path.join(t, name)},format={fmt},if=none,cache=unsafe"
        # blkdebug: reads of sectors 1000..1007 of the "eio" disk fail with EIO, nothing else.
        blkdebug = os.path.join(t, "blkdebug.conf")
        with open(blkdebug, "w") as f:
            for sector in range(1000, 1008):
                f.write(f'[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "{sector}"\n\n')
        return [
            "qemu-system-x86_64", "-machine", "q35,accel=tcg", "-cpu", "qemu64,+mce,+mca",
            "-smp", "1", "-m", "768", "-nodefaults", "-no-user-config", "-display", "none",
            "-vga", "none", "-kernel", os.path.join(k, "vmlinuz"),
            "-initrd", os.path.join(k, "initrd.img"),
            "-append", "root=LABEL=root rootfstype=ext4 rw console=ttyS0,115200 panic=-1 "
                       "systemd.show_status=0 net.ifnames=1 mitigations=off tsc=reliable "
                       + self.extra_append,
            "-serial", f"file:{self.console}",
            "-qmp", f"unix:{os.path.join(t, 'qmp.sock')},server=on,wait=off",
            "-chardev", f"socket,id=qga,path={os.path.join(t, 'qga.sock')},server=on,wait=off",
            "-device", "virtio-serial-pci,id=vser", "-device",
            "virtserialport,bus=vser.0,chardev=qga,name=org.qemu.guest_agent.0",
            "-nic", f"user,model=virtio-net-pci,restrict=on,"
                    f"hostfwd=tcp:127.0.0.1:{self.port}-{GUEST_IP}:{AGENT_PORT}",
            # System and data disks (virtio-blk, no SMART: the agent reports them not capable).
            "-drive", d("root.qcow2") + ",id=root", "-device", "virtio-blk-pci,drive=root,serial=LABROOT",
            "-drive", d("data.img", "raw") + ",id=data,readonly=on",
            "-device", "virtio-blk-pci,drive=data,serial=LABDATA",
            # ATA: ide-hd on the q35 board's ICH9 AHCI controller (libatasmart).
            "-drive", d("ata.qcow2") + ",id=ata",
            "-device", "ide-hd,bus=ide.0,drive=ata,serial=FSLABATA0001,model=FORESHOCK LAB ATA",
            # NVMe behind a PCIe root port (native admin ioctl; AER on the port).
            "-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
            "-drive", d("nvme.qcow2") + ",id=nvm",
            "-device", "nvme,id=nvme0,bus=rp1,serial=FSLABNVME0001,drive=nvm",
            # SCSI: scsi-hd on virtio-scsi (smartctl), plus the EIO disk behind blkdebug.
            "-device", "virtio-scsi-pci,id=scsi0",
            "-drive", d("scsi.qcow2") + ",id=scsi",
            "-device", "scsi-hd,bus=scsi0.0,drive=scsi,serial=FSLABSCSI0001,scsi-id=0,lun=0",
            "-drive", f"if=none,id=eio,cache=unsafe,format=raw,rerror=report,werror=report,"
                      f"file.driver=blkdebug,file.config={blkdebug},"
                      f"file.image.filename={os.path.join(t, 'eio.raw')}",
            "-device", "scsi-hd,bus=scsi0.0,drive=eio,serial=FSLABEIO0001,scsi-id=1,lun=0",
            # Two small virtio disks for an md RAID1 in the guest.
            "-drive", d("md0.qcow2") + ",id=md0", "-device", "virtio-blk-pci,drive=md0,serial=LABMD0",
            "-drive", d("md1.qcow2") + ",id=md1", "-device", "virtio-blk-pci,drive=md1,serial=LABMD1",
            # A scratch ext4 for filesystem errors.
            "-drive", d("fs.qcow2") + ",id=fs", "-device", "virtio-blk-pci,drive=fs,serial=LABFS",
        ]

    # ---- life cycle --------------------------------------------------------------------------

    def start(self, boot_timeout=240):
        argv = self.qemu_argv()
        self.qemu_log = open(os.path.join(self.tmp, "qemu.log"), "w")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=self.qemu_log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        self.qmp = Qmp(os.path.join(self.tmp, "qmp.sock"))
        self.qga = GuestAgent(os.path.join(self.tmp, "qga.sock"))
        self.wait_booted(t0, boot_timeout)

    def wait_booted(self, t0, timeout):
        if not self.qga.sync(timeout):
            self.dump_console()
            fail(f"the guest agent did not answer within {timeout}s of boot")
        # The guest agent starts early; wait for systemd to finish the boot transaction.
        rc, out, _ = self.qga.exec(["systemctl", "is-system-running", "--wait"], timeout=timeout)
        secs = time.monotonic() - t0
        self.boot_seconds.append(secs)
        log(f"guest booted in {secs:.1f}s (system {out.strip()})")
        if out.strip() not in ("running", "degraded"):
            fail(f"guest system state {out.strip()!r}")
        if out.strip() == "degraded":
            log("failed units: " + self.qga.sh("systemctl --failed --no-legend --plain", check=False)[1])

    def reboot(self, timeout=240):
        """systemctl reboot in the guest; QEMU resets the machine and boots the same kernel."""
        t0 = time.monotonic()
        self.qga.exec(["/bin/sh", "-c", "(sleep 1; systemctl reboot) >/dev/null 2>&1 &"])
        time.sleep(5)  # let the old guest agent go away before syncing with the new one
        self.wait_booted(t0, timeout)

    def guest_kernel(self):
        return self.qga.sh("uname -r").strip()

    def qemu_version(self):
        return subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                              text=True).stdout.splitlines()[0]

    def metrics(self, timeout=10):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=timeout) as r:
            return r.read().decode()

    def dump_console(self, lines=80):
        try:
            with open(self.console, errors="replace") as f:
                tail = f.read().splitlines()[-lines:]
            print("---- guest console (tail) ----\n" + "\n".join(tail) + "\n----", file=sys.stderr)
        except OSError:
            pass

    def close(self):
        for c in (self.qga, self.qmp):
            if c:
                try:
                    c.close()
                except OSError:
                    pass
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if os.environ.get("FORESHOCK_LAB_KEEP"):
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.dump_console()
        self.close()
