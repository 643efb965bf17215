#include <gtest/gtest.h>

#include "collectors/probe/probe_collector.h"
#include "collectors/probe/resolver.h"

namespace foreshock {
namespace {

ConfigSection probeSection(std::vector<ConfigSection> targets) {
  auto info = probeCollectorInfo();
  auto s = defaultsFor(info.options, "collectors.probe");
  s.values["targets"] = std::move(targets);
  return s;
}

ConfigSection target(int index, std::map<std::string, ConfigValue> values) {
  ConfigSection t;
  t.path = "collectors.probe.targets[" + std::to_string(index) + "]";
  t.values = std::move(values);
  if (!t.has("kind")) t.values["kind"] = std::string("icmp");
  if (!t.has("labels")) t.values["labels"] = StringMap{};
  return t;
}

TEST(ProbeConfig, BuildsTargetsWithPerKindDefaults) {
  auto o = proberOptionsFromConfig(
      probeSection(
          {target(0, {{"name", std::string("db")},
                      {"address", std::string("10.1.2.3")},
                      {"kind", std::string("tcp")},
                      {"port", std::int64_t{5432}},
                      {"labels", StringMap{{"service", "postgres"}}}}),
           target(1, {{"name", std::string("r")}, {"address", std::string("2001:db8::1")}})}),
      HostPaths{});
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_EQ(o->targets.size(), 2u);
  EXPECT_EQ(o->targets[0].kind, ProbeKind::kTcp);
  EXPECT_EQ(o->targets[0].port, 5432);
  EXPECT_EQ(o->targets[0].interval, std::chrono::seconds(5));
  EXPECT_EQ(o->targets[0].timeout, std::chrono::seconds(8));
  EXPECT_EQ(o->targets[0].labels, (Labels{{"service", "postgres"}}));
  EXPECT_EQ(o->targets[1].interval, std::chrono::seconds(1));
  EXPECT_EQ(o->gateway_kinds,
            (std::vector<ProbeKind>{ProbeKind::kIcmp, ProbeKind::kArp, ProbeKind::kNdp}));
}

TEST(ProbeConfig, TakesAHostNameAsANameToResolve) {
  auto o = proberOptionsFromConfig(
      probeSection(
          {target(0, {{"name", std::string("db")}, {"address", std::string("db.internal")}})}),
      HostPaths{});
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_EQ(o->targets.size(), 1u);
  EXPECT_EQ(o->targets[0].host, "db.internal");
  EXPECT_EQ(o->targets[0].config_error, "");
}

TEST(ProbeConfig, ABrokenTargetIsMarkedAndTheOthersStay) {
  auto o = proberOptionsFromConfig(
      probeSection(
          {target(0, {{"name", std::string("bad")}, {"address", std::string("not a host!")}}),
           target(1, {{"name", std::string("ok")}, {"address", std::string("10.1.2.3")}})}),
      HostPaths{});
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_EQ(o->targets.size(), 2u);
  EXPECT_NE(o->targets[0].config_error.find(
                "collectors.probe.targets[0].address: \"not a host!\" is neither"),
            std::string::npos)
      << o->targets[0].config_error;
  EXPECT_EQ(o->targets[1].config_error, "");
}

TEST(ProbeConfig, MarksATcpTargetWithoutPortAndReservedLabels) {
  auto no_port =
      proberOptionsFromConfig(probeSection({target(0, {{"name", std::string("db")},
                                                       {"address", std::string("10.1.2.3")},
                                                       {"kind", std::string("tcp")}})}),
                              HostPaths{});
  ASSERT_TRUE(no_port.ok());
  EXPECT_NE(no_port->targets[0].config_error.find("targets[0].port"), std::string::npos);
  auto reserved = proberOptionsFromConfig(
      probeSection({target(0, {{"name", std::string("x")},
                               {"address", std::string("10.1.2.3")},
                               {"labels", StringMap{{"interface", "eth9"}}}})}),
      HostPaths{});
  ASSERT_TRUE(reserved.ok());
  EXPECT_NE(reserved->targets[0].config_error.find("\"interface\""), std::string::npos);
  EXPECT_TRUE(reserved->targets[0].labels.empty());
}

TEST(ProbeConfig, MarksArpForIpv6) {
  auto o = proberOptionsFromConfig(probeSection({target(2, {{"name", std::string("x")},
                                                            {"address", std::string("fd00::1")},
                                                            {"kind", std::string("arp")}})}),
                                   HostPaths{});
  ASSERT_TRUE(o.ok());
  EXPECT_NE(o->targets[0].config_error.find("targets[2].address: ARP"), std::string::npos);
}

TEST(ProbeConfig, RejectsNdpForIpv4AndAcceptsItForIpv6) {
  auto v4 = proberOptionsFromConfig(probeSection({target(0, {{"name", std::string("x")},
                                                             {"address", std::string("10.1.2.3")},
                                                             {"kind", std::string("ndp")}})}),
                                    HostPaths{});
  ASSERT_TRUE(v4.ok());
  EXPECT_NE(v4->targets[0].config_error.find("targets[0].address: NDP probes need an IPv6 address"),
            std::string::npos);
  auto v6 = proberOptionsFromConfig(probeSection({target(0, {{"name", std::string("gw")},
                                                             {"address", std::string("fe80::1")},
                                                             {"kind", std::string("ndp")}})}),
                                    HostPaths{});
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(v6->targets[0].kind, ProbeKind::kNdp);
}

TEST(HostNames, AcceptsDnsNamesAndRejectsEverythingElse) {
  EXPECT_TRUE(isValidHostName("gw"));
  EXPECT_TRUE(isValidHostName("db-1.internal.example"));
  EXPECT_TRUE(isValidHostName("_srv.example"));
  EXPECT_FALSE(isValidHostName(""));
  EXPECT_FALSE(isValidHostName("not a host"));
  EXPECT_FALSE(isValidHostName("-lead.example"));
  EXPECT_FALSE(isValidHostName("trail-.example"));
  EXPECT_FALSE(isValidHostName("a..b"));
  EXPECT_FALSE(isValidHostName("10.0.0.300:80"));
  EXPECT_FALSE(isValidHostName("10.0.0.300"));
  EXPECT_FALSE(isValidHostName(std::string(64, 'a') + ".example"));
  EXPECT_FALSE(isValidHostName(std::string(254, 'a')));
}

}  // namespace
}  // namespace foreshock
