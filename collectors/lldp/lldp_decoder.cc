#include "collectors/lldp/lldp_decoder.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

namespace foreshock {

namespace {

constexpr std::size_t kMaxText = 255;

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t be32(const std::uint8_t* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | p[3];
}

std::string hexString(std::span<const std::uint8_t> b, char sep) {
  std::string s;
  char buf[4];
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i != 0 && sep != 0) s += sep;
    std::snprintf(buf, sizeof buf, "%02x", b[i]);
    s += buf;
  }
  return s;
}

std::string macString(std::span<const std::uint8_t> b) {
  return hexString(b, ':');
}

// Text fields go into Prometheus labels: keep printable ASCII, replace anything else by '?'
// (labels must be valid UTF-8, and switch firmware is free to send any bytes), and bound the
// length. A field that is mostly binary is shown as hex instead.
std::string printable(std::span<const std::uint8_t> b) {
  std::size_t binary = 0;
  for (auto c : b)
    if (c < 0x20 || c > 0x7e) ++binary;
  // Trailing NULs are common (C strings copied with their terminator); ignore them.
  while (!b.empty() && b.back() == 0) {
    b = b.first(b.size() - 1);
    --binary;
  }
  if (!b.empty() && binary * 2 > b.size())
    return hexString(b.first(std::min(b.size(), kMaxText / 2)), 0);
  std::string s;
  for (auto c : b.first(std::min(b.size(), kMaxText)))
    s += (c >= 0x20 && c <= 0x7e) ? static_cast<char>(c) : '?';
  return s;
}

// IANA address family + address bytes -> text.
std::string networkAddress(std::uint8_t family, std::span<const std::uint8_t> a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == 1 && a.size() == 4) return inet_ntop(AF_INET, a.data(), buf, sizeof buf);
  if (family == 2 && a.size() == 16) return inet_ntop(AF_INET6, a.data(), buf, sizeof buf);
  return hexString(a, 0);
}

std::string idString(std::uint8_t subtype, bool is_chassis, std::span<const std::uint8_t> v) {
  // Chassis subtype 4 and port subtype 3 are MAC addresses; chassis 5 / port 4 are network
  // addresses (one IANA family byte, then the address).
  const bool mac = is_chassis ? subtype == 4 : subtype == 3;
  const bool net = is_chassis ? subtype == 5 : subtype == 4;
  if (mac && v.size() == 6) return macString(v);
  if (net && !v.empty()) return networkAddress(v[0], v.subspan(1));
  return printable(v);
}

void decodeOrgTlv(LldpNeighbor& n, std::span<const std::uint8_t> v) {
  // v starts with the 3-byte OUI and the subtype (length >= 4 checked by the caller).
  const std::uint32_t oui = (static_cast<std::uint32_t>(v[0]) << 16) | (v[1] << 8) | v[2];
  const std::uint8_t sub = v[3];
  auto body = v.subspan(4);
  bool known = false;
  if (oui == 0x0080c2) {  // IEEE 802.1
    if (sub == 1 && body.size() == 2) {
      n.port_vlan_id = be16(body.data());
      known = true;
    } else if (sub == 3 && body.size() >= 3) {
      const std::size_t len = body[2];
      if (body.size() >= 3 + len) {
        n.vlan_names.push_back({be16(body.data()), printable(body.subspan(3, len))});
        known = true;
      }
    } else if (sub == 7 && body.size() == 5) {
      n.link_aggregation =
          LldpLinkAggregation{(body[0] & 1) != 0, (body[0] & 2) != 0, be32(body.data() + 1)};
      known = true;
    }
  } else if (oui == 0x00120f) {  // IEEE 802.3
    if (sub == 1 && body.size() == 5) {
      n.mac_phy = LldpMacPhy{(body[0] & 1) != 0, (body[0] & 2) != 0, be16(body.data() + 1),
                             be16(body.data() + 3)};
      known = true;
    } else if (sub == 3 && body.size() == 5) {
      n.link_aggregation =
          LldpLinkAggregation{(body[0] & 1) != 0, (body[0] & 2) != 0, be32(body.data() + 1)};
      known = true;
    } else if (sub == 4 && body.size() == 2) {
      n.max_frame_size = be16(body.data());
      known = true;
    }
  }
  if (!known) n.unknown_tlvs.push_back({127, oui, sub, v.size()});
}

Result<LldpManagementAddress> decodeMgmt(std::span<const std::uint8_t> v, std::size_t off) {
  // addr-len(1, includes the subtype byte) subtype(1) addr if-subtype(1) if-number(4)
  // oid-len(1) oid.
  auto bad = [&](const std::string& what) {
    return makeError("LLDP management address TLV at offset " + std::to_string(off) + ": " + what);
  };
  if (v.size() < 9) return bad("too short (" + std::to_string(v.size()) + " bytes, minimum 9)");
  const std::size_t alen = v[0];
  if (alen < 2 || alen > 32)
    return bad("address length " + std::to_string(alen) + " out of range 2..32");
  if (1 + alen + 5 + 1 > v.size())
    return bad("address length " + std::to_string(alen) + " runs past the TLV");
  LldpManagementAddress m;
  m.family = v[1];
  m.address = networkAddress(m.family, v.subspan(2, alen - 1));
  m.interface_subtype = v[1 + alen];
  m.interface_number = be32(v.data() + 2 + alen);
  const std::size_t oid_len = v[6 + alen];
  if (7 + alen + oid_len > v.size())
    return bad("OID length " + std::to_string(oid_len) + " runs past the TLV");
  return m;
}

}  // namespace

std::string lldpCapabilityNames(std::uint16_t caps) {
  static const char* const kNames[] = {
      "other",   "repeater", "bridge", "wlan-ap",           "router", "telephone", "docsis",
      "station", "c-vlan",   "s-vlan", "two-port-mac-relay"};
  std::string s;
  for (unsigned i = 0; i < sizeof kNames / sizeof kNames[0]; ++i) {
    if ((caps & (1u << i)) == 0) continue;
    if (!s.empty()) s += ',';
    s += kNames[i];
  }
  return s;
}

Result<LldpNeighbor> decodeLldpdu(std::span<const std::uint8_t> pdu) {
  LldpNeighbor n;
  std::size_t off = 0;
  int index = 0;
  bool seen_end = false;
  while (off < pdu.size()) {
    if (pdu.size() - off < 2) {
      return makeError("LLDP TLV header at offset " + std::to_string(off) +
                       " is truncated (1 byte left)");
    }
    const std::uint16_t hdr = be16(pdu.data() + off);
    const std::uint8_t type = static_cast<std::uint8_t>(hdr >> 9);
    const std::size_t len = hdr & 0x1ff;
    const std::size_t left = pdu.size() - off - 2;
    if (len > left) {
      return makeError("LLDP TLV type " + std::to_string(type) + " at offset " +
                       std::to_string(off) + ": length " + std::to_string(len) +
                       " runs past the end of the frame (" + std::to_string(left) + " bytes left)");
    }
    auto v = pdu.subspan(off + 2, len);
    auto where = "LLDP TLV type " + std::to_string(type) + " at offset " + std::to_string(off);
    // 802.1AB 9.2: the first three TLVs are chassis id, port id and TTL, in that order.
    const int expected = index == 0 ? 1 : index == 1 ? 2 : index == 2 ? 3 : -1;
    if (expected != -1 && type != expected) {
      static const char* const kMandatory[] = {"", "chassis id", "port id", "time to live"};
      return makeError(where + ": expected the " + kMandatory[expected] + " TLV (type " +
                       std::to_string(expected) + ") here");
    }
    switch (type) {
      case 0:
        if (len != 0)
          return makeError(where + ": End TLV with non-zero length " + std::to_string(len));
        seen_end = true;
        break;
      case 1:
      case 2: {
        if (index > 1) return makeError(where + ": duplicate mandatory TLV");
        if (len < 2 || len > 256) {
          return makeError(where + ": id length " + std::to_string(len) + " out of range 2..256");
        }
        if (type == 1) {
          n.chassis_id_subtype = v[0];
          n.chassis_id = idString(v[0], true, v.subspan(1));
        } else {
          n.port_id_subtype = v[0];
          n.port_id = idString(v[0], false, v.subspan(1));
        }
        break;
      }
      case 3:
        if (index != 2) return makeError(where + ": duplicate time to live TLV");
        if (len < 2) return makeError(where + ": TTL needs 2 bytes, got " + std::to_string(len));
        n.ttl_seconds = be16(v.data());
        break;
      case 4: n.port_description = printable(v); break;
      case 5: n.system_name = printable(v); break;
      case 6: n.system_description = printable(v); break;
      case 7:
        if (len != 4)
          return makeError(where + ": capabilities need 4 bytes, got " + std::to_string(len));
        n.capabilities_supported = be16(v.data());
        n.capabilities_enabled = be16(v.data() + 2);
        break;
      case 8: {
        auto m = decodeMgmt(v, off);
        if (!m) return m.error();
        n.management_addresses.push_back(std::move(*m));
        break;
      }
      case 127:
        if (len < 4)
          return makeError(where + ": organisationally specific TLV shorter than 4 bytes");
        decodeOrgTlv(n, v);
        break;
      default: n.unknown_tlvs.push_back({type, 0, 0, len}); break;
    }
    off += 2 + len;
    ++index;
    if (seen_end) break;
  }
  if (index < 3) {
    return makeError("LLDPDU ends after " + std::to_string(index) +
                     " TLVs: chassis id, port id and time to live are mandatory");
  }
  return n;
}

Result<LldpNeighbor> decodeCdp(std::span<const std::uint8_t> pdu) {
  if (pdu.size() < 4)
    return makeError("CDP header truncated (" + std::to_string(pdu.size()) + " bytes)");
  if (pdu[0] != 1 && pdu[0] != 2)
    return makeError("CDP version " + std::to_string(pdu[0]) + " unknown");
  LldpNeighbor n;
  n.protocol = "cdp";
  n.ttl_seconds = pdu[1];
  std::size_t off = 4;
  bool have_device = false;
  while (off < pdu.size()) {
    if (pdu.size() - off < 4)
      return makeError("CDP TLV header at offset " + std::to_string(off) + " is truncated");
    const std::uint16_t type = be16(pdu.data() + off);
    const std::size_t len = be16(pdu.data() + off + 2);  // includes the 4-byte header
    auto where = "CDP TLV type " + std::to_string(type) + " at offset " + std::to_string(off);
    if (len < 4)
      return makeError(where + ": length " + std::to_string(len) + " is shorter than its header");
    if (len > pdu.size() - off) {
      return makeError(where + ": length " + std::to_string(len) +
                       " runs past the end of the frame (" + std::to_string(pdu.size() - off) +
                       " bytes left)");
    }
    auto v = pdu.subspan(off + 4, len - 4);
    switch (type) {
      case 0x0001:
        n.chassis_id_subtype = 7;  // locally assigned, in LLDP terms
        n.chassis_id = printable(v);
        n.system_name = n.chassis_id;
        have_device = true;
        break;
      case 0x0002: {
        if (v.size() < 4) return makeError(where + ": address count truncated");
        const std::uint32_t count = be32(v.data());
        std::size_t p = 4;
        for (std::uint32_t i = 0; i < count; ++i) {
          if (v.size() - p < 2)
            return makeError(where + ": address " + std::to_string(i) + " truncated");
          const std::size_t plen = v[p + 1];
          if (v.size() - p < 2 + plen + 2)
            return makeError(where + ": address " + std::to_string(i) + " truncated");
          auto proto = v.subspan(p + 2, plen);
          const std::size_t alen = be16(v.data() + p + 2 + plen);
          if (v.size() - p - 4 - plen < alen) {
            return makeError(where + ": address " + std::to_string(i) + " length " +
                             std::to_string(alen) + " runs past the TLV");
          }
          auto addr = v.subspan(p + 4 + plen, alen);
          LldpManagementAddress m;
          // NLPID 0xcc is IPv4; IPv6 is an 802.2 protocol id ending in 0x86dd.
          if (v[p] == 1 && plen == 1 && proto[0] == 0xcc && alen == 4)
            m.family = 1;
          else if (v[p] == 2 && plen == 8 && proto[6] == 0x86 && proto[7] == 0xdd && alen == 16)
            m.family = 2;
          m.address = networkAddress(m.family, addr);
          if (m.family != 0) n.management_addresses.push_back(std::move(m));
          p += 4 + plen + alen;
        }
        break;
      }
      case 0x0003:
        n.port_id_subtype = 5;  // interface name
        n.port_id = printable(v);
        break;
      case 0x0004:
        if (v.size() == 4) {
          // CDP bits: 0x01 router, 0x02 TB bridge, 0x04 SR bridge, 0x08 switch, 0x10 host.
          const std::uint32_t c = be32(v.data());
          std::uint16_t caps = 0;
          if (c & 0x01) caps |= 1u << 4;
          if (c & 0x0e) caps |= 1u << 2;
          if (c & 0x10) caps |= 1u << 7;
          n.capabilities_supported = caps;
          n.capabilities_enabled = caps;
        }
        break;
      case 0x0005: n.system_description = printable(v); break;
      case 0x0006: n.platform = printable(v); break;
      case 0x000a:
        if (v.size() == 2) n.port_vlan_id = be16(v.data());
        break;
      default: n.unknown_tlvs.push_back({0, 0, 0, len}); break;
    }
    off += len;
  }
  if (!have_device) return makeError("CDP packet has no Device ID TLV");
  return n;
}

Result<LldpNeighbor> decodeDiscoveryFrame(std::span<const std::uint8_t> frame) {
  if (frame.size() < 14)
    return makeError("Ethernet frame truncated (" + std::to_string(frame.size()) + " bytes)");
  std::size_t off = 12;
  std::uint16_t type = be16(frame.data() + off);
  if (type == 0x8100 && frame.size() >= 18) {
    off += 4;
    type = be16(frame.data() + off);
  }
  off += 2;
  Result<LldpNeighbor> r = makeError("");
  if (type == 0x88cc) {
    r = decodeLldpdu(frame.subspan(off));
  } else if (type <= 1500) {
    // 802.3 length field: CDP rides on LLC AA-AA-03 + SNAP 00-00-0C / 0x2000.
    static const std::uint8_t kSnap[] = {0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00};
    auto rest = frame.subspan(off);
    if (rest.size() < 8 || !std::equal(kSnap, kSnap + 8, rest.begin())) {
      return makeError("802.3 frame is not CDP (no LLC/SNAP 00-00-0c/2000 header)");
    }
    // The length field bounds the payload: anything after it is Ethernet padding.
    auto payload =
        rest.subspan(8, std::min<std::size_t>(rest.size() - 8, type >= 8 ? type - 8u : 0u));
    r = decodeCdp(payload);
  } else {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04x", type);
    return makeError(std::string("ethertype 0x") + buf + " is neither LLDP nor CDP");
  }
  if (r) r->source_mac = macString(frame.subspan(6, 6));
  return r;
}

}  // namespace foreshock
