#!/usr/bin/env python3
"""Writes hand-built fuzz seeds for the netdev parsers that the lab cannot capture (no real NIC
or optical module): an ethtool stats reply with eth-mac/eth-phy/rmon counters, a FEC reply,
a module EEPROM reply, and SFF-8472 / SFF-8636 page images laid out per the specifications.
Usage: tools/make_netdev_fuzz_seeds.py tests/fuzz/corpus
"""
import os
import struct
import sys

NESTED = 0x8000


def attr(t, payload):
    ln = 4 + len(payload)
    return struct.pack("=HH", ln, t) + payload + b"\0" * ((4 - ln % 4) % 4)


def genl(cmd, body, family=27):
    payload = struct.pack("=BBH", cmd, 1, 0) + body
    return struct.pack("=IHHII", 16 + len(payload), family, 0, 1, 0) + payload


def header(attr_type, ifindex, name):
    return attr(attr_type | NESTED, attr(1, struct.pack("=I", ifindex)) + attr(2, name + b"\0"))


def stat(i, v):
    return attr(4 | NESTED, attr(i, struct.pack("=Q", v)))


def be16(v):
    return struct.pack(">H", v & 0xffff)


def sfp_pages():
    a0 = bytearray(128)
    a0[0] = 0x03
    a0[20:36] = b"ACME OPTICS     "
    a0[40:56] = b"SFP-10G-SR      "
    a0[68:84] = b"SN12345678      "
    a0[92] = 0x68
    a2 = bytearray(128)
    for off, v in [(0, 0x5000), (2, 0xF600), (4, 0x4B00), (6, 0xFB00), (8, 36000), (10, 30000),
                   (16, 6000), (24, 10000), (32, 12589), (34, 100), (96, 0x1E80), (98, 32900),
                   (100, 3000), (102, 5000), (104, 150)]:
        a2[off:off + 2] = be16(v)
    return bytes(a0), bytes(a2)


def qsfp_pages():
    lower = bytearray(128)
    lower[0] = 0x11
    lower[22:24] = be16(0x2300)
    lower[26:28] = be16(33000)
    for lane in range(4):
        lower[34 + 2 * lane:36 + 2 * lane] = be16(7000)
        lower[42 + 2 * lane:44 + 2 * lane] = be16(3500)
        lower[50 + 2 * lane:52 + 2 * lane] = be16(6000)
    up0 = bytearray(128)
    up0[0] = 0x11
    up0[20:36] = b"ACME OPTICS     "
    up0[92] = 0x0C
    up3 = bytearray(128)
    up3[0:2] = be16(0x4B00)
    up3[48:50] = be16(34674)
    return bytes(lower), bytes(up0), bytes(up3)


def main():
    root = sys.argv[1]
    eth = os.path.join(root, "netdev_ethtool")
    sff = os.path.join(root, "netdev_sff")
    os.makedirs(eth, exist_ok=True)
    os.makedirs(sff, exist_ok=True)
    stats = genl(33, header(2, 7, b"ens1f0") +
                 attr(4 | NESTED, attr(2, struct.pack("=I", 1)) + stat(0, 1000) + stat(4, 17)) +
                 attr(4 | NESTED, attr(2, struct.pack("=I", 0)) + stat(0, 4)) +
                 attr(4 | NESTED, attr(2, struct.pack("=I", 3)) + stat(0, 2) +
                      attr(5 | NESTED, attr(7, struct.pack("=I", 0)) + attr(8, struct.pack("=I", 64)) +
                           attr(9, struct.pack("=Q", 100)))))
    open(os.path.join(eth, "handbuilt-stats-mac-phy-rmon.bin"), "wb").write(stats)
    fec = genl(30, header(1, 7, b"ens1f0") + attr(4, struct.pack("=I", 51)) +
               attr(5 | NESTED, attr(2, struct.pack("=QQQ", 1000, 400, 600)) + attr(3, struct.pack("=QQ", 3, 3))))
    open(os.path.join(eth, "handbuilt-fec.bin"), "wb").write(fec)
    a0, a2 = sfp_pages()
    eeprom = genl(35, header(1, 7, b"ens1f0") + attr(7, a0))
    open(os.path.join(eth, "handbuilt-module-eeprom.bin"), "wb").write(eeprom)
    open(os.path.join(sff, "sff8472-sfp.bin"), "wb").write(bytes([127]) + a0 + a2)
    lower, up0, up3 = qsfp_pages()
    open(os.path.join(sff, "sff8636-qsfp28.bin"), "wb").write(bytes([127]) + lower + up0 + up3)


if __name__ == "__main__":
    main()
