"""sd_notify: the agent tells systemd READY=1 after its first collection, pings WATCHDOG=1 at
half of WATCHDOG_USEC from the scheduler's monitor loop, and stops pinging when the scheduler
is stuck.

"Stuck" is produced for real, without test-only code in the agent: the test freezes one thread
of the running agent with ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT stop only that thread; the
HTTP threads keep serving). Freezing the monitor thread ("fs-monitor") must stop the pings at
once; freezing the runner of a collector ("fs-c-self") while it waits for its next run must
stop them once that collector is overdue past its timeout. Needs CAP_SYS_PTRACE (root in CI).
"""
import ctypes
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import Agent, check, fail, require_root, wait_for  # noqa: E402

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000
SYS_FUTEX = 202  # x86_64: the runner waits on a condition variable between runs

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


def ptrace(req, tid):
    if libc.ptrace(req, tid, None, None) != 0:
        e = ctypes.get_errno()
        fail(f"ptrace({req:#x}, {tid}) failed: {os.strerror(e)}")


class Listener:
    """A fake systemd: a datagram socket collecting (time, message) pairs."""

    def __init__(self, name):
        self.name = name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + name[1:] if name.startswith("@") else name)
        self.msgs = []
        self.lock = threading.Lock()
        self.stop = False
        self.sock.settimeout(0.1)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.msgs.append((time.monotonic(), data.decode()))

    def messages(self, key=None):
        with self.lock:
            out = list(self.msgs)
        if key is None:
            return out
        return [(t, m) for t, m in out if key in m.split("\n")]

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def thread_id(pid, name):
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if f.read().strip() == name:
                return int(tid)
    fail(f"agent has no thread named {name}")


def freeze(tid, must_be_waiting=False):
    """Stops one thread. With must_be_waiting, retries until it is stopped in futex (idle)."""
    for _ in range(50):
        ptrace(PTRACE_SEIZE, tid)
        ptrace(PTRACE_INTERRUPT, tid)
        os.waitpid(tid, WALL)
        if not must_be_waiting:
            return
        with open(f"/proc/{tid}/syscall") as f:
            nr = f.read().split()[0]
        if nr == str(SYS_FUTEX):
            return
        ptrace(PTRACE_DETACH, tid)
        time.sleep(0.05)
    fail(f"thread {tid} never caught idle")


def thaw(tid):
    ptrace(PTRACE_DETACH, tid)


def pings_after(listener, t0):
    return [t for t, _ in listener.messages("WATCHDOG=1") if t > t0]


def main():
    require_root()
    tmp = tempfile.mkdtemp(prefix="fspk-notify-")
    try:
        cfg = os.path.join(tmp, "foreshock.yml")
        with open(cfg, "w") as f:
            f.write("collectors:\n  self:\n    interval: 1s\n    timeout: 1s\n")
        sock_path = os.path.join(tmp, "notify.sock")
        listener = Listener(sock_path)
        env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="1000000")
        try:
            with Agent(["--config", cfg, "--web.listen-address", "127.0.0.1:0", "serve"], env=env) as agent:
                # READY=1 arrives once the first collection is published.
                t_ready, msg = wait_for(lambda: (listener.messages("READY=1") or [None])[0], timeout=10,
                                        what="READY=1")
                check("STATUS=" in msg, f"READY=1 without a STATUS line: {msg!r}")
                status, _, _ = agent.get("/-/ready")
                check(status == 200, "READY=1 sent but /-/ready is not 200")
                check('foreshock_collector_success{collector="self"} 1' in agent.metrics(),
                      "READY=1 sent before the self collector's first result was published")
                early = [m for t, m in listener.messages() if t < t_ready]
                check(any(m.startswith("STATUS=first collection") for m in early),
                      f"no STATUS line before READY=1: {early!r}")

                # WATCHDOG=1 every WATCHDOG_USEC/2 = 0.5 s.
                t0 = time.monotonic()
                wait_for(lambda: len(pings_after(listener, t0)) >= 6, timeout=6, what="6 watchdog pings")
                ts = pings_after(listener, t0)[:6]
                gaps = [b - a for a, b in zip(ts, ts[1:])]
                print("watchdog gaps:", ["%.3f" % g for g in gaps])
                # Never faster than WATCHDOG_USEC/2, always well inside WATCHDOG_USEC (what systemd
                # enforces), and about every 0.5 s (the monitor ticks every 0.1 s; slack for load).
                check(all(0.45 <= g <= 0.95 for g in gaps), f"watchdog gaps outside 0.45..0.95 s: {gaps}")
                med = sorted(gaps)[len(gaps) // 2]
                check(0.48 <= med <= 0.65, f"median watchdog gap {med:.3f}s, expected about 0.5 s")

                # Monitor loop frozen: no ping at all, although the process still serves HTTP.
                mon = thread_id(agent.proc.pid, "fs-monitor")
                freeze(mon)
                try:
                    time.sleep(0.1)  # let a datagram sent just before the freeze arrive
                    t_check = time.monotonic()
                    while time.monotonic() < t_check + 2.0:
                        status, _, _ = agent.get("/metrics")
                        check(status == 200, "HTTP stopped while only the monitor thread is frozen")
                        time.sleep(0.2)
                    late = pings_after(listener, t_check)
                    check(not late, f"{len(late)} watchdog ping(s) while the monitor loop was frozen")
                finally:
                    thaw(mon)
                t_thaw = time.monotonic()
                wait_for(lambda: pings_after(listener, t_thaw), timeout=3, what="pings to resume")

                # A runner that stops picking up work (frozen while idle): pings stop once the
                # collector is overdue beyond timeout + grace, and resume when it runs again.
                runner = thread_id(agent.proc.pid, "fs-c-self")
                freeze(runner, must_be_waiting=True)
                try:
                    wait_for(lambda: "scheduler stalled" in agent.output(), timeout=10,
                             what="the agent to log the stalled scheduler")
                    t_stall = time.monotonic()
                    time.sleep(0.1)
                    t_check = time.monotonic()
                    wait_for(lambda: time.monotonic() > t_check + 1.5, timeout=3, what="1.5 s to pass")
                    late = pings_after(listener, t_check)
                    check(not late, f"{len(late)} watchdog ping(s) while the self runner was stuck")
                    status, _, _ = agent.get("/metrics")
                    check(status == 200, "HTTP stopped while a runner was frozen")
                finally:
                    thaw(runner)
                wait_for(lambda: pings_after(listener, t_stall + 0.2), timeout=5,
                         what="pings to resume after the runner thawed")
                check("watchdog pings resume" in agent.output(), "no log line when the scheduler recovered")

                # SIGHUP: RELOADING=1, then READY=1 again.
                n_ready = len(listener.messages("READY=1"))
                agent.signal(signal.SIGHUP)
                wait_for(lambda: listener.messages("RELOADING=1"), timeout=5, what="RELOADING=1")
                wait_for(lambda: len(listener.messages("READY=1")) > n_ready, timeout=5,
                         what="READY=1 after the reload")
                t_reload = listener.messages("RELOADING=1")[0][0]
                check(listener.messages("READY=1")[-1][0] >= t_reload, "READY=1 came before RELOADING=1")

                agent.signal(signal.SIGTERM)
                agent.proc.wait(timeout=10)
                check(agent.proc.returncode == 0, f"agent exited {agent.proc.returncode}")
                check(listener.messages("STOPPING=1"), "no STOPPING=1 on SIGTERM")
        finally:
            listener.close()

        # Abstract socket names ("@name") work; WATCHDOG_PID naming another process disables pings.
        name = f"@fspk-notify-{os.getpid()}"
        listener = Listener(name)
        env = dict(os.environ, NOTIFY_SOCKET=name, WATCHDOG_USEC="200000", WATCHDOG_PID="1")
        try:
            with Agent(["--config", cfg, "--web.listen-address", "127.0.0.1:0", "serve"], env=env):
                wait_for(lambda: listener.messages("READY=1"), timeout=10, what="READY=1 on an abstract socket")
                t0 = time.monotonic()
                wait_for(lambda: time.monotonic() > t0 + 1.0, timeout=2, what="1 s to pass")
                check(not listener.messages("WATCHDOG=1"), "pinged although WATCHDOG_PID is another process")
        finally:
            listener.close()
        print("ok")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
