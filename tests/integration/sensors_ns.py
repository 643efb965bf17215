"""Helpers for the sensors integration tests: run a command in a private mount namespace with
the fixture tree tests/fixtures/sensors/sys/class bind-mounted over /sys/class, so that the real
libsensors (which only ever reads /sys) sees the fixture chips.

Two kinds of broken attribute are added inside the namespace only, because git cannot store
them and because libsensors skips any directory entry that is not a regular file (DT_REG):
- a blocking read: a FIFO bind-mounted over a regular attribute file. readdir still reports the
  underlying regular file, stat() sees the FIFO (mode 0644, so libsensors marks it readable),
  and open() blocks forever because no writer ever comes - like a driver stuck on a hung bus.
- an I/O error: /proc/<pid>/mem of the wrapper shell bind-mounted over an attribute. The shell
  execs the tested program (same pid), and reading offset 0 of one's own memory fails with EIO,
  which is what a driver returns on a bus error.
"""
import os
import shutil
import subprocess
import tempfile

import fslib

FIXTURE = os.path.join(fslib.SOURCE_DIR, "tests", "fixtures", "sensors", "sys")

WRAPPER = r"""#!/bin/sh
set -e
mount --bind "$FS_FIXTURE/class" /sys/class
for t in $FS_FIFO_TARGETS; do mount --bind "$FS_FIFO" "/sys/class/$t"; done
for t in $FS_EIO_TARGETS; do mount --bind "/proc/$$/mem" "/sys/class/$t"; done
exec "$@"
"""

# The blocking and failing attributes of the fixture (relative to /sys/class).
BLOCKING = ["hwmon/hwmon5/temp2_input"]  # it87-isa-0a30 temp2
FAILING = ["hwmon/hwmon4/temp3_input"]   # nct6775-isa-0290 temp3 (AUXTIN1)


class Fixture:
    """A private, writable copy of the fixture sysfs tree plus the namespace wrapper."""

    def __init__(self, fifo_targets=(), eio_targets=()):
        fslib.require_root()
        fslib.require_tool("unshare")
        fslib.require_tool("mount")
        self.dir = tempfile.mkdtemp(prefix="fs-sensors-")
        self.sys = os.path.join(self.dir, "sys")
        shutil.copytree(FIXTURE, self.sys, symlinks=True)
        self.wrapper = os.path.join(self.dir, "ns.sh")
        with open(self.wrapper, "w") as f:
            f.write(WRAPPER)
        os.chmod(self.wrapper, 0o755)
        self.fifo = os.path.join(self.dir, "blocking-fifo")
        os.mkfifo(self.fifo, 0o644)
        self.env = dict(os.environ)
        self.env.update({
            "FS_FIXTURE": self.sys,
            "FS_FIFO": self.fifo,
            "FS_FIFO_TARGETS": " ".join(fifo_targets),
            "FS_EIO_TARGETS": " ".join(eio_targets),
        })

    def path(self, rel):
        return os.path.join(self.sys, "class", rel)

    def write(self, rel, text):
        with open(self.path(rel), "w") as f:
            f.write(text)

    def ns_cmd(self, cmd):
        return ["unshare", "-m", self.wrapper] + list(cmd)

    def run(self, cmd, timeout=60, check_rc=True):
        try:
            p = subprocess.run(self.ns_cmd(cmd), capture_output=True, text=True, env=self.env,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            fslib.fail(f"{cmd!r} in the fixture namespace did not finish within {timeout}s")
        if check_rc and p.returncode != 0:
            fslib.fail(f"{cmd!r} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def config(self, text):
        path = os.path.join(self.dir, "foreshock.yml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def collect(self, config_text, extra_args=(), timeout=60):
        """`foreshock collect` of the sensors collector only; returns (metrics dict, text, log)."""
        cfg = self.config(config_text)
        p = self.run([fslib.BIN, "--config", cfg, "--no-collector.self"] + list(extra_args) +
                     ["collect"], timeout=timeout)
        return fslib.parse_metrics(p.stdout), p.stdout, p.stderr

    def agent(self, config_text, extra_args=()):
        """`foreshock serve` inside the namespace (fslib.Agent with the wrapper in front)."""
        cfg = self.config(config_text)
        saved = fslib.BIN
        real = fslib.BIN
        fslib.BIN = "unshare"
        try:
            return fslib.Agent(["-m", self.wrapper, real, "--config", cfg, "--no-collector.self",
                                "--web.listen-address", "127.0.0.1:0"] + list(extra_args) +
                               ["serve"], env=self.env)
        finally:
            fslib.BIN = saved

    def close(self):
        # A reader may still be blocked on the FIFO if a test failed early: release it.
        try:
            fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
