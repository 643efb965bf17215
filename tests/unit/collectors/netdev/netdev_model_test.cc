#include "collectors/netdev/netdev_model.h"

#include <gtest/gtest.h>
#include <linux/ethtool_netlink.h>
#include <linux/if.h>
#include <linux/if_arp.h>

#include "collectors/registry.h"
#include "tests/unit/collectors/builtin_collector.h"

namespace foreshock::netdev {
namespace {

LinkMessage link(int ifindex, std::string name, std::string kind = "",
                 std::uint16_t type = ARPHRD_ETHER) {
  LinkMessage l;
  l.ifindex = ifindex;
  l.name = std::move(name);
  l.kind = std::move(kind);
  l.link_type = type;
  return l;
}

LinkMessage carrierState(int ifindex, bool carrier, std::uint32_t down, std::uint32_t changes) {
  LinkMessage l = link(ifindex, "eth" + std::to_string(ifindex));
  l.carrier = carrier;
  l.carrier_down_count = down;
  l.carrier_changes = changes;
  return l;
}

TEST(NetdevSelection, DefaultsToPhysicalBondBridgeAndVlanButNotLoopbackOrVeth) {
  LinkSelector sel({"physical", "bond", "bridge", "vlan"}, "", "");
  EXPECT_TRUE(sel.selected(link(2, "enp3s0")));
  EXPECT_TRUE(sel.selected(link(3, "bond0", "bond")));
  EXPECT_TRUE(sel.selected(link(4, "br0", "bridge")));
  EXPECT_TRUE(sel.selected(link(5, "bond0.100", "vlan")));
  EXPECT_FALSE(sel.selected(link(1, "lo", "", ARPHRD_LOOPBACK)));
  EXPECT_FALSE(sel.selected(link(6, "veth1a2b", "veth")));
  EXPECT_FALSE(sel.selected(link(7, "tap0", "tun")));
}

TEST(NetdevSelection, IncludeRegexAddsVethAndExcludeWinsOverEverything) {
  LinkSelector sel({"physical"}, "fsnd-.*", "fsnd-skip.*|enp9s0");
  EXPECT_TRUE(sel.selected(link(6, "fsnd-a", "veth")));
  EXPECT_FALSE(sel.selected(link(7, "fsnd-skip1", "veth")));
  EXPECT_FALSE(sel.selected(link(8, "enp9s0")));
  EXPECT_TRUE(sel.selected(link(9, "enp10s0")));
  // Whole-name match: a prefix alone does not select.
  EXPECT_FALSE(sel.selected(link(10, "xfsnd-a", "veth")));
}

TEST(NetdevFlapTracker, StartsFromZeroAtFirstSightWhateverTheKernelCountIs) {
  FlapTracker t;
  t.observe(carrierState(2, true, 40, 80), 100.0, false);
  auto s = t.get(2);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->flaps, 0u);
  EXPECT_EQ(s->last_change, 0.0);
}

TEST(NetdevFlapTracker, CountsEachCarrierLossFromEventsWithItsTime) {
  FlapTracker t;
  t.observe(carrierState(2, true, 0, 0), 100.0, false);
  t.observe(carrierState(2, false, 1, 1), 101.5, true);
  t.observe(carrierState(2, true, 1, 2), 102.0, true);
  auto s = t.get(2);
  EXPECT_EQ(s->flaps, 1u);
  EXPECT_EQ(s->last_change, 102.0);
  EXPECT_EQ(s->events, 2u);
}

TEST(NetdevFlapTracker, CountsAFlapWhoseEventsCoalescedFromTheKernelDownCount) {
  // Down and up happened before the event was built: the event already shows carrier up, but
  // the kernel's carrier_down_count moved by two.
  FlapTracker t;
  t.observe(carrierState(2, true, 5, 10), 100.0, false);
  t.observe(carrierState(2, true, 7, 14), 130.0, true);
  EXPECT_EQ(t.get(2)->flaps, 2u);
  EXPECT_EQ(t.get(2)->last_change, 130.0);
}

TEST(NetdevFlapTracker, FallsBackToObservedTransitionsWithoutKernelDownCount) {
  FlapTracker t;
  LinkMessage up = link(3, "eth3");
  up.carrier = true;
  LinkMessage down = up;
  down.carrier = false;
  t.observe(up, 1, false);
  t.observe(down, 2, true);
  t.observe(up, 3, true);
  t.observe(down, 4, true);
  EXPECT_EQ(t.get(3)->flaps, 2u);
  EXPECT_EQ(t.get(3)->last_change, 4.0);
}

TEST(NetdevFlapTracker, ReconcilesMissedEventsAtTheNextDump) {
  FlapTracker t;
  t.observe(carrierState(2, true, 0, 0), 100.0, false);
  t.countOverrun();
  t.observe(carrierState(2, true, 3, 6), 115.0, false);  // the next poll
  EXPECT_EQ(t.get(2)->flaps, 3u);
  EXPECT_EQ(t.get(2)->last_change, 115.0);
  EXPECT_EQ(t.overruns(), 1u);
}

TEST(NetdevFlapTracker, ForgetsDeletedLinksSoAReusedNameStartsAfresh) {
  FlapTracker t;
  t.observe(carrierState(2, true, 0, 0), 1, false);
  t.observe(carrierState(2, false, 1, 1), 2, true);
  LinkMessage del = link(2, "eth2");
  del.deleted = true;
  t.observe(del, 3, true);
  EXPECT_FALSE(t.get(2));
  t.observe(carrierState(4, true, 0, 0), 4, false);
  t.retainOnly({});
  EXPECT_FALSE(t.get(4));
}

LinkView viewWithStats(LinkStats s) {
  LinkView v;
  v.link = link(2, "enp3s0");
  v.kind = "physical";
  v.link.stats = s;
  v.link.carrier_changes = 4;
  return v;
}

TEST(NetdevClassification, GroupsCountersIntoPhysicalHostAndLink) {
  LinkStats s;
  s.rx_crc_errors = 5;
  s.rx_frame_errors = 1;
  s.rx_length_errors = 2;
  s.rx_dropped = 10;
  s.rx_missed_errors = 20;
  s.rx_over_errors = 3;
  s.rx_fifo_errors = 4;
  s.tx_dropped = 7;
  s.tx_fifo_errors = 1;
  s.tx_carrier_errors = 6;
  auto c = classify(viewWithStats(s));
  EXPECT_EQ(c.physical_rx, 8u);
  EXPECT_EQ(c.physical_tx, 6u);
  EXPECT_EQ(c.host_rx, 37u);
  EXPECT_EQ(c.host_tx, 8u);
  EXPECT_EQ(c.link, 4u);
}

TEST(NetdevClassification, CountsCrcAndFcsOfTheSameFramesOnceAndAddsSymbolAndFecErrors) {
  LinkStats s;
  s.rx_crc_errors = 5;
  auto v = viewWithStats(s);
  StandardStats st;
  st.mac[ETHTOOL_A_STATS_ETH_MAC_6_FCS_ERR] = 9;
  st.phy[ETHTOOL_A_STATS_ETH_PHY_5_SYM_ERR] = 100;
  v.standard = st;
  FecStats fec;
  fec.uncorrectable_blocks = 2;
  v.fec = fec;
  EXPECT_EQ(classify(v).physical_rx, 9u + 100u + 2u);
}

const prometheus::ClientMetric* series(const std::vector<prometheus::MetricFamily>& fams,
                                       const std::string& name, const Labels& labels) {
  const auto* f = findFamily(fams, name);
  if (f == nullptr) return nullptr;
  for (const auto& m : f->metric)
    if (labelsMatch(m, labels)) return &m;
  return nullptr;
}

TEST(NetdevRender, NamesCountersByDirectionAndKindWithTheInterfaceLabel) {
  LinkStats s;
  s.rx_crc_errors = 5;
  s.tx_dropped = 3;
  s.has_nohandler = true;
  auto v = viewWithStats(s);
  v.link.mtu = 9000;
  v.link.carrier = true;
  v.link.operstate = 6;
  v.link.flags = IFF_UP;
  v.link.permanent_mac = "0c:42:a1:10:20:30";
  LinkModes lm;
  lm.speed_mbps = 10000;
  lm.full_duplex = true;
  v.modes = lm;
  FlapTracker::State fs;
  fs.flaps = 2;
  fs.last_change = 1700000000.5;
  v.flaps = fs;
  MetricSet out;
  renderLinks({v}, {}, out);
  ASSERT_TRUE(out.conflicts().empty());
  auto fams = out.take();
  const Labels iface{{"interface", "enp3s0"}};
  const auto* crc = series(fams, "foreshock_network_receive_crc_errors_total", iface);
  ASSERT_NE(crc, nullptr);
  EXPECT_EQ(crc->counter.value, 5);
  EXPECT_EQ(findFamily(fams, "foreshock_network_receive_crc_errors_total")->type,
            prometheus::MetricType::Counter);
  EXPECT_EQ(series(fams, "foreshock_network_transmit_dropped_total", iface)->counter.value, 3);
  EXPECT_NE(series(fams, "foreshock_network_receive_nohandler_total", iface), nullptr);
  EXPECT_EQ(series(fams, "foreshock_network_receive_otherhost_dropped_total", iface), nullptr);
  EXPECT_EQ(series(fams, "foreshock_network_speed_bytes_per_second", iface)->gauge.value, 1.25e9);
  EXPECT_EQ(series(fams, "foreshock_network_mtu_bytes", iface)->gauge.value, 9000);
  EXPECT_EQ(series(fams, "foreshock_network_link_flaps_total", iface)->counter.value, 2);
  EXPECT_EQ(
      series(fams, "foreshock_network_link_last_change_timestamp_seconds", iface)->gauge.value,
      1700000000.5);
  EXPECT_EQ(series(fams, "foreshock_network_carrier_changes_total", iface)->counter.value, 4);
  EXPECT_NE(series(fams, "foreshock_network_info",
                   {{"interface", "enp3s0"}, {"permanent_mac", "0c:42:a1:10:20:30"}}),
            nullptr);
  EXPECT_EQ(series(fams, "foreshock_network_errors_total",
                   {{"interface", "enp3s0"}, {"class", "physical"}, {"direction", "receive"}})
                ->counter.value,
            5);
  EXPECT_EQ(
      series(fams, "foreshock_network_errors_total", {{"interface", "enp3s0"}, {"class", "link"}})
          ->counter.value,
      4);
}

TEST(NetdevRender, ExportsStandardCountersByIeeeNameAndModuleThresholds) {
  auto v = viewWithStats({});
  StandardStats st;
  st.mac[ETHTOOL_A_STATS_ETH_MAC_6_FCS_ERR] = 9;
  st.rmon_rx.push_back({1519, 0, 12});
  v.standard = st;
  ModuleReading m;
  m.ok = true;
  m.timestamp = 5;
  m.diag.identifier_name = "SFP";
  m.diag.rx_power_watts = {0.0005};
  Thresholds t{0.001, 0.00001, 0.0008, 0.00002};
  m.diag.rx_power_thresholds = t;
  v.module = m;
  MetricSet out;
  renderLinks({v}, {{"netns", "tenant1"}}, out);
  auto fams = out.take();
  EXPECT_EQ(series(fams, "foreshock_network_ieee8023_mac_total",
                   {{"interface", "enp3s0"}, {"counter", "FrameCheckSequenceErrors"}})
                ->counter.value,
            9);
  EXPECT_NE(series(fams, "foreshock_network_rmon_frames_total",
                   {{"direction", "receive"}, {"size", "1519-inf"}}),
            nullptr);
  EXPECT_EQ(series(fams, "foreshock_network_module_rx_power_watts",
                   {{"interface", "enp3s0"}, {"netns", "tenant1"}, {"lane", "1"}})
                ->gauge.value,
            0.0005);
  EXPECT_EQ(
      series(fams, "foreshock_network_module_rx_power_threshold_watts", {{"level", "low_warning"}})
          ->gauge.value,
      0.00002);
  EXPECT_EQ(series(fams, "foreshock_network_module_up", {{"interface", "enp3s0"}})->gauge.value, 1);
}

TEST(NetdevRender, ReportsAnUnreadableModuleOnItsUpSeriesWithTheReason) {
  auto v = viewWithStats({});
  ModuleReading m;
  m.ok = false;
  m.error = "netlink reply timed out";
  v.module = m;
  MetricSet out;
  renderLinks({v}, {}, out);
  auto fams = out.take();
  const auto* up = series(fams, "foreshock_network_module_up",
                          {{"interface", "enp3s0"}, {"reason", "netlink reply timed out"}});
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->gauge.value, 0);
  EXPECT_EQ(findFamily(fams, "foreshock_network_module_temperature_celsius"), nullptr);
}

TEST(NetdevCollector, IsRegisteredAndCollectsTheOwnNamespaceWithoutLoopback) {
  auto c = test::makeBuiltinCollector("netdev", [](const CollectorInfo&, CollectorContext& ctx) {
    ctx.config.values["optics"] = false;
  });
  ASSERT_TRUE(c.ok()) << c.error().message;
  MetricSet out;
  Status st = (*c)->collect(out);
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto fams = out.take();
  ASSERT_NE(findFamily(fams, "foreshock_network_selected_interfaces"), nullptr);
  EXPECT_EQ(series(fams, "foreshock_network_up", {{"interface", "lo"}}), nullptr);
}

}  // namespace
}  // namespace foreshock::netdev
