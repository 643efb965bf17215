// The smart collector created by name from the registry, as the agent creates it.
#include <gtest/gtest.h>

#include <filesystem>

#include "collectors/registry.h"
#include "tests/unit/collectors/builtin_collector.h"

namespace foreshock {
namespace {

using namespace std::chrono_literals;

ConfigSection smartSection(const CollectorInfo& info) {
  std::vector<OptionSpec> specs = info.options;
  specs.push_back(opt::duration("timeout", info.default_timeout, 100ms, 24h, ""));
  return defaultsFor(specs, "collectors.smart");
}

TEST(SmartCollector, IsRegisteredWithAFiveMinuteInterval) {
  Registry r = builtinRegistry();
  const CollectorInfo* info = r.find("smart");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->default_interval, std::chrono::minutes(5));
  EXPECT_EQ(info->default_timeout, std::chrono::minutes(2));
}

TEST(SmartCollector, ReplaysTheSharedBlobsThroughTheRegistryFactory) {
  auto c =
      test::makeBuiltinCollector("smart", [](const CollectorInfo& info, CollectorContext& ctx) {
        ctx.config = smartSection(info);
        ctx.config.values["replay_dir"] =
            (std::filesystem::path(FORESHOCK_TEST_DATA) / "smart" / "ata-blobs").string();
      });
  ASSERT_TRUE(c.ok()) << c.error().message;
  MetricSet out;
  ASSERT_TRUE((*c)->collect(out).ok());
  auto fams = out.take();
  const auto* up = findFamily(fams, "foreshock_disk_up");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->metric.size(), 15u);
  for (const auto& m : up->metric) EXPECT_EQ(sampleValue(*up, m), 1) << labelValue(m, "device");
  const auto* temp = findFamily(fams, "foreshock_disk_temperature_celsius");
  ASSERT_NE(temp, nullptr);
  bool found = false;
  for (const auto& m : temp->metric) {
    if (labelValue(m, "device") == "ST9100821AS--3.CME") {
      found = true;
      EXPECT_NEAR(sampleValue(*temp, m), 34.0, 0.05);
      EXPECT_EQ(labelValue(m, "serial"), "5NJ0R13A");
      EXPECT_EQ(labelValue(m, "model"), "ST9100821AS");
    }
  }
  EXPECT_TRUE(found);
}

TEST(SmartCollector, RejectsAReadTimeoutThatIsNotShorterThanTheRunTimeout) {
  auto c =
      test::makeBuiltinCollector("smart", [](const CollectorInfo& info, CollectorContext& ctx) {
        ctx.config = smartSection(info);
        ctx.config.values["timeout"] = Duration(std::chrono::seconds(30));
      });
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(
      c.error().message,
      "collectors.smart.read_timeout (1m) must be shorter than collectors.smart.timeout (30s)");
}

}  // namespace
}  // namespace foreshock
