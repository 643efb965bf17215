// Parsers on netlink replies captured from this lab's kernel (6.18) by tools/capture_netlink.py:
// a veth pair with MTU 9000, alias "uplink to sw1" and one carrier loss.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "collectors/netdev/netlink_parse.h"

namespace foreshock::netdev {
namespace {

std::vector<std::uint8_t> fixture(const std::string& name) {
  std::ifstream f(std::string(FORESHOCK_SOURCE_DIR) + "/tests/fixtures/netdev/" + name,
                  std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(NetdevCapturedMessages, ParsesTheKernelsNewlinkOfAVeth) {
  auto link = parseLinkMessage(fixture("rtnl-newlink-fsnd-cap0.bin"));
  ASSERT_TRUE(link.ok()) << link.error().message;
  EXPECT_EQ(link->name, "fsnd-cap0");
  EXPECT_EQ(link->kind, "veth");
  EXPECT_EQ(*link->mtu, 9000u);
  EXPECT_EQ(link->alias, "uplink to sw1");
  EXPECT_TRUE(*link->carrier);
  // Two downs and two ups: the kernel also counts the carrier settling while the pair was
  // brought up one side at a time, then the capture's deliberate down/up of the peer.
  EXPECT_EQ(*link->carrier_down_count, 2u);
  EXPECT_EQ(*link->carrier_up_count, 2u);
  EXPECT_EQ(link->mac.size(), 17u);
  ASSERT_TRUE(link->stats);
  EXPECT_TRUE(link->stats->has_nohandler);
  EXPECT_TRUE(link->stats->has_otherhost_dropped);
}

TEST(NetdevCapturedMessages, ParsesTheKernelsNewlinkOfLoopback) {
  auto link = parseLinkMessage(fixture("rtnl-newlink-lo.bin"));
  ASSERT_TRUE(link.ok()) << link.error().message;
  EXPECT_EQ(link->name, "lo");
  EXPECT_TRUE(link->kind.empty());
  EXPECT_EQ(*link->mtu, 65536u);
}

TEST(NetdevCapturedMessages, ReadsVethSpeedFromEthtoolLinkModes) {
  auto lm = parseLinkModesReply(fixture("ethtool-linkmodes-fsnd-cap0.bin"));
  ASSERT_TRUE(lm.ok()) << lm.error().message;
  EXPECT_EQ(lm->dev.name, "fsnd-cap0");
  EXPECT_EQ(*lm->speed_mbps, 10000u);
  EXPECT_TRUE(*lm->full_duplex);
  EXPECT_FALSE(*lm->autoneg);
}

TEST(NetdevCapturedMessages, VethStatsReplyHasGroupsWithoutCounters) {
  auto st = parseStatsReply(fixture("ethtool-stats-fsnd-cap0.bin"));
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->dev.name, "fsnd-cap0");
  EXPECT_TRUE(st->mac.empty());
  EXPECT_TRUE(st->phy.empty());
  EXPECT_TRUE(st->rmon_rx.empty());
}

TEST(NetdevCapturedMessages, ModuleEepromOnVethIsRefusedWithEinval) {
  // Why the optics thread treats EINVAL like EOPNOTSUPP: this is what a device without a
  // module cage answers on this kernel.
  auto e = parseErrorMessage(fixture("ethtool-error-module-eeprom.bin"));
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->error, EINVAL);
  EXPECT_FALSE(parseModuleEepromReply(fixture("ethtool-error-module-eeprom.bin")).ok());
}

}  // namespace
}  // namespace foreshock::netdev
