#!/usr/bin/env python3
"""Captures real netlink replies for the netdev parser tests and fuzz seeds.

Run as root; it builds a veth pair in a scratch namespace (fsnd-cap-*), sets a known MTU,
alias and carrier state, then writes one file per netlink message to OUTDIR:
  rtnl-newlink-<ifname>.bin   RTM_NEWLINK from an RTM_GETLINK dump (IFLA_STATS64 etc.)
  ethtool-linkmodes-<ifname>.bin, ethtool-stats-<ifname>.bin   ethtool genl dump replies
  ethtool-error-module-eeprom.bin   the NLMSG_ERROR of a MODULE_EEPROM_GET on a veth
Usage: tools/capture_netlink.py OUTDIR
"""
import os
import socket
import struct
import subprocess
import sys

NETLINK_ROUTE, NETLINK_GENERIC = 0, 16
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_GETLINK = 18
GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 16, 3, 1, 2
ETHTOOL_MSG_LINKMODES_GET, ETHTOOL_MSG_STATS_GET, ETHTOOL_MSG_MODULE_EEPROM_GET = 4, 32, 34
NS_A, NS_B = "fsnd-cap-a", "fsnd-cap-b"


def attr(t, payload):
    ln = 4 + len(payload)
    return struct.pack("=HH", ln, t) + payload + b"\0" * ((4 - ln % 4) % 4)


def msg(mtype, flags, body, seq):
    return struct.pack("=IHHII", 16 + len(body), mtype, flags, seq, 0) + body


def transact(sock, data):
    sock.send(data)
    out = []
    while True:
        buf = sock.recv(1 << 16)
        off = 0
        while off + 16 <= len(buf):
            ln, t, _, _, _ = struct.unpack_from("=IHHII", buf, off)
            if t == NLMSG_DONE:
                return out
            out.append(buf[off:off + ln])
            if t == NLMSG_ERROR:
                return out
            off += (ln + 3) & ~3


def attrs(data, off):
    res = {}
    while off + 4 <= len(data):
        ln, t = struct.unpack_from("=HH", data, off)
        if ln < 4:
            break
        res[t & 0x3fff] = data[off + 4:off + ln]
        off += (ln + 3) & ~3
    return res


def ifname_of_rtnl(m):
    return attrs(m, 32).get(3, b"").rstrip(b"\0").decode()


def ifname_of_genl(m, header_attr):
    hdr = attrs(m, 20).get(header_attr, b"")
    return attrs(hdr, 0).get(2, b"").rstrip(b"\0").decode()


def capture(outdir):
    r = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    r.bind((0, 0))
    for m in transact(r, msg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, struct.pack("=BxHiII", 0, 0, 0, 0, 0), 1)):
        name = ifname_of_rtnl(m)
        open(os.path.join(outdir, f"rtnl-newlink-{name}.bin"), "wb").write(m)
    g = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    g.bind((0, 0))
    reply = transact(g, msg(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) +
                            attr(CTRL_ATTR_FAMILY_NAME, b"ethtool\0"), 2))
    fam = struct.unpack("=H", attrs(reply[0], 20)[CTRL_ATTR_FAMILY_ID][:2])[0]
    hdr = attr(1 | 0x8000, attr(3, struct.pack("=I", 1)))  # header nest, flags: compact bitsets
    for m in transact(g, msg(fam, NLM_F_REQUEST | NLM_F_DUMP, struct.pack("=BBH", ETHTOOL_MSG_LINKMODES_GET, 1, 0) + hdr, 3)):
        open(os.path.join(outdir, f"ethtool-linkmodes-{ifname_of_genl(m, 1)}.bin"), "wb").write(m)
    groups = attr(3 | 0x8000, attr(1, b"") + attr(2, struct.pack("=I", 4)) + attr(4, struct.pack("=I", 0xf)))
    stats_hdr = attr(2 | 0x8000, attr(3, struct.pack("=I", 1)))
    for m in transact(g, msg(fam, NLM_F_REQUEST | NLM_F_DUMP, struct.pack("=BBH", ETHTOOL_MSG_STATS_GET, 1, 0) + stats_hdr + groups, 4)):
        open(os.path.join(outdir, f"ethtool-stats-{ifname_of_genl(m, 2)}.bin"), "wb").write(m)
    idx = socket.if_nametoindex("fsnd-cap0")
    ee_hdr = attr(1 | 0x8000, attr(1, struct.pack("=I", idx)))
    body = (struct.pack("=BBH", ETHTOOL_MSG_MODULE_EEPROM_GET, 1, 0) + ee_hdr + attr(2, struct.pack("=I", 0)) +
            attr(3, struct.pack("=I", 128)) + attr(4, b"\0") + attr(5, b"\0") + attr(6, b"\x50"))
    for m in transact(g, msg(fam, NLM_F_REQUEST | NLM_F_ACK, body, 5)):
        open(os.path.join(outdir, "ethtool-error-module-eeprom.bin"), "wb").write(m)


def main():
    outdir = os.path.abspath(sys.argv[1])
    os.makedirs(outdir, exist_ok=True)
    sh = lambda *c: subprocess.run(list(c), check=True)
    for ns in (NS_A, NS_B):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", "fsnd-cap0", "netns", NS_A, "type", "veth", "peer", "name", "fsnd-cap1", "netns", NS_B)
        sh("ip", "-n", NS_A, "link", "set", "fsnd-cap0", "mtu", "9000", "alias", "uplink to sw1", "up")
        sh("ip", "-n", NS_B, "link", "set", "fsnd-cap1", "up")
        sh("ip", "-n", NS_B, "link", "set", "fsnd-cap1", "down")  # one carrier loss on fsnd-cap0
        sh("ip", "-n", NS_B, "link", "set", "fsnd-cap1", "up")
        subprocess.run(["sleep", "0.5"])
        sh("ip", "netns", "exec", NS_A, sys.executable, os.path.abspath(__file__), "--inside", outdir)
    finally:
        for ns in (NS_A, NS_B):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inside":
        capture(sys.argv[2])
    else:
        main()
