#include "collectors/probe/probe_packets.h"

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>

namespace foreshock {
namespace {

TEST(ProbePackets, EchoRequestCarriesAValidIpv4Checksum) {
  auto p = buildEchoRequest(AF_INET, 0x1234, 7, {0xdeadbeefcafef00dull, 42, 7});
  EXPECT_EQ(p[0], 8);
  EXPECT_EQ(internetChecksum(p), 0);  // a correct checksum sums to zero
}

TEST(ProbePackets, ParsesOurOwnEchoReplyBackIntoItsCookie) {
  auto p = buildEchoRequest(AF_INET6, 0, 513, {0x1122334455667788ull, 9, 70000});
  p[0] = 129;  // what the peer sends back
  auto r = parseEchoReply(AF_INET6, p, false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->seq, 513);
  ASSERT_TRUE(r->cookie.has_value());
  EXPECT_EQ(r->cookie->cookie, 0x1122334455667788ull);
  EXPECT_EQ(r->cookie->token, 9u);
  EXPECT_EQ(r->cookie->sequence, 70000u);
}

TEST(ProbePackets, SkipsTheIpv4HeaderARawSocketDelivers) {
  auto icmp = buildEchoRequest(AF_INET, 5, 6, {1, 2, 3});
  icmp[0] = 0;
  std::vector<std::uint8_t> pkt(24, 0);
  pkt[0] = 0x46;  // version 4, IHL 6 (one option word)
  pkt.insert(pkt.end(), icmp.begin(), icmp.end());
  auto r = parseEchoReply(AF_INET, pkt, true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->id, 5);
  EXPECT_EQ(r->seq, 6);
  EXPECT_TRUE(r->cookie.has_value());
}

TEST(ProbePackets, ForeignPayloadHasNoCookie) {
  std::vector<std::uint8_t> p(64, 0xab);
  p[0] = 0;
  auto r = parseEchoReply(AF_INET, p, false);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->cookie.has_value());
}

TEST(ProbePackets, RejectsTruncatedAndNonReplyMessages) {
  std::vector<std::uint8_t> short_msg = {0, 0, 0};
  EXPECT_FALSE(parseEchoReply(AF_INET, short_msg, false).ok());
  auto req = buildEchoRequest(AF_INET, 1, 1, {1, 1, 1});
  EXPECT_FALSE(parseEchoReply(AF_INET, req, false).ok());  // a request, not a reply
  std::vector<std::uint8_t> bad_ihl(40, 0);
  bad_ihl[0] = 0x4f;  // IHL 60 > 40 bytes
  EXPECT_FALSE(parseEchoReply(AF_INET, bad_ihl, true).ok());
}

TEST(ProbePackets, QuotedEchoRequestGivesItsSequenceAndCookieWhenQuotedInFull) {
  // What the error queue returns: our request as the router quoted it.
  auto p = buildEchoRequest(AF_INET, 0x4321, 77, {0xdeadbeefcafef00dull, 5, 70077});
  auto q = parseQuotedEchoRequest(AF_INET, p);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->seq, 77);
  EXPECT_EQ(q->id, 0x4321);
  ASSERT_TRUE(q->cookie.has_value());
  EXPECT_EQ(q->cookie->token, 5u);
  EXPECT_EQ(q->cookie->sequence, 70077u);
  // RFC 792 routers quote only 8 bytes of it: sequence, no cookie.
  auto q8 = parseQuotedEchoRequest(AF_INET, std::span<const std::uint8_t>(p).first(8));
  ASSERT_TRUE(q8.ok());
  EXPECT_EQ(q8->seq, 77);
  EXPECT_FALSE(q8->cookie.has_value());
  auto p6 = buildEchoRequest(AF_INET6, 0, 3, {1, 2, 3});
  EXPECT_TRUE(parseQuotedEchoRequest(AF_INET6, p6).ok());
  EXPECT_FALSE(parseQuotedEchoRequest(AF_INET, p6).ok()) << "type 128 is not an IPv4 echo request";
  EXPECT_FALSE(parseQuotedEchoRequest(AF_INET, std::span<const std::uint8_t>(p).first(7)).ok());
}

TEST(ProbePackets, IcmpErrorReasonsFollowTheRfcCodes) {
  struct Case {
    int family;
    std::uint8_t type;
    std::uint8_t code;
    std::string_view reason;
  };
  for (const Case& c : std::initializer_list<Case>{
           {AF_INET, 3, 0, "net_unreachable"},
           {AF_INET, 3, 1, "host_unreachable"},
           {AF_INET, 3, 3, "port_unreachable"},
           {AF_INET, 3, 13, "admin_prohibited"},
           {AF_INET, 3, 4, "fragmentation_needed"},
           {AF_INET, 3, 99, "unreachable"},
           {AF_INET, 11, 0, "ttl_exceeded"},
           {AF_INET6, 1, 0, "net_unreachable"},
           {AF_INET6, 1, 1, "admin_prohibited"},
           {AF_INET6, 1, 3, "host_unreachable"},
           {AF_INET6, 2, 0, "packet_too_big"},
           {AF_INET6, 3, 0, "ttl_exceeded"},
           {AF_INET6, 200, 0, "icmp_error"},
       }) {
    SCOPED_TRACE((c.family == AF_INET ? "ICMPv4 type " : "ICMPv6 type ") + std::to_string(c.type) +
                 " code " + std::to_string(c.code));
    EXPECT_EQ(icmpErrorReason(c.family, c.type, c.code), c.reason);
  }
}

TEST(ProbePackets, NeighborSolicitationGoesToTheSolicitedNodeGroupWithOurMac) {
  auto target = parseIpAddress("fd00:66::1:2:3");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(formatIpAddress(solicitedNodeMulticast(*target)), "ff02::1:ff02:3");
  const std::array<std::uint8_t, 6> mac{0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
  auto ns = buildNeighborSolicitation(*target, mac);
  ASSERT_EQ(ns.size(), 32u);
  EXPECT_EQ(ns[0], 135);
  EXPECT_EQ(ns[1], 0);
  EXPECT_EQ(std::memcmp(&ns[8], target->bytes.data(), 16), 0);
  EXPECT_EQ(ns[24], 1) << "source link-layer address option";
  EXPECT_EQ(ns[25], 1);
  EXPECT_EQ(std::memcmp(&ns[26], mac.data(), 6), 0);
}

TEST(ProbePackets, ParsesANeighborAdvertisementAndItsTargetMac) {
  auto target = parseIpAddress("fd00:66::1");
  std::vector<std::uint8_t> na(32, 0);
  na[0] = 136;
  na[4] = 0x40 | 0x20;  // solicited, override
  std::memcpy(&na[8], target->bytes.data(), 16);
  na[24] = 2;  // target link-layer address
  na[25] = 1;
  const std::uint8_t mac[6] = {0x0a, 0, 0, 0, 0, 0x01};
  std::memcpy(&na[26], mac, 6);
  auto a = parseNeighborAdvert(na);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_TRUE(a->target == *target);
  EXPECT_TRUE(a->solicited);
  EXPECT_TRUE(a->override_flag);
  EXPECT_FALSE(a->router);
  ASSERT_TRUE(a->target_mac.has_value());
  EXPECT_EQ((*a->target_mac)[5], 0x01);

  auto bad = na;
  bad[25] = 0;  // an option of length 0 would loop forever
  EXPECT_FALSE(parseNeighborAdvert(bad).ok());
  bad = na;
  bad[25] = 2;  // 16 bytes, past the end
  EXPECT_FALSE(parseNeighborAdvert(bad).ok());
  bad = na;
  bad[0] = 135;
  EXPECT_FALSE(parseNeighborAdvert(bad).ok()) << "a solicitation is not an advertisement";
  EXPECT_FALSE(parseNeighborAdvert(std::span<const std::uint8_t>(na).first(23)).ok());
  auto plain = parseNeighborAdvert(std::span<const std::uint8_t>(na).first(24));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->target_mac.has_value());
}

TEST(ProbePackets, ArpRequestRoundTrips) {
  auto me = *parseIpAddress("10.66.0.2");
  auto gw = *parseIpAddress("10.66.0.1");
  auto p = buildArpRequest({1, 2, 3, 4, 5, 6}, me, gw);
  auto a = parseArp(p);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->op, 1);
  EXPECT_EQ(a->sender_ip, me);
  EXPECT_EQ(a->target_ip, gw);
  EXPECT_EQ(a->sender_mac[5], 6);
  p.resize(20);
  EXPECT_FALSE(parseArp(p).ok());
}

TEST(ProbePackets, ParsesAndFormatsAddresses) {
  EXPECT_EQ(formatIpAddress(*parseIpAddress("fd00:66::1")), "fd00:66::1");
  auto ll = parseIpAddress("fe80::1%7");
  ASSERT_TRUE(ll.has_value());
  EXPECT_EQ(ll->scope, 7u);
  EXPECT_TRUE(isLinkLocal(*ll));
  EXPECT_FALSE(parseIpAddress("10.0.0.300").has_value());
  EXPECT_FALSE(parseIpAddress("db.example").has_value());
}

}  // namespace
}  // namespace foreshock
