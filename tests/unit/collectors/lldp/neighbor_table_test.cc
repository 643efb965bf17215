#include "collectors/lldp/neighbor_table.h"

#include <gtest/gtest.h>

namespace foreshock {
namespace {

using std::chrono::seconds;

// Where every test's clock starts.
const auto kT0 = std::chrono::steady_clock::time_point(seconds(1000));

LldpNeighbor switchPort(std::string port, std::uint16_t ttl) {
  LldpNeighbor n;
  n.chassis_id = "a6:e5:4a:30:97:48";
  n.port_id = std::move(port);
  n.system_name = "sw1.test";
  n.ttl_seconds = ttl;
  n.management_addresses.push_back({1, "10.200.0.254", 2, 2});
  return n;
}

TEST(NeighborTable, AgesANeighbourOutAfterItsTtl) {
  NeighborTable t;
  EXPECT_EQ(t.update("eth0", switchPort("swp-a", 4), kT0, 1.0), NeighborUpdate::kChanged);
  EXPECT_EQ(t.expire(kT0 + seconds(3)), 0u);
  EXPECT_EQ(t.entries().size(), 1u);
  EXPECT_EQ(t.expire(kT0 + seconds(4)), 1u);
  EXPECT_TRUE(t.entries().empty());
  EXPECT_EQ(t.changesByInterface().at("eth0"), 2u);  // appeared, aged out
}

TEST(NeighborTable, RefreshingWithTheSameIdentityIsNotAChange) {
  NeighborTable t;
  t.update("eth0", switchPort("swp-a", 4), kT0, 1.0);
  EXPECT_EQ(t.update("eth0", switchPort("swp-a", 4), kT0 + seconds(3), 4.0),
            NeighborUpdate::kRefreshed);
  EXPECT_EQ(t.expire(kT0 + seconds(5)), 0u);  // the refresh extended its life
  EXPECT_EQ(t.changesByInterface().at("eth0"), 1u);
}

TEST(NeighborTable, ZeroTtlRemovesTheNeighbourAtOnce) {
  NeighborTable t;
  t.update("eth0", switchPort("swp-a", 120), kT0, 1.0);
  EXPECT_EQ(t.update("eth0", switchPort("swp-a", 0), kT0 + seconds(1), 2.0),
            NeighborUpdate::kChanged);
  EXPECT_TRUE(t.entries().empty());
}

TEST(NeighborTable, CountsASystemNameChangeAndListsManagementAddresses) {
  NeighborTable t;
  t.update("eth0", switchPort("swp-a", 120), kT0, 1.0);
  auto renamed = switchPort("swp-a", 120);
  renamed.system_name = "sw2.test";
  EXPECT_EQ(t.update("eth0", renamed, kT0, 2.0), NeighborUpdate::kChanged);
  auto m = t.managementAddresses();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].interface, "eth0");
  EXPECT_EQ(m[0].address.address, "10.200.0.254");
  EXPECT_EQ(m[0].system_name, "sw2.test");
}

LldpNeighbor madeUp(int i, std::uint16_t ttl = 120) {
  LldpNeighbor n;
  n.chassis_id = "flood-" + std::to_string(i);
  n.port_id = "p";
  n.ttl_seconds = ttl;
  n.management_addresses.push_back(
      {1, "10.77." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1), 2, 2});
  return n;
}

TEST(NeighborTable, AFloodOfMadeUpChassisIdsStopsAtTheInterfaceLimitAndIsCounted) {
  NeighborTable t;
  t.setLimits({.per_interface = 4, .total = 100});
  EXPECT_EQ(t.update("eth0", switchPort("swp-a", 120), kT0, 1.0), NeighborUpdate::kChanged);
  for (int i = 0; i < 5000; ++i) t.update("eth0", madeUp(i), kT0, 1.0);
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t.droppedByInterface().at("eth0").interface_limit, 5000u - 3u);
  EXPECT_EQ(t.droppedByInterface().at("eth0").table_limit, 0u);
  EXPECT_EQ(t.changesByInterface().at("eth0"), 4u);  // only the accepted ones are changes
  EXPECT_EQ(t.managementAddresses().size(), 4u);
  // The switch heard before the flood keeps its place and is still refreshed.
  EXPECT_EQ(t.update("eth0", switchPort("swp-a", 120), kT0 + seconds(30), 31.0),
            NeighborUpdate::kRefreshed);
  bool found = false;
  for (const auto& e : t.entries()) found |= e.neighbor.system_name == "sw1.test";
  EXPECT_TRUE(found);
}

TEST(NeighborTable, TheTotalLimitHoldsAcrossInterfaces) {
  NeighborTable t;
  t.setLimits({.per_interface = 3, .total = 5});
  for (int i = 0; i < 10; ++i) t.update("eth0", madeUp(i), kT0, 1.0);
  for (int i = 0; i < 10; ++i) t.update("eth1", madeUp(i), kT0, 1.0);
  EXPECT_EQ(t.size(), 5u);
  const auto d = t.droppedByInterface();
  EXPECT_EQ(d.at("eth0").interface_limit, 7u);
  EXPECT_EQ(d.at("eth1").table_limit, 8u);  // eth1 got 2 before the table was full
  EXPECT_EQ(t.update("eth2", madeUp(1), kT0, 1.0), NeighborUpdate::kTableFull);
}

TEST(NeighborTable, ASlotFreedByAgeingOrShutdownTakesANewNeighbourAgain) {
  NeighborTable t;
  t.setLimits({.per_interface = 2, .total = 10});
  t.update("eth0", madeUp(1, 4), kT0, 1.0);
  t.update("eth0", madeUp(2, 120), kT0, 1.0);
  EXPECT_EQ(t.update("eth0", madeUp(3), kT0, 1.0), NeighborUpdate::kInterfaceFull);
  EXPECT_EQ(t.expire(kT0 + seconds(5)), 1u);
  EXPECT_EQ(t.update("eth0", madeUp(3), kT0 + seconds(5), 6.0), NeighborUpdate::kChanged);
  EXPECT_EQ(t.update("eth0", madeUp(2, 0), kT0 + seconds(6), 7.0), NeighborUpdate::kChanged);
  EXPECT_EQ(t.update("eth0", madeUp(4), kT0 + seconds(6), 7.0), NeighborUpdate::kChanged);
  t.removeInterface("eth0");
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.update("eth0", madeUp(5), kT0 + seconds(7), 8.0), NeighborUpdate::kChanged);
}

}  // namespace
}  // namespace foreshock
