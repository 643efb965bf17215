#include "collectors/sensors/sensor_model.h"

#include <gtest/gtest.h>
#include <sensors/sensors.h>

namespace foreshock::sensors {
namespace {

SubfeatureReading ok(const std::string& attr, int type, double v) {
  SubfeatureReading r;
  r.attribute = attr;
  r.type = type;
  r.value = v;
  return r;
}

SubfeatureReading failed(const std::string& attr, int type, ReadFailure f) {
  SubfeatureReading r;
  r.attribute = attr;
  r.type = type;
  r.failure = f;
  r.error = "boom";
  return r;
}

SensorReading temp(std::vector<SubfeatureReading> subs) {
  SensorReading r;
  r.chip = "coretemp-isa-0000";
  r.sensor = "temp2";
  r.label = "Core 0";
  r.feature_type = SENSORS_FEATURE_TEMP;
  r.subfeatures = std::move(subs);
  return r;
}

std::optional<double> find(const std::vector<prometheus::MetricFamily>& fams,
                           const std::string& name, const Labels& labels) {
  const auto* f = findFamily(fams, name);
  if (f == nullptr) return std::nullopt;
  for (const auto& m : f->metric)
    if (labelsMatch(m, labels)) return sampleValue(*f, m);
  return std::nullopt;
}

TEST(SensorHeadroom, IsDistanceToTheNearestUpperLimit) {
  auto r = temp({ok("temp2_input", SENSORS_SUBFEATURE_TEMP_INPUT, 70),
                 ok("temp2_max", SENSORS_SUBFEATURE_TEMP_MAX, 80),
                 ok("temp2_crit", SENSORS_SUBFEATURE_TEMP_CRIT, 75)});
  EXPECT_DOUBLE_EQ(*temperatureHeadroom(r), 5);
}

TEST(SensorHeadroom, IsNegativeOverALimit) {
  auto r = temp({ok("temp2_input", SENSORS_SUBFEATURE_TEMP_INPUT, 101),
                 ok("temp2_max", SENSORS_SUBFEATURE_TEMP_MAX, 80)});
  EXPECT_DOUBLE_EQ(*temperatureHeadroom(r), -21);
}

TEST(SensorHeadroom, IgnoresUnsetLimitsReportedAsZeroOrAllOnes) {
  auto r = temp({ok("temp2_input", SENSORS_SUBFEATURE_TEMP_INPUT, 41.85),
                 ok("temp2_max", SENSORS_SUBFEATURE_TEMP_MAX, 65261.85),
                 ok("temp2_crit", SENSORS_SUBFEATURE_TEMP_CRIT, 0)});
  EXPECT_FALSE(temperatureHeadroom(r).has_value());
}

TEST(SensorHeadroom, IgnoresLowerLimits) {
  auto r = temp({ok("temp2_input", SENSORS_SUBFEATURE_TEMP_INPUT, 40),
                 ok("temp2_min", SENSORS_SUBFEATURE_TEMP_MIN, 30)});
  EXPECT_FALSE(temperatureHeadroom(r).has_value());
}

TEST(SensorJudge, IsUpWhenTheInputReads) {
  auto h =
      judgeSensor(temp({ok("temp2_input", SENSORS_SUBFEATURE_TEMP_INPUT, 40),
                        failed("temp2_max", SENSORS_SUBFEATURE_TEMP_MAX, ReadFailure::kIoError)}));
  EXPECT_TRUE(h.up) << "a failing limit alone does not take the sensor down";
}

TEST(SensorJudge, IsDownWithTheInputsFailureReason) {
  auto h = judgeSensor(
      temp({failed("temp2_input", SENSORS_SUBFEATURE_TEMP_INPUT, ReadFailure::kNoData)}));
  EXPECT_FALSE(h.up);
  EXPECT_EQ(h.reason, ReadFailure::kNoData);
  EXPECT_EQ(reasonName(h.reason), "no_data");
  EXPECT_NE(h.detail.find("temp2_input"), std::string::npos);
}

TEST(SensorJudge, IsDownWhenTheFaultFlagIsSet) {
  auto h = judgeSensor(temp({ok("temp2_input", SENSORS_SUBFEATURE_TEMP_INPUT, 127),
                             ok("temp2_fault", SENSORS_SUBFEATURE_TEMP_FAULT, 1)}));
  EXPECT_FALSE(h.up);
  EXPECT_TRUE(h.fault);
  EXPECT_EQ(reasonName(h.reason), "fault");
}

TEST(SensorJudge, SensorWithoutInputIsUpWhenItsAttributesRead) {
  SensorReading r;
  r.chip = "nct6775-isa-0290";
  r.sensor = "intrusion0";
  r.feature_type = SENSORS_FEATURE_INTRUSION;
  r.subfeatures = {ok("intrusion0_alarm", SENSORS_SUBFEATURE_INTRUSION_ALARM, 1)};
  EXPECT_TRUE(judgeSensor(r).up);
  r.subfeatures = {
      failed("intrusion0_alarm", SENSORS_SUBFEATURE_INTRUSION_ALARM, ReadFailure::kTimeout)};
  EXPECT_EQ(judgeSensor(r).reason, ReadFailure::kTimeout);
}

TEST(SensorEmit, NamesFamiliesByTypeLimitAndUnit) {
  auto r = temp({ok("temp2_input", SENSORS_SUBFEATURE_TEMP_INPUT, 101),
                 ok("temp2_max", SENSORS_SUBFEATURE_TEMP_MAX, 80),
                 ok("temp2_crit_hyst", SENSORS_SUBFEATURE_TEMP_CRIT_HYST, 90),
                 ok("temp2_crit_alarm", SENSORS_SUBFEATURE_TEMP_CRIT_ALARM, 1)});
  MetricSet out;
  emitSensor(r, judgeSensor(r), 1700000000.0, out);
  EXPECT_TRUE(out.conflicts().empty());
  auto fams = out.take();
  const Labels id = {{"chip", "coretemp-isa-0000"}, {"sensor", "temp2"}};
  EXPECT_EQ(find(fams, "foreshock_sensor_temperature_celsius", id), 101);
  EXPECT_EQ(find(fams, "foreshock_sensor_temperature_max_celsius", id), 80);
  EXPECT_EQ(find(fams, "foreshock_sensor_temperature_crit_hysteresis_celsius", id), 90);
  EXPECT_EQ(find(fams, "foreshock_sensor_temperature_headroom_celsius", id), -21);
  EXPECT_EQ(find(fams, "foreshock_sensor_alarm",
                 {{"chip", "coretemp-isa-0000"}, {"sensor", "temp2"}, {"kind", "crit"}}),
            1);
  EXPECT_EQ(find(fams, "foreshock_sensor_up", {{"chip", "coretemp-isa-0000"}, {"reason", ""}}), 1);
  EXPECT_EQ(find(fams, "foreshock_sensor_info", {{"label", "Core 0"}, {"type", "temperature"}}), 1);
  EXPECT_EQ(find(fams, "foreshock_sensor_last_seen_timestamp_seconds", id), 1700000000.0);
}

TEST(SensorEmit, LeavesOutTheInputOfAFaultySensorButKeepsItsUpSeries) {
  auto r = temp({ok("temp2_input", SENSORS_SUBFEATURE_TEMP_INPUT, 127),
                 ok("temp2_max", SENSORS_SUBFEATURE_TEMP_MAX, 80),
                 ok("temp2_fault", SENSORS_SUBFEATURE_TEMP_FAULT, 1)});
  MetricSet out;
  emitSensor(r, judgeSensor(r), std::nullopt, out);
  auto fams = out.take();
  const Labels id = {{"chip", "coretemp-isa-0000"}, {"sensor", "temp2"}};
  EXPECT_FALSE(find(fams, "foreshock_sensor_temperature_celsius", id));
  EXPECT_FALSE(find(fams, "foreshock_sensor_temperature_headroom_celsius", id));
  EXPECT_EQ(find(fams, "foreshock_sensor_fault", id), 1);
  EXPECT_EQ(find(fams, "foreshock_sensor_up", {{"sensor", "temp2"}, {"reason", "fault"}}), 0);
}

TEST(SensorEmit, ConvertsHumidityPercentToRatioAndEnergyToACounter) {
  SensorReading h;
  h.chip = "sht3x-i2c-1-44";
  h.sensor = "humidity1";
  h.feature_type = SENSORS_FEATURE_HUMIDITY;
  h.subfeatures = {ok("humidity1_input", SENSORS_SUBFEATURE_HUMIDITY_INPUT, 45.5)};
  SensorReading e;
  e.chip = "amd_energy-isa-0000";
  e.sensor = "energy1";
  e.feature_type = SENSORS_FEATURE_ENERGY;
  e.subfeatures = {ok("energy1_input", SENSORS_SUBFEATURE_ENERGY_INPUT, 1234.5)};
  MetricSet out;
  emitSensor(h, judgeSensor(h), std::nullopt, out);
  emitSensor(e, judgeSensor(e), std::nullopt, out);
  auto fams = out.take();
  EXPECT_DOUBLE_EQ(*find(fams, "foreshock_sensor_humidity_ratio", {{"sensor", "humidity1"}}),
                   0.455);
  const auto* energy = findFamily(fams, "foreshock_sensor_energy_joules_total");
  ASSERT_NE(energy, nullptr);
  EXPECT_EQ(energy->type, prometheus::MetricType::Counter);
}

TEST(SensorEmit, ExportsFanAndVoltageWithTheirUnits) {
  SensorReading f;
  f.chip = "k10temp-pci-00c3";
  f.sensor = "fan1";
  f.feature_type = SENSORS_FEATURE_FAN;
  f.subfeatures = {ok("fan1_input", SENSORS_SUBFEATURE_FAN_INPUT, 1250),
                   ok("fan1_min", SENSORS_SUBFEATURE_FAN_MIN, 300),
                   ok("fan1_div", SENSORS_SUBFEATURE_FAN_DIV, 8)};
  SensorReading v;
  v.chip = "k10temp-pci-00c3";
  v.sensor = "in0";
  v.feature_type = SENSORS_FEATURE_IN;
  v.subfeatures = {ok("in0_input", SENSORS_SUBFEATURE_IN_INPUT, 1.35),
                   ok("in0_beep", SENSORS_SUBFEATURE_IN_BEEP, 1)};
  MetricSet out;
  emitSensor(f, judgeSensor(f), std::nullopt, out);
  emitSensor(v, judgeSensor(v), std::nullopt, out);
  auto fams = out.take();
  EXPECT_EQ(find(fams, "foreshock_sensor_fan_rpm", {{"sensor", "fan1"}}), 1250);
  EXPECT_EQ(find(fams, "foreshock_sensor_fan_min_rpm", {{"sensor", "fan1"}}), 300);
  EXPECT_EQ(findFamily(fams, "foreshock_sensor_fan_div_rpm"), nullptr)
      << "fan_div is configuration";
  EXPECT_EQ(find(fams, "foreshock_sensor_voltage_volts", {{"sensor", "in0"}}), 1.35);
  EXPECT_EQ(find(fams, "foreshock_sensor_beep_enabled", {{"sensor", "in0"}}), 1);
}

}  // namespace
}  // namespace foreshock::sensors
