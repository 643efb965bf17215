#include "collectors/lldp/neighbor_table.h"

#include <gtest/gtest.h>

namespace foreshock {
namespace {

using std::chrono::seconds;

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
  const auto t0 = std::chrono::steady_clock::time_point(seconds(1000));
  EXPECT_TRUE(t.update("eth0", switchPort("swp-a", 4), t0, 1.0));
  EXPECT_EQ(t.expire(t0 + seconds(3)), 0u);
  EXPECT_EQ(t.entries().size(), 1u);
  EXPECT_EQ(t.expire(t0 + seconds(4)), 1u);
  EXPECT_TRUE(t.entries().empty());
  EXPECT_EQ(t.changesByInterface().at("eth0"), 2u);  // appeared, aged out
}

TEST(NeighborTable, RefreshingWithTheSameIdentityIsNotAChange) {
  NeighborTable t;
  const auto t0 = std::chrono::steady_clock::time_point(seconds(1000));
  t.update("eth0", switchPort("swp-a", 4), t0, 1.0);
  EXPECT_FALSE(t.update("eth0", switchPort("swp-a", 4), t0 + seconds(3), 4.0));
  EXPECT_EQ(t.expire(t0 + seconds(5)), 0u);  // the refresh extended its life
  EXPECT_EQ(t.changesByInterface().at("eth0"), 1u);
}

TEST(NeighborTable, ZeroTtlRemovesTheNeighbourAtOnce) {
  NeighborTable t;
  const auto t0 = std::chrono::steady_clock::time_point(seconds(1000));
  t.update("eth0", switchPort("swp-a", 120), t0, 1.0);
  EXPECT_TRUE(t.update("eth0", switchPort("swp-a", 0), t0 + seconds(1), 2.0));
  EXPECT_TRUE(t.entries().empty());
}

TEST(NeighborTable, CountsASystemNameChangeAndListsManagementAddresses) {
  NeighborTable t;
  const auto t0 = std::chrono::steady_clock::time_point(seconds(1000));
  t.update("eth0", switchPort("swp-a", 120), t0, 1.0);
  auto renamed = switchPort("swp-a", 120);
  renamed.system_name = "sw2.test";
  EXPECT_TRUE(t.update("eth0", renamed, t0, 2.0));
  auto m = t.managementAddresses();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].interface, "eth0");
  EXPECT_EQ(m[0].address.address, "10.200.0.254");
  EXPECT_EQ(m[0].system_name, "sw2.test");
}

}  // namespace
}  // namespace foreshock
