#include "collectors/lldp/lldp_decoder.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace foreshock {
namespace {

// The real frame lldpd 1.0.16 sent from a bridge port (see tests/fixtures/data/SOURCES.md), turned
// back into bytes the way `xxd -r -p` does.
std::vector<std::uint8_t> fixtureFrame() {
  std::ifstream f(std::string(FORESHOCK_TEST_DATA) + "/lldp/lldpd-1.0.16-frame.hex");
  EXPECT_TRUE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  std::string hex;
  for (char c : ss.str())
    if (std::isxdigit(static_cast<unsigned char>(c))) hex += c;
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<std::uint8_t> pdu(const std::vector<std::uint8_t>& frame) {
  return std::vector<std::uint8_t>(frame.begin() + 14, frame.end());
}

TEST(LldpDecoder, DecodesEveryFieldOfTheLldpdFixtureFrame) {
  auto frame = fixtureFrame();
  ASSERT_EQ(frame.size(), 140u);
  auto r = decodeDiscoveryFrame(frame);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& n = *r;
  EXPECT_EQ(n.protocol, "lldp");
  EXPECT_EQ(n.source_mac, "a6:e5:4a:30:97:48");
  EXPECT_EQ(n.chassis_id_subtype, 4);  // MAC address
  EXPECT_EQ(n.chassis_id, "a6:e5:4a:30:97:48");
  EXPECT_EQ(n.port_id_subtype, 5);  // interface name
  EXPECT_EQ(n.port_id, "swp-a");
  EXPECT_EQ(n.ttl_seconds, 4);
  EXPECT_EQ(n.system_name, "sw1.test");
  EXPECT_EQ(n.system_description, "feas test switch");
  EXPECT_EQ(n.port_description, "swp-a");
  ASSERT_TRUE(n.capabilities_supported.has_value());
  EXPECT_EQ(*n.capabilities_supported, 0x009c);
  EXPECT_EQ(lldpCapabilityNames(*n.capabilities_supported), "bridge,wlan-ap,router,station");
  EXPECT_EQ(*n.capabilities_enabled, 0x0004);
  EXPECT_EQ(lldpCapabilityNames(*n.capabilities_enabled), "bridge");
  ASSERT_EQ(n.management_addresses.size(), 2u);
  EXPECT_EQ(n.management_addresses[0].family, 1);
  EXPECT_EQ(n.management_addresses[0].address, "10.200.0.254");
  EXPECT_EQ(n.management_addresses[0].interface_subtype, 2);  // ifIndex
  EXPECT_EQ(n.management_addresses[0].interface_number, 2u);
  EXPECT_EQ(n.management_addresses[1].family, 2);
  EXPECT_EQ(n.management_addresses[1].address, "fe80::a4e5:4aff:fe30:9748");
  EXPECT_EQ(n.management_addresses[1].interface_number, 2u);
  ASSERT_TRUE(n.link_aggregation.has_value());  // 802.3 subtype 3
  EXPECT_TRUE(n.link_aggregation->capable);
  EXPECT_FALSE(n.link_aggregation->enabled);
  EXPECT_EQ(n.link_aggregation->port_id, 0u);
  ASSERT_TRUE(n.mac_phy.has_value());  // 802.3 subtype 1
  EXPECT_FALSE(n.mac_phy->autoneg_supported);
  EXPECT_FALSE(n.mac_phy->autoneg_enabled);
  EXPECT_EQ(n.mac_phy->pmd_advertised, 0x8000);
  EXPECT_EQ(n.mac_phy->mau_type, 0x0036);
  EXPECT_FALSE(n.port_vlan_id.has_value());
  EXPECT_FALSE(n.max_frame_size.has_value());
  EXPECT_TRUE(n.unknown_tlvs.empty());
}

TEST(LldpDecoder, RejectsATlvWhoseLengthRunsPastTheEnd) {
  auto p = pdu(fixtureFrame());
  // System name TLV (type 5) is at offset 21 of the PDU; claim 200 bytes instead of 8.
  ASSERT_EQ(p[21] >> 1, 5);
  p[21] = static_cast<std::uint8_t>((5 << 1) | 0);
  p[22] = 200;
  auto r = decodeLldpdu(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("type 5 at offset 21"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("runs past the end"), std::string::npos);
}

TEST(LldpDecoder, RejectsAFrameTruncatedInsideATlvHeader) {
  auto p = pdu(fixtureFrame());
  p.resize(22);  // one byte of the system name TLV header left
  auto r = decodeLldpdu(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("truncated"), std::string::npos) << r.error().message;
}

TEST(LldpDecoder, RejectsAFrameWithoutTheMandatoryTlvs) {
  std::vector<std::uint8_t> only_chassis = {0x02, 0x07, 0x04, 1, 2, 3, 4, 5, 6, 0x00, 0x00};
  auto r = decodeLldpdu(only_chassis);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("port id"), std::string::npos) << r.error().message;
}

TEST(LldpDecoder, RejectsMandatoryTlvsOutOfOrder) {
  // Port id first.
  std::vector<std::uint8_t> p = {0x04, 0x03, 0x05, 'a', 'b',  0x02, 0x07, 0x04, 1,    2,
                                 3,    4,    5,    6,   0x06, 0x02, 0x00, 0x10, 0x00, 0x00};
  auto r = decodeLldpdu(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("chassis id"), std::string::npos) << r.error().message;
}

TEST(LldpDecoder, DecodesZeroTtlAsAShutdownFrame) {
  auto p = pdu(fixtureFrame());
  ASSERT_EQ(p[17] >> 1, 3);
  p[19] = 0;  // TTL value bytes follow the TTL header at offset 17
  p[20] = 0;
  auto r = decodeLldpdu(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ttl_seconds, 0);
  EXPECT_EQ(r->system_name, "sw1.test");
}

TEST(LldpDecoder, RejectsATtlTlvShorterThanTwoBytes) {
  std::vector<std::uint8_t> p = {0x02, 0x07, 0x04, 1,   2,    3,    4,    5,    6,   0x04,
                                 0x03, 0x05, 'a',  'b', 0x06, 0x01, 0x00, 0x00, 0x00};
  auto r = decodeLldpdu(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("TTL needs 2 bytes"), std::string::npos) << r.error().message;
}

TEST(LldpDecoder, RejectsAManagementAddressWhoseLengthRunsPastTheTlv) {
  auto p = pdu(fixtureFrame());
  // First management address TLV at PDU offset 55: its address length byte follows at 57.
  ASSERT_EQ(p[55] >> 1, 8);
  p[57] = 30;
  auto r = decodeLldpdu(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("management address"), std::string::npos) << r.error().message;
}

TEST(LldpDecoder, ReplacesUnprintableBytesInTextFields) {
  std::vector<std::uint8_t> p = {0x02, 0x07, 0x04, 1,   2,    3,    4,    5,    6,
                                 0x04, 0x03, 0x05, 'a', 'b',  0x06, 0x02, 0x00, 0x78,
                                 0x0a, 0x04, 's',  'w', 0xff, '1',  0x00, 0x00};
  auto r = decodeLldpdu(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->system_name, "sw?1");
  EXPECT_EQ(r->ttl_seconds, 120);
}

TEST(LldpDecoder, RejectsFramesThatAreNeitherLldpNorCdp) {
  auto frame = fixtureFrame();
  frame[12] = 0x08;  // IPv4 ethertype
  frame[13] = 0x00;
  auto r = decodeDiscoveryFrame(frame);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("0x0800"), std::string::npos) << r.error().message;
}

TEST(CdpDecoder, DecodesDeviceIdPortIdAndAddress) {
  // dst 01:00:0c:cc:cc:cc, src, 802.3 length, LLC/SNAP, CDP v2 ttl 180, TLVs.
  std::vector<std::uint8_t> f = {
      0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00, 0xaa,
      0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00, 0x02, 180, 0x00, 0x00,
      // Device ID "sw9"
      0x00, 0x01, 0x00, 0x07, 's', 'w', '9',
      // Port ID "Gi0/1"
      0x00, 0x03, 0x00, 0x09, 'G', 'i', '0', '/', '1',
      // Addresses: 1 x IPv4 192.0.2.7
      0x00, 0x02, 0x00, 0x11, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0xcc, 0x00, 0x04, 192, 0, 2, 7};
  const std::size_t len = f.size() - 14;
  f[12] = static_cast<std::uint8_t>(len >> 8);
  f[13] = static_cast<std::uint8_t>(len);
  auto r = decodeDiscoveryFrame(f);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->protocol, "cdp");
  EXPECT_EQ(r->system_name, "sw9");
  EXPECT_EQ(r->chassis_id, "sw9");
  EXPECT_EQ(r->port_id, "Gi0/1");
  EXPECT_EQ(r->ttl_seconds, 180);
  ASSERT_EQ(r->management_addresses.size(), 1u);
  EXPECT_EQ(r->management_addresses[0].address, "192.0.2.7");
}

TEST(CdpDecoder, RejectsATlvLongerThanThePacket) {
  std::vector<std::uint8_t> p = {0x02, 180, 0x00, 0x00, 0x00, 0x01, 0x00, 0x40, 's', 'w'};
  auto r = decodeCdp(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("runs past the end"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace foreshock
