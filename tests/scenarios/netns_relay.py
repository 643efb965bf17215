"""A loopback TCP relay from the root namespace into a network namespace, so that a Prometheus
running in the root namespace can scrape an agent that runs (and probes) inside a namespace.

Why a relay: the agent must live in the host namespace (its probes, LLDP listener and netdev
collector see that namespace's interfaces), and its listen address is that namespace's
loopback, which the root namespace cannot reach. Giving the namespace an address reachable
from the root namespace would mean configuring the root namespace (forbidden in tests); a
relay needs none: it listens on 127.0.0.1 of the root namespace and opens each outgoing
connection from a socket created inside the target namespace (a socket stays in the
namespace it was created in, and setns(CLONE_NEWNET) only changes the calling thread).

    relay = NsRelay("fssn-x-h1", "127.0.0.1:40123")   # the agent's address inside the ns
    relay.address                                       # "127.0.0.1:<port>" in the root ns
    relay.close()

Thread-safety: one accept thread and two pump threads per connection; close() may be called
from any thread and stops all of them.
"""
import ctypes
import os
import select
import socket
import threading

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _socket_in_netns(netns):
    """A TCP socket created inside /run/netns/<netns> (this thread returns home after)."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns into {netns}: {os.strerror(err)}")
        try:
            return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        finally:
            if _libc.setns(home, CLONE_NEWNET) != 0:
                # Staying in the wrong namespace would corrupt every later socket of the thread.
                os._exit(70)
    finally:
        os.close(home)
        os.close(target)


class NsRelay:
    def __init__(self, netns, inner_address):
        self.netns = netns
        host, port = inner_address.rsplit(":", 1)
        self.inner = (host, int(port))
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.closed = False
        self.lock = threading.Lock()
        self.conns = []
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def retarget(self, inner_address):
        """Points new connections at another address inside the namespace (an agent restarted
        on another port keeps its Prometheus `instance`)."""
        host, port = inner_address.rsplit(":", 1)
        self.inner = (host, int(port))

    def _accept_loop(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = _socket_in_netns(self.netns)
                upstream.settimeout(5)
                upstream.connect(self.inner)
                upstream.settimeout(None)
            except OSError:
                client.close()  # Prometheus sees a failed scrape, as with a dead agent
                continue
            with self.lock:
                if self.closed:
                    client.close()
                    upstream.close()
                    return
                self.conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        peers = {a: b, b: a}
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    peers[s].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self):
        with self.lock:
            self.closed = True
            conns, self.conns = self.conns, []
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=5)
