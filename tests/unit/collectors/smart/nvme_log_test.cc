// The NVMe values smartctl reported for real drives (tests/fixtures/data/smart/smartctl-json) are
// encoded into 512-byte SMART/Health log pages in the spec's layout and decoded back through
// the native parser.
#include "collectors/smart/nvme_log.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "collectors/smart/smartctl_json.h"
#include "core/file_util.h"

namespace foreshock::smart {
namespace {

namespace fs = std::filesystem;

std::uint64_t le(const std::array<std::uint8_t, kNvmeSmartLogSize>& p, std::size_t off,
                 std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[off + i]) << (8 * i);
  return v;
}

void expectSame(const NvmeHealth& a, const NvmeHealth& b) {
  EXPECT_EQ(a.critical_warning, b.critical_warning);
  EXPECT_EQ(a.composite_temperature_celsius, b.composite_temperature_celsius);
  EXPECT_EQ(a.available_spare_percent, b.available_spare_percent);
  EXPECT_EQ(a.available_spare_threshold_percent, b.available_spare_threshold_percent);
  EXPECT_EQ(a.percentage_used, b.percentage_used);
  EXPECT_EQ(a.data_units_read, b.data_units_read);
  EXPECT_EQ(a.data_units_written, b.data_units_written);
  EXPECT_EQ(a.host_read_commands, b.host_read_commands);
  EXPECT_EQ(a.host_write_commands, b.host_write_commands);
  EXPECT_EQ(a.controller_busy_minutes, b.controller_busy_minutes);
  EXPECT_EQ(a.power_cycles, b.power_cycles);
  EXPECT_EQ(a.power_on_hours, b.power_on_hours);
  EXPECT_EQ(a.unsafe_shutdowns, b.unsafe_shutdowns);
  EXPECT_EQ(a.media_errors, b.media_errors);
  EXPECT_EQ(a.error_log_entries, b.error_log_entries);
  EXPECT_EQ(a.warning_temperature_minutes, b.warning_temperature_minutes);
  EXPECT_EQ(a.critical_temperature_minutes, b.critical_temperature_minutes);
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(a.sensor_celsius[i], b.sensor_celsius[i]) << i;
}

TEST(NvmeSmartLog, RoundTripsTheValuesOfEveryNvmeDriveInTheSharedData) {
  int drives = 0;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(FORESHOCK_TEST_DATA) / "smart" /
                                                        "smartctl-json")) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    auto text = readFileBounded(e.path());
    ASSERT_TRUE(text.ok());
    auto parsed = parseSmartctlJson(*text);
    if (!parsed.ok() || !parsed->reading.nvme) continue;
    SCOPED_TRACE(e.path().string());
    ++drives;
    const NvmeHealth& want = *parsed->reading.nvme;
    auto page = encodeNvmeSmartLog(want);
    // Spot-check the spec's byte layout independently of the decoder.
    EXPECT_EQ(page[0], want.critical_warning);
    if (want.composite_temperature_celsius) {
      EXPECT_EQ(le(page, 1, 2),
                static_cast<std::uint64_t>(*want.composite_temperature_celsius + 273));
    }
    EXPECT_EQ(page[3], want.available_spare_percent);
    EXPECT_EQ(page[4], want.available_spare_threshold_percent);
    EXPECT_EQ(page[5], want.percentage_used);
    EXPECT_EQ(le(page, 32, 8), want.data_units_read);
    EXPECT_EQ(le(page, 128, 8), want.power_on_hours);
    EXPECT_EQ(le(page, 160, 8), want.media_errors);
    EXPECT_EQ(le(page, 176, 8), want.error_log_entries);
    auto got = parseNvmeSmartLog(page);
    ASSERT_TRUE(got.ok()) << got.error().message;
    expectSame(*got, want);
    // The native reading reports what smartctl reported for the same drive.
    SmartReading native = nvmeReading({}, *got);
    EXPECT_EQ(native.temperature_celsius, parsed->reading.temperature_celsius);
    EXPECT_EQ(native.power_on_seconds, parsed->reading.power_on_seconds);
    EXPECT_EQ(native.power_cycles, parsed->reading.power_cycles);
    EXPECT_EQ(native.healthy, parsed->reading.healthy);
  }
  EXPECT_GE(drives, 45);
}

TEST(NvmeSmartLog, RejectsAShortPageNamingTheSize) {
  std::vector<std::uint8_t> shortpage(100);
  auto r = parseNvmeSmartLog(shortpage);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "NVMe SMART log: 100 bytes, expected 512");
}

TEST(NvmeSmartLog, SaturatesCountersBeyond64Bits) {
  std::array<std::uint8_t, kNvmeSmartLogSize> page{};
  page[160 + 8] = 1;  // media errors = 2^64
  auto r = parseNvmeSmartLog(page);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->media_errors, UINT64_MAX);
}

TEST(NvmeSmartLog, DecodesEachCriticalWarningBit) {
  std::array<std::uint8_t, kNvmeSmartLogSize> page{};
  page[0] = 0x05;  // spare below threshold + reliability degraded
  page[1] = 0x3E;  // 318 K
  page[2] = 0x01;
  auto r = parseNvmeSmartLog(page);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->critical_warning & 1, 1);
  EXPECT_EQ((r->critical_warning >> 2) & 1, 1);
  EXPECT_EQ(r->composite_temperature_celsius, 45.0);
  EXPECT_FALSE(r->sensor_celsius[0].has_value());
  EXPECT_EQ(nvmeReading({}, *r).healthy, false);
}

TEST(NvmeIdentify, ReadsModelSerialAndFirmwareFields) {
  std::vector<std::uint8_t> id(kNvmeIdentifySize, 0);
  auto put = [&](std::size_t off, std::size_t len, const std::string& s) {
    for (std::size_t i = 0; i < len; ++i) id[off + i] = i < s.size() ? s[i] : ' ';
  };
  put(4, 20, "S4EWNX0R123456");
  put(24, 40, "Samsung SSD 970 EVO Plus 250GB");
  put(64, 8, "2B2QEXM7");
  auto r = parseNvmeIdentifyController(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->serial, "S4EWNX0R123456");
  EXPECT_EQ(r->model, "Samsung SSD 970 EVO Plus 250GB");
  EXPECT_EQ(r->firmware, "2B2QEXM7");
  EXPECT_FALSE(parseNvmeIdentifyController(std::vector<std::uint8_t>(512)).ok());
}

}  // namespace
}  // namespace foreshock::smart
