#include "collectors/sensors/parsers.h"

#include <gtest/gtest.h>

namespace foreshock::sensors {
namespace {

TEST(SensorsSysfsValue, ParsesMillidegreesWithNewline) {
  EXPECT_DOUBLE_EQ(*parseMillidegrees("27800\n", "temp"), 27.8);
  EXPECT_DOUBLE_EQ(*parseMillidegrees("-273150\n", "temp"), -273.15);
}

TEST(SensorsSysfsValue, RejectsGarbageNamingTheFile) {
  auto r = parseSysfsInteger("N/A\n", "/sys/class/thermal/thermal_zone0/temp");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("thermal_zone0/temp"), std::string::npos);
  EXPECT_NE(r.error().message.find("N/A"), std::string::npos);
  EXPECT_FALSE(parseSysfsInteger("", "x").ok());
  EXPECT_FALSE(parseSysfsInteger("12abc", "x").ok());
}

TEST(SensorsConfBundle, MapsBundleLinesBackToFileAndLine) {
  auto b = bundleConfig({{"/etc/sensors3.conf", "chip \"a-*\"\n  label temp1 \"x\"\n"},
                         {"/etc/sensors.d/empty", ""},
                         {"/etc/sensors.d/local", "chip \"b-*\"\n  labl temp1 \"y\""}});
  EXPECT_EQ(b.text, "chip \"a-*\"\n  label temp1 \"x\"\nchip \"b-*\"\n  labl temp1 \"y\"\n")
      << "a file without a final newline gets one";
  EXPECT_EQ(b.locate(1), "/etc/sensors3.conf:1");
  EXPECT_EQ(b.locate(2), "/etc/sensors3.conf:2");
  EXPECT_EQ(b.locate(3), "/etc/sensors.d/local:1");
  EXPECT_EQ(b.locate(4), "/etc/sensors.d/local:2");
  EXPECT_EQ(b.locate(5), "/etc/sensors.d/local:3") << "end-of-input errors point past the end";
  EXPECT_EQ(b.locate(0), "/etc/sensors3.conf");
}

TEST(SensorsConfBundle, LocatesWithoutFiles) {
  EXPECT_EQ(bundleConfig({}).locate(3), "sensors.conf:3");
}

}  // namespace
}  // namespace foreshock::sensors
