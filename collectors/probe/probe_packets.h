// Pure packet code of the prober: IP addresses, ICMP echo requests and replies (IPv4 and
// IPv6, with or without the IPv4 header a raw socket delivers), the payload cookie that ties a
// reply to the probe that caused it, ARP requests and replies. Bytes in, typed values out.
#pragma once

#include <netinet/in.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace foreshock {

// An IPv4 or IPv6 address; `scope` is the interface index of an IPv6 link-local address.
struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};
  std::uint32_t scope = 0;

  bool isV4() const { return family == AF_INET; }
  // Equality and order ignore the scope (replies carry it inconsistently).
  bool operator==(const IpAddress& o) const { return family == o.family && bytes == o.bytes; }
  std::strong_ordering operator<=>(const IpAddress& o) const {
    if (auto c = family <=> o.family; c != 0) return c;
    return bytes <=> o.bytes;
  }
};

// "10.0.0.1", "fd00::1", "fe80::1%eth0" (the zone is resolved with if_nametoindex).
std::optional<IpAddress> parseIpAddress(std::string_view text);
// Text form without the zone.
std::string formatIpAddress(const IpAddress& a);
IpAddress ipFromV4(const in_addr& a);
IpAddress ipFromV6(const in6_addr& a, std::uint32_t scope = 0);
bool isLinkLocal(const IpAddress& a);

// What our probes carry after the ICMP header: a per-process cookie, the target's token and
// the probe's sequence number. Replies whose payload does not carry our cookie are not ours
// (another ping on the same host, or a forged reply).
struct ProbeCookie {
  std::uint64_t cookie = 0;
  std::uint32_t token = 0;
  std::uint32_t sequence = 0;
};
constexpr std::size_t kProbePayloadSize = 24;

enum class IcmpKind { kEchoRequest, kEchoReply };

// An ICMP echo message ready to send: header + payload. For IPv4 the checksum is filled in
// (raw sockets need it; ping sockets recompute it). For IPv6 the kernel computes it (it
// covers a pseudo header we do not know), so it is left 0.
std::vector<std::uint8_t> buildEchoRequest(int family, std::uint16_t id, std::uint16_t seq,
                                           const ProbeCookie& cookie);

struct EchoReply {
  std::uint8_t type = 0;
  std::uint16_t id = 0;
  std::uint16_t seq = 0;
  std::optional<ProbeCookie> cookie;  // nullopt when the payload is not ours
};

// Parses an ICMP echo reply. `with_ipv4_header`: the buffer starts with an IPv4 header (an
// IPv4 raw socket); ping sockets and IPv6 raw sockets deliver the ICMP message alone. Errors
// for truncation, a wrong type (not an echo reply) and a bad header length.
Result<EchoReply> parseEchoReply(int family, std::span<const std::uint8_t> data,
                                 bool with_ipv4_header);

// The echo request an ICMP error quotes (it starts at the quoted ICMP header: what the
// kernel's error queue gives, IP_RECVERR/IPV6_RECVERR). The cookie is there only when the
// router quoted more than the 8 bytes RFC 792 requires (Linux quotes up to 576).
Result<EchoReply> parseQuotedEchoRequest(int family, std::span<const std::uint8_t> data);

// snake_case reason of an ICMP error (type, code) of the given family: net_unreachable,
// host_unreachable, admin_prohibited, port_unreachable, ttl_exceeded, ...
std::string icmpErrorReason(int family, std::uint8_t type, std::uint8_t code);

std::uint16_t internetChecksum(std::span<const std::uint8_t> data);

// ARP over Ethernet for IPv4.
struct ArpPacket {
  std::uint16_t op = 0;  // 1 request, 2 reply
  std::array<std::uint8_t, 6> sender_mac{};
  IpAddress sender_ip;
  std::array<std::uint8_t, 6> target_mac{};
  IpAddress target_ip;
};
std::vector<std::uint8_t> buildArpRequest(const std::array<std::uint8_t, 6>& our_mac,
                                          const IpAddress& our_ip, const IpAddress& target);
// Parses the ARP payload (after the Ethernet header, as an AF_PACKET SOCK_DGRAM socket gives).
Result<ArpPacket> parseArp(std::span<const std::uint8_t> data);

// IPv6 neighbour discovery (RFC 4861), the IPv6 counterpart of the ARP probe.
// The solicited-node multicast address ff02::1:ffXX:XXXX a Neighbor Solicitation for
// `target` is sent to.
IpAddress solicitedNodeMulticast(const IpAddress& target);
// A Neighbor Solicitation (type 135) for `target` with our source link-layer address option.
// The checksum is left 0: a raw ICMPv6 socket has the kernel compute it.
std::vector<std::uint8_t> buildNeighborSolicitation(const IpAddress& target,
                                                    const std::array<std::uint8_t, 6>& our_mac);
struct NeighborAdvert {
  IpAddress target;
  bool router = false, solicited = false, override_flag = false;
  std::optional<std::array<std::uint8_t, 6>> target_mac;  // target link-layer address option
};
// Parses a Neighbor Advertisement (type 136) starting at its ICMPv6 header, as a raw ICMPv6
// socket delivers it; options are walked with their lengths checked.
Result<NeighborAdvert> parseNeighborAdvert(std::span<const std::uint8_t> data);

}  // namespace foreshock
