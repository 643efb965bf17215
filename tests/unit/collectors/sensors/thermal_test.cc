#include "collectors/sensors/thermal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "collectors/registry.h"
#include "core/options.h"
#include "tests/unit/collectors/builtin_collector.h"
#include "tests/unit/temp_dir.h"

namespace foreshock::sensors {
namespace {

const std::filesystem::path kFixture =
    std::filesystem::path(FORESHOCK_SOURCE_DIR) / "tests/fixtures/sensors/sys";

TEST(ThermalZone, ReadsTemperatureAndTripPointsOfTheAcpiZone) {
  auto z = readThermalZone(kFixture / "class/thermal/thermal_zone0");
  EXPECT_EQ(z.zone, "thermal_zone0");
  EXPECT_EQ(z.type, "acpitz");
  ASSERT_TRUE(z.celsius);
  EXPECT_DOUBLE_EQ(*z.celsius, 27.8);
  ASSERT_EQ(z.trips.size(), 1u);
  EXPECT_EQ(z.trips[0].type, "critical");
  EXPECT_DOUBLE_EQ(z.trips[0].celsius, 105);
}

TEST(ThermalZone, ReportsAnUnreadableTemperatureWithItsPath) {
  test::TestTempDir scratch("foreshock-thermal-test");
  auto dir = scratch.path() / "thermal_zone7";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "type") << "acpitz\n";
  std::ofstream(dir / "temp") << "garbage\n";
  auto z = readThermalZone(dir);
  EXPECT_FALSE(z.celsius);
  EXPECT_EQ(z.failure, ReadFailure::kUnreadable);
  EXPECT_NE(z.error.find("thermal_zone7/temp"), std::string::npos);
  std::filesystem::remove(dir / "temp");
  z = readThermalZone(dir);
  EXPECT_EQ(z.failure, ReadFailure::kVanished);
}

TEST(ThermalZone, ListsZonesInNumericOrder) {
  test::TestTempDir scratch("foreshock-thermal-test");
  auto dir = scratch.path() / "thermal-list";
  for (auto n : {"thermal_zone10", "thermal_zone2", "cooling_device0", "thermal_zoneX"})
    std::filesystem::create_directories(dir / n);
  EXPECT_EQ(listThermalEntries(dir, "thermal_zone"),
            (std::vector<std::string>{"thermal_zone2", "thermal_zone10"}));
}

TEST(CoolingDevice, ReadsCurrentAndMaximumState) {
  auto c = readCoolingDevice(kFixture / "class/thermal/cooling_device0");
  EXPECT_EQ(c.type, "Processor");
  EXPECT_EQ(c.cur_state, 0);
  EXPECT_EQ(c.max_state, 3);
}

TEST(SensorsCollector, ExportsThermalZonesFromTheSysfsRootAndSucceeds) {
  // No mount namespace here: libsensors sees the machine's /sys (no hwmon on CI VMs, or real
  // chips), and the thermal zones come from the fixture through HostPaths.
  auto c = test::makeBuiltinCollector("sensors", [](const CollectorInfo&, CollectorContext& ctx) {
    ctx.paths.sysfs = kFixture;
    ctx.config.values["config_file"] = std::string("/dev/null");
  });
  ASSERT_TRUE(c.ok()) << c.error().message;
  MetricSet out;
  ASSERT_TRUE((*c)->collect(out).ok());
  EXPECT_TRUE(out.conflicts().empty());
  auto fams = out.take();
  const auto* zone = findFamily(fams, "foreshock_thermal_zone_temperature_celsius");
  ASSERT_NE(zone, nullptr);
  ASSERT_EQ(zone->metric.size(), 2u);
  EXPECT_EQ(labelValue(zone->metric[1], "type"), "x86_pkg_temp");
  EXPECT_DOUBLE_EQ(sampleValue(*zone, zone->metric[1]), 52);
  const auto* errors = findFamily(fams, "foreshock_sensor_config_errors");
  ASSERT_NE(errors, nullptr);
  EXPECT_EQ(sampleValue(*errors, errors->metric[0]), 0);
}

}  // namespace
}  // namespace foreshock::sensors
