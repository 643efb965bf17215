#include "collectors/netdev/netlink_parse.h"

#include <gtest/gtest.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cstddef>

#include "tests/unit/collectors/netdev/nl_builder.h"

namespace foreshock::netdev {
namespace {

using testing::genl;
using testing::MsgBuilder;

constexpr std::uint16_t kEthtoolFamily = 27;

// An RTM_NEWLINK as the kernel sends it for a NIC behind a PCI function.
MsgBuilder newlink(int ifindex, const std::string& name) {
  MsgBuilder b(RTM_NEWLINK, sizeof(ifinfomsg));
  b.header<ifinfomsg>()->ifi_index = ifindex;
  b.header<ifinfomsg>()->ifi_type = ARPHRD_ETHER;
  b.header<ifinfomsg>()->ifi_flags = IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
  b.str(IFLA_IFNAME, name);
  return b;
}

TEST(NetdevLinkParser, ReadsCountersStateAndIdentityFromNewlinkMessage) {
  rtnl_link_stats64 s{};
  s.rx_bytes = 1000;
  s.tx_packets = 7;
  s.rx_crc_errors = 3;
  s.rx_missed_errors = 11;
  s.tx_carrier_errors = 2;
  s.rx_nohandler = 5;
  s.rx_otherhost_dropped = 9;
  const std::uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x01};
  const std::uint8_t perm[6] = {0x0c, 0x42, 0xa1, 0x10, 0x20, 0x30};
  auto b = newlink(4, "enp3s0");
  b.u32(IFLA_MTU, 9000)
      .u8(IFLA_OPERSTATE, IF_OPER_UP)
      .u8(IFLA_CARRIER, 1)
      .u32(IFLA_CARRIER_CHANGES, 6)
      .u32(IFLA_CARRIER_UP_COUNT, 3)
      .u32(IFLA_CARRIER_DOWN_COUNT, 3)
      .str(IFLA_IFALIAS, "uplink to sw1")
      .bytes(IFLA_ADDRESS, mac, 6)
      .bytes(IFLA_PERM_ADDRESS, perm, 6)
      .str(IFLA_PARENT_DEV_NAME, "0000:03:00.0")
      .str(IFLA_PARENT_DEV_BUS_NAME, "pci")
      .bytes(IFLA_STATS64, &s, sizeof(s));
  auto link = parseLinkMessage(b.span());
  ASSERT_TRUE(link.ok()) << link.error().message;
  EXPECT_EQ(link->name, "enp3s0");
  EXPECT_EQ(link->ifindex, 4);
  EXPECT_TRUE(link->adminUp());
  EXPECT_EQ(*link->mtu, 9000u);
  EXPECT_EQ(*link->operstate, IF_OPER_UP);
  EXPECT_TRUE(*link->carrier);
  EXPECT_EQ(*link->carrier_changes, 6u);
  EXPECT_EQ(*link->carrier_down_count, 3u);
  EXPECT_EQ(link->alias, "uplink to sw1");
  EXPECT_EQ(link->mac, "02:00:00:00:00:01");
  EXPECT_EQ(link->permanent_mac, "0c:42:a1:10:20:30");
  EXPECT_EQ(link->parent_dev, "0000:03:00.0");
  EXPECT_EQ(link->parent_bus, "pci");
  ASSERT_TRUE(link->stats);
  EXPECT_EQ(link->stats->rx_bytes, 1000u);
  EXPECT_EQ(link->stats->rx_crc_errors, 3u);
  EXPECT_EQ(link->stats->rx_missed_errors, 11u);
  EXPECT_EQ(link->stats->tx_carrier_errors, 2u);
  EXPECT_TRUE(link->stats->has_nohandler);
  EXPECT_EQ(link->stats->rx_nohandler, 5u);
  EXPECT_TRUE(link->stats->has_otherhost_dropped);
  EXPECT_EQ(link->stats->rx_otherhost_dropped, 9u);
}

TEST(NetdevLinkParser, AcceptsTheShorterStats64OfAnOlderKernel) {
  rtnl_link_stats64 s{};
  s.rx_dropped = 42;
  // A 4.x kernel's struct ends before rx_nohandler.
  auto b = newlink(2, "eth0");
  b.bytes(IFLA_STATS64, &s, offsetof(rtnl_link_stats64, rx_nohandler));
  auto link = parseLinkMessage(b.span());
  ASSERT_TRUE(link.ok()) << link.error().message;
  EXPECT_EQ(link->stats->rx_dropped, 42u);
  EXPECT_FALSE(link->stats->has_nohandler);
  EXPECT_FALSE(link->stats->has_otherhost_dropped);
}

TEST(NetdevLinkParser, ReadsTheLinkKindFromLinkinfo) {
  auto b = newlink(9, "veth0");
  b.begin(IFLA_LINKINFO).str(IFLA_INFO_KIND, "veth").end();
  auto link = parseLinkMessage(b.span());
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->kind, "veth");
}

TEST(NetdevLinkParser, MarksDellinkMessagesAsDeleted) {
  MsgBuilder b(RTM_DELLINK, sizeof(ifinfomsg));
  b.header<ifinfomsg>()->ifi_index = 12;
  b.str(IFLA_IFNAME, "gone0");
  auto link = parseLinkMessage(b.span());
  ASSERT_TRUE(link.ok());
  EXPECT_TRUE(link->deleted);
}

TEST(NetdevLinkParser, RejectsALengthFieldLargerThanTheBytesReceived) {
  auto bytes = newlink(3, "eth1").vec();
  bytes.resize(bytes.size() - 4);  // the message claims 4 bytes more than we have
  auto link = parseLinkMessage(bytes);
  ASSERT_FALSE(link.ok());
  EXPECT_NE(link.error().message.find("does not fit"), std::string::npos);
}

TEST(NetdevLinkParser, RejectsAStats64TooShortToHoldTheBasicCounters) {
  std::uint8_t junk[16] = {};
  auto b = newlink(3, "eth1");
  b.bytes(IFLA_STATS64, junk, sizeof(junk));
  auto link = parseLinkMessage(b.span());
  ASSERT_FALSE(link.ok());
  EXPECT_NE(link.error().message.find("eth1"), std::string::npos);
}

TEST(NetdevLinkParser, RejectsALinkWithoutAName) {
  MsgBuilder b(RTM_NEWLINK, sizeof(ifinfomsg));
  b.header<ifinfomsg>()->ifi_index = 5;
  auto link = parseLinkMessage(b.span());
  ASSERT_FALSE(link.ok());
  EXPECT_NE(link.error().message.find("ifindex 5"), std::string::npos);
}

TEST(NetdevLinkParser, ParsesAMessageAtAnUnalignedAddress) {
  auto bytes = newlink(3, "eth1").u32(IFLA_MTU, 1500).vec();
  std::vector<std::uint8_t> shifted(bytes.size() + 1);
  std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
  auto link = parseLinkMessage(std::span(shifted).subspan(1));
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(*link->mtu, 1500u);
}

TEST(NetdevLinkParser, StopsAtAnAttributeThatRunsPastTheEnd) {
  auto b = newlink(3, "eth1");
  b.u32(IFLA_MTU, 1500);
  auto bytes = b.vec();
  // Corrupt the MTU attribute's length so it claims to run past the message.
  auto* nlh = reinterpret_cast<nlmsghdr*>(bytes.data());
  auto* last = reinterpret_cast<nlattr*>(bytes.data() + nlh->nlmsg_len - 8);
  last->nla_len = 200;
  auto link = parseLinkMessage(bytes);
  ASSERT_TRUE(link.ok());
  EXPECT_FALSE(link->mtu.has_value());
}

// --- ethtool -----------------------------------------------------------------------------

void header(MsgBuilder& b, std::uint16_t attr, std::uint32_t ifindex, const std::string& name) {
  b.begin(attr).u32(ETHTOOL_A_HEADER_DEV_INDEX, ifindex).str(ETHTOOL_A_HEADER_DEV_NAME, name).end();
}

TEST(EthtoolParser, ReadsSpeedDuplexAndAutonegFromLinkModesReply) {
  auto b = genl(kEthtoolFamily, ETHTOOL_MSG_LINKMODES_GET_REPLY);
  header(b, ETHTOOL_A_LINKMODES_HEADER, 4, "enp3s0");
  b.u8(ETHTOOL_A_LINKMODES_AUTONEG, AUTONEG_ENABLE)
      .u32(ETHTOOL_A_LINKMODES_SPEED, 25000)
      .u8(ETHTOOL_A_LINKMODES_DUPLEX, DUPLEX_FULL)
      .u32(ETHTOOL_A_LINKMODES_LANES, 1);
  auto lm = parseLinkModesReply(b.span());
  ASSERT_TRUE(lm.ok()) << lm.error().message;
  EXPECT_EQ(lm->dev.ifindex, 4u);
  EXPECT_EQ(lm->dev.name, "enp3s0");
  EXPECT_EQ(*lm->speed_mbps, 25000u);
  EXPECT_TRUE(*lm->full_duplex);
  EXPECT_TRUE(*lm->autoneg);
  EXPECT_EQ(*lm->lanes, 1u);
}

TEST(EthtoolParser, LeavesSpeedAndDuplexAbsentWhenTheLinkIsDown) {
  auto b = genl(kEthtoolFamily, ETHTOOL_MSG_LINKMODES_GET_REPLY);
  header(b, ETHTOOL_A_LINKMODES_HEADER, 4, "enp3s0");
  b.u32(ETHTOOL_A_LINKMODES_SPEED, static_cast<std::uint32_t>(SPEED_UNKNOWN))
      .u8(ETHTOOL_A_LINKMODES_DUPLEX, DUPLEX_UNKNOWN);
  auto lm = parseLinkModesReply(b.span());
  ASSERT_TRUE(lm.ok());
  EXPECT_FALSE(lm->speed_mbps);
  EXPECT_FALSE(lm->full_duplex);
}

TEST(EthtoolParser, RejectsAReplyWithoutDeviceHeader) {
  auto b = genl(kEthtoolFamily, ETHTOOL_MSG_LINKMODES_GET_REPLY);
  b.u32(ETHTOOL_A_LINKMODES_SPEED, 1000);
  EXPECT_FALSE(parseLinkModesReply(b.span()).ok());
}

// One counter the way the kernel's stat_put() writes it: its own GRP_STAT nest, the counter id
// as the attribute type.
void stat(MsgBuilder& b, std::uint16_t id, std::uint64_t v) {
  b.begin(ETHTOOL_A_STATS_GRP_STAT).u64(id, v).end();
}

TEST(EthtoolParser, ReadsFrameCheckSequenceErrorsFromTheEthMacGroup) {
  auto b = genl(kEthtoolFamily, ETHTOOL_MSG_STATS_GET_REPLY);
  header(b, ETHTOOL_A_STATS_HEADER, 7, "ens1f0");
  b.begin(ETHTOOL_A_STATS_GRP)
      .u32(ETHTOOL_A_STATS_GRP_ID, ETHTOOL_STATS_ETH_MAC)
      .u32(ETHTOOL_A_STATS_GRP_SS_ID, ETH_SS_STATS_ETH_MAC);
  stat(b, ETHTOOL_A_STATS_ETH_MAC_2_TX_PKT, 1000);
  stat(b, ETHTOOL_A_STATS_ETH_MAC_6_FCS_ERR, 17);
  b.end();
  b.begin(ETHTOOL_A_STATS_GRP).u32(ETHTOOL_A_STATS_GRP_ID, ETHTOOL_STATS_ETH_PHY);
  stat(b, ETHTOOL_A_STATS_ETH_PHY_5_SYM_ERR, 4);
  b.end();
  auto st = parseStatsReply(b.span());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->dev.ifindex, 7u);
  EXPECT_EQ(st->mac.at(ETHTOOL_A_STATS_ETH_MAC_6_FCS_ERR), 17u);
  EXPECT_EQ(st->mac.at(ETHTOOL_A_STATS_ETH_MAC_2_TX_PKT), 1000u);
  EXPECT_EQ(st->phy.at(ETHTOOL_A_STATS_ETH_PHY_5_SYM_ERR), 4u);
  EXPECT_EQ(standardStatName(ETHTOOL_STATS_ETH_MAC, ETHTOOL_A_STATS_ETH_MAC_6_FCS_ERR),
            "FrameCheckSequenceErrors");
  EXPECT_EQ(standardStatName(ETHTOOL_STATS_ETH_MAC, ETHTOOL_A_STATS_ETH_MAC_25_TOO_LONG_ERR),
            "FrameTooLongErrors");
  EXPECT_EQ(standardStatName(ETHTOOL_STATS_ETH_PHY, ETHTOOL_A_STATS_ETH_PHY_5_SYM_ERR),
            "SymbolErrorDuringCarrier");
}

TEST(EthtoolParser, KeepsAnEmptyGroupEmptyRatherThanZero) {
  // veth answers a stats request with group nests that hold no counter.
  auto b = genl(kEthtoolFamily, ETHTOOL_MSG_STATS_GET_REPLY);
  header(b, ETHTOOL_A_STATS_HEADER, 9, "veth0");
  b.begin(ETHTOOL_A_STATS_GRP).u32(ETHTOOL_A_STATS_GRP_ID, ETHTOOL_STATS_ETH_MAC).end();
  auto st = parseStatsReply(b.span());
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->mac.empty());
}

TEST(EthtoolParser, ReadsRmonCountersAndSizeHistogram) {
  auto b = genl(kEthtoolFamily, ETHTOOL_MSG_STATS_GET_REPLY);
  header(b, ETHTOOL_A_STATS_HEADER, 7, "ens1f0");
  b.begin(ETHTOOL_A_STATS_GRP).u32(ETHTOOL_A_STATS_GRP_ID, ETHTOOL_STATS_RMON);
  stat(b, ETHTOOL_A_STATS_RMON_UNDERSIZE, 2);
  b.begin(ETHTOOL_A_STATS_GRP_HIST_RX)
      .u32(ETHTOOL_A_STATS_GRP_HIST_BKT_LOW, 0)
      .u32(ETHTOOL_A_STATS_GRP_HIST_BKT_HI, 64)
      .u64(ETHTOOL_A_STATS_GRP_HIST_VAL, 100)
      .end();
  b.begin(ETHTOOL_A_STATS_GRP_HIST_TX)
      .u32(ETHTOOL_A_STATS_GRP_HIST_BKT_LOW, 1519)
      .u64(ETHTOOL_A_STATS_GRP_HIST_VAL, 5)
      .end();
  b.end();
  auto st = parseStatsReply(b.span());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->rmon.at(ETHTOOL_A_STATS_RMON_UNDERSIZE), 2u);
  ASSERT_EQ(st->rmon_rx.size(), 1u);
  EXPECT_EQ(st->rmon_rx[0].high, 64u);
  EXPECT_EQ(st->rmon_rx[0].frames, 100u);
  ASSERT_EQ(st->rmon_tx.size(), 1u);
  EXPECT_EQ(st->rmon_tx[0].low, 1519u);
  EXPECT_EQ(st->rmon_tx[0].high, 0u);
}

TEST(EthtoolParser, RejectsAStatsGroupWithoutId) {
  auto b = genl(kEthtoolFamily, ETHTOOL_MSG_STATS_GET_REPLY);
  header(b, ETHTOOL_A_STATS_HEADER, 7, "ens1f0");
  b.begin(ETHTOOL_A_STATS_GRP);
  stat(b, 0, 1);
  b.end();
  auto st = parseStatsReply(b.span());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("ens1f0"), std::string::npos);
}

TEST(EthtoolParser, TakesTheTotalOfEachFecCounterArray) {
  auto b = genl(kEthtoolFamily, ETHTOOL_MSG_FEC_GET_REPLY);
  header(b, ETHTOOL_A_FEC_HEADER, 7, "ens1f0");
  b.u32(ETHTOOL_A_FEC_ACTIVE, ETHTOOL_LINK_MODE_FEC_RS_BIT);
  const std::uint64_t corrected[] = {1000, 400, 600};  // total, lane 0, lane 1
  const std::uint64_t uncorr[] = {3, 1, 2};
  b.begin(ETHTOOL_A_FEC_STATS)
      .bytes(ETHTOOL_A_FEC_STAT_CORRECTED, corrected, sizeof(corrected))
      .bytes(ETHTOOL_A_FEC_STAT_UNCORR, uncorr, sizeof(uncorr))
      .end();
  auto fec = parseFecReply(b.span());
  ASSERT_TRUE(fec.ok()) << fec.error().message;
  EXPECT_EQ(*fec->corrected_blocks, 1000u);
  EXPECT_EQ(*fec->uncorrectable_blocks, 3u);
  EXPECT_FALSE(fec->corrected_bits);
  EXPECT_EQ(*fec->active_mode, static_cast<std::uint32_t>(ETHTOOL_LINK_MODE_FEC_RS_BIT));
}

TEST(EthtoolParser, ReturnsTheModuleEepromPageBytes) {
  std::uint8_t page[128] = {0x03, 0x04, 0x07};
  auto b = genl(kEthtoolFamily, ETHTOOL_MSG_MODULE_EEPROM_GET_REPLY);
  header(b, ETHTOOL_A_MODULE_EEPROM_HEADER, 7, "ens1f0");
  b.bytes(ETHTOOL_A_MODULE_EEPROM_DATA, page, sizeof(page));
  auto data = parseModuleEepromReply(b.span());
  ASSERT_TRUE(data.ok());
  ASSERT_EQ(data->size(), 128u);
  EXPECT_EQ((*data)[0], 0x03);
}

TEST(EthtoolParser, ReadsTheKernelsExplanationFromAnExtendedAck) {
  MsgBuilder b(NLMSG_ERROR, sizeof(nlmsgerr));
  b.header<nlmsgerr>()->error = -EOPNOTSUPP;
  b.header<nlmsgerr>()->msg.nlmsg_len = sizeof(nlmsghdr);
  b.nlh()->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
  b.str(NLMSGERR_ATTR_MSG, "module EEPROM not supported");
  auto e = parseErrorMessage(b.span());
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->error, EOPNOTSUPP);
  EXPECT_EQ(e->message, "module EEPROM not supported");
}

TEST(EthtoolParser, ResolvesTheFamilyIdFromCtrlReply) {
  auto b = genl(GENL_ID_CTRL, CTRL_CMD_NEWFAMILY);
  b.str(CTRL_ATTR_FAMILY_NAME, "ethtool").u16(CTRL_ATTR_FAMILY_ID, 27);
  auto id = parseFamilyReply(b.span());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 27);
}

TEST(EthtoolStrings, SplitsTheFixedWidthNamesOfEthtoolS) {
  std::vector<std::uint8_t> buf(3 * ETH_GSTRING_LEN, 0);
  std::memcpy(buf.data(), "peer_ifindex", 12);
  std::memcpy(buf.data() + ETH_GSTRING_LEN, "rx_queue_0_xdp_packets", 22);
  std::memset(buf.data() + 2 * ETH_GSTRING_LEN, 'x', ETH_GSTRING_LEN);  // no NUL at all
  auto names = parseGstrings(buf, 3);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ((*names)[0], "peer_ifindex");
  EXPECT_EQ((*names)[1], "rx_queue_0_xdp_packets");
  EXPECT_EQ((*names)[2].size(), static_cast<std::size_t>(ETH_GSTRING_LEN));
  auto too_many = parseGstrings(buf, 4);
  ASSERT_FALSE(too_many.ok());
}

}  // namespace
}  // namespace foreshock::netdev
