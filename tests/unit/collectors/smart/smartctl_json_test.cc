#include "collectors/smart/smartctl_json.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "collectors/smart/json_reader.h"
#include "core/file_util.h"

namespace foreshock::smart {
namespace {

namespace fs = std::filesystem;

const fs::path kJsonDir = fs::path(FORESHOCK_TEST_DATA) / "smart" / "smartctl-json";

Result<SmartctlOutcome> load(const std::string& rel) {
  auto text = readFileBounded(kJsonDir / rel);
  if (!text) return text.error();
  return parseSmartctlJson(*text);
}

const AtaAttribute* attr(const SmartReading& r, int id) {
  for (const auto& a : r.attributes)
    if (a.id == id) return &a;
  return nullptr;
}

TEST(JsonReader, ParsesNestedValuesAndKeepsLargeIntegersExact) {
  auto v =
      parseJson(R"({"a": [1, -2, 3.5e2, true, null, "x\u00e9\n"], "big": 18446744073709551615})");
  ASSERT_TRUE(v.ok()) << v.error().message;
  const auto& a = v->get("a")->items();
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a[0].asInt(), 1);
  EXPECT_EQ(a[1].asInt(), -2);
  EXPECT_FALSE(a[1].asUint().has_value());
  EXPECT_DOUBLE_EQ(*a[2].asDouble(), 350.0);
  EXPECT_EQ(a[3].asBool(), true);
  EXPECT_TRUE(a[4].isNull());
  EXPECT_EQ(*a[5].asString(), "x\xc3\xa9\n");
  EXPECT_EQ(*v->get("big")->asUint(), UINT64_MAX);
}

TEST(JsonReader, ErrorsNameTheByteOffset) {
  auto v = parseJson("{\"a\": [1, 2,, 3]}");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message, "JSON: unexpected character ',' at byte 12");
  EXPECT_FALSE(parseJson("{\"a\": 1} x").ok());
  EXPECT_FALSE(parseJson("\"unterminated").ok());
  EXPECT_FALSE(parseJson("01").ok());
  EXPECT_FALSE(parseJson("").ok());
}

TEST(JsonReader, RejectsNestingDeeperThanTheLimitWithoutRecursingForever) {
  std::string deep(100000, '[');
  auto v = parseJson(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("nesting deeper than 64"), std::string::npos);
}

// Every smartctl --json device report in tests/fixtures/data parses; only the two exit-status
// cases (standby, missing device) and the drive without SMART are not readings.
TEST(SmartctlJson, EveryDeviceReportInTheSharedDataParses) {
  int files = 0, readings = 0;
  for (const auto& e : fs::recursive_directory_iterator(kJsonDir)) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    auto text = readFileBounded(e.path());
    ASSERT_TRUE(text.ok());
    auto doc = parseJson(*text);
    ASSERT_TRUE(doc.ok()) << e.path() << ": " << doc.error().message;
    if (doc->get("devices") != nullptr) continue;  // smartctl --scan output, not a device
    ++files;
    auto r = parseSmartctlJson(*text);
    ASSERT_TRUE(r.ok()) << e.path() << ": " << r.error().message;
    std::string name = e.path().filename().string();
    if (name == "standby-sdc.json") {
      EXPECT_EQ(r->kind, SmartctlOutcome::Kind::kSkipped);
    } else if (name == "nonexistent-device.json" ||
               name == "smartctl_info_hitachi_autodetect.json") {
      EXPECT_EQ(r->kind, SmartctlOutcome::Kind::kFailed) << name;
    } else {
      EXPECT_EQ(r->kind, SmartctlOutcome::Kind::kReading) << name << ": " << r->reason;
      ++readings;
    }
  }
  EXPECT_GT(files, 150);
  EXPECT_EQ(readings, files - 3);
}

TEST(SmartctlJson, StandbyExitIsASkipWithThePowerMode) {
  auto r = load("smartctl_exporter/from-open-prs/standby-sdc.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, SmartctlOutcome::Kind::kSkipped);
  EXPECT_EQ(r->power, PowerState::kStandby);
  EXPECT_EQ(r->exit.status, 2);
  EXPECT_TRUE(r->exit.open_failed_or_low_power);
}

TEST(SmartctlJson, MissingDeviceIsAFailureWithSmartctlsMessage) {
  auto r = load("smartctl_exporter/from-open-prs/nonexistent-device.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, SmartctlOutcome::Kind::kFailed);
  EXPECT_EQ(r->exit.status, 1);
  EXPECT_EQ(r->reason, "unknown_device_type");
  EXPECT_EQ(r->message, "/dev/nonexistent: Unable to detect device type");
}

TEST(SmartctlJson, DriveWithoutSmartSupportIsNotSmartCapable) {
  auto r = load("scrutiny/starosdev-fork/smartctl_info_hitachi_autodetect.json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reason, "not_smart_capable");
  EXPECT_TRUE(r->exit.smart_command_failed);
}

TEST(SmartctlJson, ReadsAtaValuesAsSmartctlReportsThem) {
  auto r = load("smartctl_exporter/sat-null-ST8000NM017B-2TJ103-sda.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const SmartReading& s = r->reading;
  EXPECT_EQ(s.model, "ST8000NM017B-2TJ103");
  EXPECT_EQ(s.protocol, "ata");
  EXPECT_EQ(s.healthy, true);
  EXPECT_EQ(s.temperature_celsius, 27.0);
  EXPECT_EQ(s.power_on_seconds, 10645.0 * 3600);
  EXPECT_EQ(s.power_cycles, 18u);
  ASSERT_NE(attr(s, 1), nullptr);
  EXPECT_EQ(attr(s, 1)->raw, 11772680u);
  EXPECT_EQ(attr(s, 1)->threshold, 44);
  EXPECT_TRUE(attr(s, 1)->prefailure);
  EXPECT_TRUE(isPackedRaw(s.model, 1));
  EXPECT_FALSE(isPackedRaw(s.model, 5));
}

TEST(SmartctlJson, FailingAtaDriveIsUnhealthyWithItsExitBits) {
  auto r = load("scrutiny/models/smart-fail2.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, SmartctlOutcome::Kind::kReading);
  EXPECT_EQ(r->reading.healthy, false);
  EXPECT_EQ(r->exit.status, 216);
  EXPECT_TRUE(r->exit.disk_failing);
  EXPECT_TRUE(r->exit.prefail_below_threshold);
  EXPECT_TRUE(r->exit.error_log_has_entries);
  EXPECT_TRUE(r->exit.self_test_log_has_errors);
}

TEST(SmartctlJson, TrimmedReportWithoutSmartctlHeaderStillParses) {
  auto r = load("scrutiny/models/smart-scsi.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, SmartctlOutcome::Kind::kReading);
  EXPECT_FALSE(r->reading.smartctl_exit_status.has_value());
}

TEST(SmartctlJson, ReadsNvmeMediaErrorsAndSpare) {
  auto r = load("scrutiny/models/smart-nvme-failed.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->reading.nvme.has_value());
  const NvmeHealth& h = *r->reading.nvme;
  EXPECT_EQ(h.media_errors, 7u);
  EXPECT_EQ(h.available_spare_percent, 99);
  EXPECT_EQ(h.available_spare_threshold_percent, 10);
  EXPECT_EQ(h.percentage_used, 3);
  EXPECT_EQ(h.error_log_entries, 62u);
  EXPECT_EQ(h.sensor_celsius[1], 39.0);
  EXPECT_FALSE(h.sensor_celsius[2].has_value());
}

TEST(SmartctlJson, ReadsScsiGrownDefectsAndErrorCounters) {
  auto r = load("smartctl_exporter/from-open-prs/scsi-seagate_ST18000NM004J.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const SmartReading& s = r->reading;
  ASSERT_TRUE(s.scsi.has_value());
  EXPECT_EQ(s.scsi->grown_defects, 0u);
  EXPECT_EQ(s.temperature_celsius, 33.0);
  EXPECT_EQ(s.temperature_trip_celsius, 60.0);
  EXPECT_EQ(s.power_on_seconds, 1249.0 * 3600 + 29 * 60);
  EXPECT_EQ(s.power_cycles, 4u);
  ASSERT_TRUE(s.scsi->read.has_value());
  EXPECT_DOUBLE_EQ(*s.scsi->read->processed_bytes, 9235.838e9);
}

// smartctl has no JSON key for the SCSI non-medium error count; with --json=o its text lines
// are in smartctl.output. The real report (taken without =o) gets the lines smartctl's
// scsiprint.cpp prints around that count; the count itself is the test's own value.
std::string withOutputLines(const std::string& report, const std::string& lines) {
  std::string text = report;
  auto at = text.find("\"smartctl\": {");
  if (at == std::string::npos) return text;
  at += std::string("\"smartctl\": {").size();
  text.insert(at, "\"output\": [" + lines + "],");
  return text;
}

TEST(SmartctlJson, ReadsScsiNonMediumErrorCountFromTheTextLines) {
  auto raw =
      readFileBounded(kJsonDir / "smartctl_exporter/from-open-prs/scsi-seagate_ST18000NM004J.json");
  ASSERT_TRUE(raw.ok());
  auto plain = parseSmartctlJson(*raw);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->reading.scsi->non_medium_errors.has_value()) << "no text lines, no count";

  auto r = parseSmartctlJson(
      withOutputLines(*raw, R"("Elements in grown defect list: 0", "", "Error counter log:", )"
                            R"("Non-medium error count:       17", "", "SMART Self-test log")"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->reading.scsi.has_value());
  EXPECT_EQ(r->reading.scsi->non_medium_errors, 17u);
  EXPECT_EQ(r->reading.scsi->grown_defects, 0u) << "the JSON keys are still read";

  for (const char* bad : {R"("Non-medium error count: lots")", R"("Non-medium error count:")",
                          R"("Non-medium error count: -3")", R"("Non-medium error count: 4 5")",
                          R"("non-medium error count: 4")", R"(42)"}) {
    auto b = parseSmartctlJson(withOutputLines(*raw, bad));
    ASSERT_TRUE(b.ok()) << bad;
    EXPECT_FALSE(b->reading.scsi->non_medium_errors.has_value()) << bad;
  }
}

TEST(SmartctlJson, NotSmartctlOutputIsAnError) {
  auto r = parseSmartctlJson(R"({"critical_warning": 0, "temperature": 300})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not smartctl --json output"), std::string::npos);
  EXPECT_FALSE(parseSmartctlJson("not json").ok());
}

TEST(SmartctlExit, DecodesEveryBit) {
  auto e = decodeSmartctlExit(0xFF);
  EXPECT_TRUE(e.command_line_error && e.open_failed_or_low_power && e.smart_command_failed &&
              e.disk_failing && e.prefail_below_threshold && e.attribute_failed_in_past &&
              e.error_log_has_entries && e.self_test_log_has_errors);
  auto f = decodeSmartctlExit(0x48);
  EXPECT_TRUE(f.disk_failing);
  EXPECT_TRUE(f.error_log_has_entries);
  EXPECT_FALSE(f.open_failed_or_low_power);
}

}  // namespace
}  // namespace foreshock::smart
