#!/usr/bin/env python3
"""A delay "wire" between two network namespaces, for tests on kernels without netem.

Opens one TAP device in each of two namespaces and copies every Ethernet frame from one to
the other after a fixed delay (each direction), preserving order. Runs until SIGTERM.

    tap_wire.py --a NS1:tapname --b NS2:tapname --delay-ms 40

The TAP devices are created by this program (IFF_TAP | IFF_NO_PI) and vanish when it exits;
the caller brings them up and addresses or enslaves them once "ready" is printed on stdout.
"""
import argparse
import ctypes
import fcntl
import heapq
import math
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000

libc = ctypes.CDLL("libc.so.6", use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


def open_tap(netns, name):
    """Creates TAP `name` inside namespace `netns` and returns its fd."""
    setns(f"/run/netns/{netns}")
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, help="NETNS:TAPNAME of one end")
    ap.add_argument("--b", required=True, help="NETNS:TAPNAME of the other end")
    ap.add_argument("--delay-ms", type=float, required=True, help="one-way delay in ms")
    args = ap.parse_args()
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    ends = []
    for spec in (args.a, args.b):
        ns, name = spec.split(":", 1)
        ends.append(open_tap(ns, name))
    libc.setns(home, CLONE_NEWNET)
    delay = args.delay_ms / 1000.0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    print("ready", flush=True)
    queue = []  # (due, order, out_fd, frame)
    order = 0
    poller = select.poll()
    for fd in ends:
        poller.register(fd, select.POLLIN)
    while not stop:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, frame = heapq.heappop(queue)
            try:
                os.write(out, frame)
            except OSError:
                pass  # the other end is down: the frame is lost, as on a real wire
        timeout = 200 if not queue else max(0, math.ceil((queue[0][0] - time.monotonic()) * 1000))
        try:
            events = poller.poll(timeout)
        except InterruptedError:
            continue
        for fd, _ in events:
            out = ends[1] if fd == ends[0] else ends[0]
            for _ in range(64):
                try:
                    frame = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError:
                    break
                order += 1
                heapq.heappush(queue, (time.monotonic() + delay, order, out, frame))
    return 0


if __name__ == "__main__":
    sys.exit(main())
