#include "collectors/probe/probe_packets.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <cstring>

namespace foreshock {

namespace {
constexpr std::uint64_t kMagic = 0x6673707262000000ull;  // guards against random payloads

void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
void put64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
}
std::uint16_t get16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t get32(const std::uint8_t* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | p[3];
}
std::uint64_t get64(const std::uint8_t* p) {
  return (static_cast<std::uint64_t>(get32(p)) << 32) | get32(p + 4);
}
}  // namespace

std::optional<IpAddress> parseIpAddress(std::string_view text) {
  std::string s(text);
  std::uint32_t scope = 0;
  if (auto pct = s.find('%'); pct != std::string::npos) {
    const std::string zone = s.substr(pct + 1);
    s.resize(pct);
    scope = ::if_nametoindex(zone.c_str());
    if (scope == 0) {
      char* end = nullptr;
      unsigned long v = std::strtoul(zone.c_str(), &end, 10);
      if (zone.empty() || *end != 0) return std::nullopt;
      scope = static_cast<std::uint32_t>(v);
    }
  }
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) return ipFromV4(v4);
  if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) return ipFromV6(v6, scope);
  return std::nullopt;
}

std::string formatIpAddress(const IpAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family == AF_INET) return ::inet_ntop(AF_INET, a.bytes.data(), buf, sizeof buf);
  if (a.family == AF_INET6) return ::inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf);
  return "";
}

IpAddress ipFromV4(const in_addr& v4) {
  IpAddress a;
  a.family = AF_INET;
  std::memcpy(a.bytes.data(), &v4, 4);
  return a;
}

IpAddress ipFromV6(const in6_addr& v6, std::uint32_t scope) {
  IpAddress a;
  a.family = AF_INET6;
  std::memcpy(a.bytes.data(), &v6, 16);
  a.scope = scope;
  return a;
}

bool isLinkLocal(const IpAddress& a) {
  return a.family == AF_INET6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
}

std::uint16_t internetChecksum(std::span<const std::uint8_t> data) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2)
    sum += static_cast<std::uint32_t>((data[i] << 8) | data[i + 1]);
  if (i < data.size()) sum += static_cast<std::uint32_t>(data[i] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::vector<std::uint8_t> buildEchoRequest(int family, std::uint16_t id, std::uint16_t seq,
                                           const ProbeCookie& cookie) {
  std::vector<std::uint8_t> p(8 + kProbePayloadSize, 0);
  p[0] = family == AF_INET ? 8 : 128;  // echo request
  put16(&p[4], id);
  put16(&p[6], seq);
  put64(&p[8], kMagic ^ cookie.cookie);
  put64(&p[16], cookie.cookie);
  put32(&p[24], cookie.token);
  put32(&p[28], cookie.sequence);
  if (family == AF_INET) put16(&p[2], internetChecksum(p));
  return p;
}

namespace {

// The ICMP echo message at the start of `data` (request or reply, `want` type).
Result<EchoReply> parseEcho(std::span<const std::uint8_t> data, std::uint8_t want,
                            const char* what) {
  if (data.size() < 8)
    return makeError("ICMP header truncated (" + std::to_string(data.size()) + " bytes)");
  EchoReply r;
  r.type = data[0];
  if (r.type != want)
    return makeError("ICMP type " + std::to_string(r.type) + " is not an echo " + what);
  r.id = get16(&data[4]);
  r.seq = get16(&data[6]);
  if (data.size() >= 8 + kProbePayloadSize) {
    const std::uint64_t c = get64(&data[16]);
    if ((get64(&data[8]) ^ c) == kMagic) {
      r.cookie = ProbeCookie{c, get32(&data[24]), get32(&data[28])};
    }
  }
  return r;
}

}  // namespace

Result<EchoReply> parseEchoReply(int family, std::span<const std::uint8_t> data,
                                 bool with_ipv4_header) {
  if (with_ipv4_header) {
    if (data.size() < 20)
      return makeError("IPv4 header truncated (" + std::to_string(data.size()) + " bytes)");
    const std::size_t ihl = static_cast<std::size_t>(data[0] & 0x0f) * 4;
    if ((data[0] >> 4) != 4 || ihl < 20 || ihl > data.size()) {
      return makeError("bad IPv4 header (version/IHL byte 0x" + std::to_string(data[0]) + ")");
    }
    data = data.subspan(ihl);
  }
  return parseEcho(data, family == AF_INET ? 0 : 129, "reply");
}

Result<EchoReply> parseQuotedEchoRequest(int family, std::span<const std::uint8_t> data) {
  return parseEcho(data, family == AF_INET ? 8 : 128, "request");
}

std::string icmpErrorReason(int family, std::uint8_t type, std::uint8_t code) {
  if (family == AF_INET) {
    switch (type) {
      case 3:  // destination unreachable (RFC 792, RFC 1812 5.2.7.1)
        switch (code) {
          case 0:
          case 6:
          case 11: return "net_unreachable";
          case 1:
          case 7:
          case 12: return "host_unreachable";
          case 2: return "protocol_unreachable";
          case 3: return "port_unreachable";
          case 4: return "fragmentation_needed";
          case 9:
          case 10:
          case 13: return "admin_prohibited";
          default: return "unreachable";
        }
      case 11: return code == 0 ? "ttl_exceeded" : "reassembly_timeout";
      case 12: return "parameter_problem";
      default: return "icmp_error";
    }
  }
  switch (type) {
    case 1:  // destination unreachable (RFC 4443 3.1)
      switch (code) {
        case 0: return "net_unreachable";
        case 1:
        case 5:
        case 6: return "admin_prohibited";
        case 3: return "host_unreachable";
        case 4: return "port_unreachable";
        default: return "unreachable";
      }
    case 2: return "packet_too_big";
    case 3: return code == 0 ? "ttl_exceeded" : "reassembly_timeout";
    case 4: return "parameter_problem";
    default: return "icmp_error";
  }
}

std::vector<std::uint8_t> buildArpRequest(const std::array<std::uint8_t, 6>& our_mac,
                                          const IpAddress& our_ip, const IpAddress& target) {
  std::vector<std::uint8_t> p(28, 0);
  put16(&p[0], 1);       // Ethernet
  put16(&p[2], 0x0800);  // IPv4
  p[4] = 6;
  p[5] = 4;
  put16(&p[6], 1);  // request
  std::memcpy(&p[8], our_mac.data(), 6);
  std::memcpy(&p[14], our_ip.bytes.data(), 4);
  std::memcpy(&p[24], target.bytes.data(), 4);
  return p;
}

Result<ArpPacket> parseArp(std::span<const std::uint8_t> data) {
  if (data.size() < 28)
    return makeError("ARP packet truncated (" + std::to_string(data.size()) + " bytes)");
  if (get16(&data[0]) != 1 || get16(&data[2]) != 0x0800 || data[4] != 6 || data[5] != 4) {
    return makeError("ARP packet is not Ethernet/IPv4");
  }
  ArpPacket a;
  a.op = get16(&data[6]);
  std::memcpy(a.sender_mac.data(), &data[8], 6);
  a.sender_ip.family = AF_INET;
  std::memcpy(a.sender_ip.bytes.data(), &data[14], 4);
  std::memcpy(a.target_mac.data(), &data[18], 6);
  a.target_ip.family = AF_INET;
  std::memcpy(a.target_ip.bytes.data(), &data[24], 4);
  return a;
}

IpAddress solicitedNodeMulticast(const IpAddress& target) {
  IpAddress m;
  m.family = AF_INET6;
  m.bytes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 0};
  m.bytes[13] = target.bytes[13];
  m.bytes[14] = target.bytes[14];
  m.bytes[15] = target.bytes[15];
  m.scope = target.scope;
  return m;
}

std::vector<std::uint8_t> buildNeighborSolicitation(const IpAddress& target,
                                                    const std::array<std::uint8_t, 6>& our_mac) {
  std::vector<std::uint8_t> p(24 + 8, 0);
  p[0] = 135;  // Neighbor Solicitation; code, checksum and reserved stay 0
  std::memcpy(&p[8], target.bytes.data(), 16);
  p[24] = 1;  // source link-layer address option
  p[25] = 1;  // length in units of 8 bytes
  std::memcpy(&p[26], our_mac.data(), 6);
  return p;
}

Result<NeighborAdvert> parseNeighborAdvert(std::span<const std::uint8_t> data) {
  if (data.size() < 24)
    return makeError("neighbor advertisement truncated (" + std::to_string(data.size()) +
                     " bytes)");
  if (data[0] != 136)
    return makeError("ICMPv6 type " + std::to_string(data[0]) + " is not a neighbor advertisement");
  if (data[1] != 0) return makeError("neighbor advertisement with code " + std::to_string(data[1]));
  NeighborAdvert a;
  a.router = (data[4] & 0x80) != 0;
  a.solicited = (data[4] & 0x40) != 0;
  a.override_flag = (data[4] & 0x20) != 0;
  a.target.family = AF_INET6;
  std::memcpy(a.target.bytes.data(), &data[8], 16);
  std::size_t off = 24;
  while (off + 2 <= data.size()) {
    const std::size_t len = static_cast<std::size_t>(data[off + 1]) * 8;
    if (len == 0) return makeError("neighbor advertisement option of length 0");
    if (off + len > data.size())
      return makeError("neighbor advertisement option runs past the end");
    if (data[off] == 2 && len >= 8) {  // target link-layer address
      std::array<std::uint8_t, 6> mac{};
      std::memcpy(mac.data(), &data[off + 2], 6);
      a.target_mac = mac;
    }
    off += len;
  }
  return a;
}

}  // namespace foreshock
