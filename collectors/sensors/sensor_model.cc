#include "collectors/sensors/sensor_model.h"

#include <sensors/sensors.h>

#include <algorithm>
#include <cmath>

namespace foreshock::sensors {

namespace {

// What one subfeature type becomes.
enum class Role { kValue, kPrimary, kAlarm, kFault, kBeep, kIgnore };

struct SubfeatureSpec {
  int type;
  Role role;
  // kValue/kPrimary: the part of the family name between the sensor type and the unit
  // ("" for the input itself, "max", "crit_hysteresis", ...). kAlarm: the alarm kind.
  const char* part;
};

// Hysteresis attributes are absolute values (e.g. temp1_max_hyst = 75 °C), not deltas.
constexpr SubfeatureSpec kSpecs[] = {
    // Temperature
    {SENSORS_SUBFEATURE_TEMP_INPUT, Role::kPrimary, ""},
    {SENSORS_SUBFEATURE_TEMP_MAX, Role::kValue, "max"},
    {SENSORS_SUBFEATURE_TEMP_MAX_HYST, Role::kValue, "max_hysteresis"},
    {SENSORS_SUBFEATURE_TEMP_MIN, Role::kValue, "min"},
    {SENSORS_SUBFEATURE_TEMP_MIN_HYST, Role::kValue, "min_hysteresis"},
    {SENSORS_SUBFEATURE_TEMP_CRIT, Role::kValue, "crit"},
    {SENSORS_SUBFEATURE_TEMP_CRIT_HYST, Role::kValue, "crit_hysteresis"},
    {SENSORS_SUBFEATURE_TEMP_LCRIT, Role::kValue, "lcrit"},
    {SENSORS_SUBFEATURE_TEMP_LCRIT_HYST, Role::kValue, "lcrit_hysteresis"},
    {SENSORS_SUBFEATURE_TEMP_EMERGENCY, Role::kValue, "emergency"},
    {SENSORS_SUBFEATURE_TEMP_EMERGENCY_HYST, Role::kValue, "emergency_hysteresis"},
    {SENSORS_SUBFEATURE_TEMP_LOWEST, Role::kValue, "lowest"},
    {SENSORS_SUBFEATURE_TEMP_HIGHEST, Role::kValue, "highest"},
    {SENSORS_SUBFEATURE_TEMP_OFFSET, Role::kValue, "offset"},
    {SENSORS_SUBFEATURE_TEMP_ALARM, Role::kAlarm, "alarm"},
    {SENSORS_SUBFEATURE_TEMP_MAX_ALARM, Role::kAlarm, "max"},
    {SENSORS_SUBFEATURE_TEMP_MIN_ALARM, Role::kAlarm, "min"},
    {SENSORS_SUBFEATURE_TEMP_CRIT_ALARM, Role::kAlarm, "crit"},
    {SENSORS_SUBFEATURE_TEMP_EMERGENCY_ALARM, Role::kAlarm, "emergency"},
    {SENSORS_SUBFEATURE_TEMP_LCRIT_ALARM, Role::kAlarm, "lcrit"},
    {SENSORS_SUBFEATURE_TEMP_FAULT, Role::kFault, ""},
    {SENSORS_SUBFEATURE_TEMP_BEEP, Role::kBeep, ""},
    {SENSORS_SUBFEATURE_TEMP_TYPE, Role::kIgnore, ""},  // diode type code, not a measurement
    // Fan
    {SENSORS_SUBFEATURE_FAN_INPUT, Role::kPrimary, ""},
    {SENSORS_SUBFEATURE_FAN_MIN, Role::kValue, "min"},
    {SENSORS_SUBFEATURE_FAN_MAX, Role::kValue, "max"},
    {SENSORS_SUBFEATURE_FAN_ALARM, Role::kAlarm, "alarm"},
    {SENSORS_SUBFEATURE_FAN_MIN_ALARM, Role::kAlarm, "min"},
    {SENSORS_SUBFEATURE_FAN_MAX_ALARM, Role::kAlarm, "max"},
    {SENSORS_SUBFEATURE_FAN_FAULT, Role::kFault, ""},
    {SENSORS_SUBFEATURE_FAN_BEEP, Role::kBeep, ""},
    {SENSORS_SUBFEATURE_FAN_DIV, Role::kIgnore, ""},     // chip configuration
    {SENSORS_SUBFEATURE_FAN_PULSES, Role::kIgnore, ""},  // chip configuration
    // Voltage
    {SENSORS_SUBFEATURE_IN_INPUT, Role::kPrimary, ""},
    {SENSORS_SUBFEATURE_IN_MIN, Role::kValue, "min"},
    {SENSORS_SUBFEATURE_IN_MAX, Role::kValue, "max"},
    {SENSORS_SUBFEATURE_IN_LCRIT, Role::kValue, "lcrit"},
    {SENSORS_SUBFEATURE_IN_CRIT, Role::kValue, "crit"},
    {SENSORS_SUBFEATURE_IN_AVERAGE, Role::kValue, "average"},
    {SENSORS_SUBFEATURE_IN_LOWEST, Role::kValue, "lowest"},
    {SENSORS_SUBFEATURE_IN_HIGHEST, Role::kValue, "highest"},
    {SENSORS_SUBFEATURE_IN_ALARM, Role::kAlarm, "alarm"},
    {SENSORS_SUBFEATURE_IN_MIN_ALARM, Role::kAlarm, "min"},
    {SENSORS_SUBFEATURE_IN_MAX_ALARM, Role::kAlarm, "max"},
    {SENSORS_SUBFEATURE_IN_LCRIT_ALARM, Role::kAlarm, "lcrit"},
    {SENSORS_SUBFEATURE_IN_CRIT_ALARM, Role::kAlarm, "crit"},
    {SENSORS_SUBFEATURE_IN_BEEP, Role::kBeep, ""},
    // Current
    {SENSORS_SUBFEATURE_CURR_INPUT, Role::kPrimary, ""},
    {SENSORS_SUBFEATURE_CURR_MIN, Role::kValue, "min"},
    {SENSORS_SUBFEATURE_CURR_MAX, Role::kValue, "max"},
    {SENSORS_SUBFEATURE_CURR_LCRIT, Role::kValue, "lcrit"},
    {SENSORS_SUBFEATURE_CURR_CRIT, Role::kValue, "crit"},
    {SENSORS_SUBFEATURE_CURR_AVERAGE, Role::kValue, "average"},
    {SENSORS_SUBFEATURE_CURR_LOWEST, Role::kValue, "lowest"},
    {SENSORS_SUBFEATURE_CURR_HIGHEST, Role::kValue, "highest"},
    {SENSORS_SUBFEATURE_CURR_ALARM, Role::kAlarm, "alarm"},
    {SENSORS_SUBFEATURE_CURR_MIN_ALARM, Role::kAlarm, "min"},
    {SENSORS_SUBFEATURE_CURR_MAX_ALARM, Role::kAlarm, "max"},
    {SENSORS_SUBFEATURE_CURR_LCRIT_ALARM, Role::kAlarm, "lcrit"},
    {SENSORS_SUBFEATURE_CURR_CRIT_ALARM, Role::kAlarm, "crit"},
    {SENSORS_SUBFEATURE_CURR_BEEP, Role::kBeep, ""},
    // Power: the instantaneous input is the main value; chips without it only have average.
    {SENSORS_SUBFEATURE_POWER_INPUT, Role::kPrimary, ""},
    {SENSORS_SUBFEATURE_POWER_AVERAGE, Role::kPrimary, "average"},
    {SENSORS_SUBFEATURE_POWER_AVERAGE_HIGHEST, Role::kValue, "average_highest"},
    {SENSORS_SUBFEATURE_POWER_AVERAGE_LOWEST, Role::kValue, "average_lowest"},
    {SENSORS_SUBFEATURE_POWER_INPUT_HIGHEST, Role::kValue, "highest"},
    {SENSORS_SUBFEATURE_POWER_INPUT_LOWEST, Role::kValue, "lowest"},
    {SENSORS_SUBFEATURE_POWER_CAP, Role::kValue, "cap"},
    {SENSORS_SUBFEATURE_POWER_CAP_HYST, Role::kValue, "cap_hysteresis"},
    {SENSORS_SUBFEATURE_POWER_MAX, Role::kValue, "max"},
    {SENSORS_SUBFEATURE_POWER_CRIT, Role::kValue, "crit"},
    {SENSORS_SUBFEATURE_POWER_MIN, Role::kValue, "min"},
    {SENSORS_SUBFEATURE_POWER_LCRIT, Role::kValue, "lcrit"},
    {SENSORS_SUBFEATURE_POWER_AVERAGE_INTERVAL, Role::kIgnore, ""},
    {SENSORS_SUBFEATURE_POWER_ALARM, Role::kAlarm, "alarm"},
    {SENSORS_SUBFEATURE_POWER_CAP_ALARM, Role::kAlarm, "cap"},
    {SENSORS_SUBFEATURE_POWER_MAX_ALARM, Role::kAlarm, "max"},
    {SENSORS_SUBFEATURE_POWER_CRIT_ALARM, Role::kAlarm, "crit"},
    {SENSORS_SUBFEATURE_POWER_MIN_ALARM, Role::kAlarm, "min"},
    {SENSORS_SUBFEATURE_POWER_LCRIT_ALARM, Role::kAlarm, "lcrit"},
    // Energy, humidity, vid, intrusion, beep enable
    {SENSORS_SUBFEATURE_ENERGY_INPUT, Role::kPrimary, ""},
    {SENSORS_SUBFEATURE_HUMIDITY_INPUT, Role::kPrimary, ""},
    {SENSORS_SUBFEATURE_VID, Role::kValue, ""},
    {SENSORS_SUBFEATURE_INTRUSION_ALARM, Role::kAlarm, "intrusion"},
    {SENSORS_SUBFEATURE_INTRUSION_BEEP, Role::kBeep, ""},
    {SENSORS_SUBFEATURE_BEEP_ENABLE, Role::kBeep, ""},
};

const SubfeatureSpec* specFor(int type) {
  for (const auto& s : kSpecs)
    if (s.type == type) return &s;
  return nullptr;
}

struct Unit {
  const char* base;    // "temperature"
  const char* suffix;  // "celsius"
  double scale;        // applied to the libsensors value to reach the base unit
};

std::optional<Unit> unitFor(int feature_type) {
  switch (feature_type) {
    case SENSORS_FEATURE_TEMP: return Unit{"temperature", "celsius", 1};
    case SENSORS_FEATURE_FAN: return Unit{"fan", "rpm", 1};
    case SENSORS_FEATURE_IN: return Unit{"voltage", "volts", 1};
    case SENSORS_FEATURE_CURR: return Unit{"current", "amperes", 1};
    case SENSORS_FEATURE_POWER: return Unit{"power", "watts", 1};
    case SENSORS_FEATURE_ENERGY: return Unit{"energy", "joules", 1};
    // libsensors gives percent; the base unit is a ratio.
    case SENSORS_FEATURE_HUMIDITY: return Unit{"humidity", "ratio", 0.01};
    case SENSORS_FEATURE_VID: return Unit{"vid", "volts", 1};
    default: return std::nullopt;
  }
}

std::string familyName(const Unit& u, std::string_view part) {
  std::string n = "foreshock_sensor_";
  n += u.base;
  if (!part.empty()) {
    n += '_';
    n += part;
  }
  n += '_';
  n += u.suffix;
  return n;
}

std::string helpFor(const Unit& u, std::string_view part, bool counter) {
  std::string h = "hwmon ";
  h += u.base;
  if (part.empty()) {
    h += counter ? " counter" : " input";
  } else {
    h += " ";
    h += part;
    if (part.find("hysteresis") != std::string_view::npos) h += " (absolute value)";
  }
  h += " in ";
  h += u.suffix;
  h += " (libsensors value, sensors.conf compute applied).";
  return h;
}

// Drivers report "no limit" as 0 (several Super-I/O chips) or as the register's all-ones value
// (nvme: 0xFFFF kelvin = 65261.85 °C); neither is a real limit to measure headroom against.
bool usableUpperLimit(double celsius) {
  return std::isfinite(celsius) && celsius > 0 && celsius < 1000;
}

const SubfeatureReading* find(const SensorReading& r, int type) {
  for (const auto& s : r.subfeatures)
    if (s.type == type) return &s;
  return nullptr;
}

}  // namespace

std::string_view reasonName(ReadFailure f) {
  switch (f) {
    case ReadFailure::kNone: return "";
    case ReadFailure::kFault: return "fault";
    case ReadFailure::kIoError: return "io_error";
    case ReadFailure::kNoData: return "no_data";
    case ReadFailure::kAgain: return "again";
    case ReadFailure::kUnreadable: return "unreadable";
    case ReadFailure::kVanished: return "vanished";
    case ReadFailure::kComputeError: return "compute_error";
    case ReadFailure::kTimeout: return "timeout";
    case ReadFailure::kBlocked: return "blocked";
    case ReadFailure::kSkipped: return "skipped";
  }
  return "unreadable";
}

std::string_view sensorTypeName(int feature_type) {
  switch (feature_type) {
    case SENSORS_FEATURE_TEMP: return "temperature";
    case SENSORS_FEATURE_FAN: return "fan";
    case SENSORS_FEATURE_IN: return "voltage";
    case SENSORS_FEATURE_CURR: return "current";
    case SENSORS_FEATURE_POWER: return "power";
    case SENSORS_FEATURE_ENERGY: return "energy";
    case SENSORS_FEATURE_HUMIDITY: return "humidity";
    case SENSORS_FEATURE_INTRUSION: return "intrusion";
    case SENSORS_FEATURE_VID: return "vid";
    case SENSORS_FEATURE_BEEP_ENABLE: return "beep";
    default: return "other";
  }
}

SensorHealth judgeSensor(const SensorReading& r) {
  SensorHealth h;
  const SubfeatureReading* primary = nullptr;
  for (const auto& s : r.subfeatures) {
    const auto* spec = specFor(s.type);
    if (spec == nullptr) continue;
    if (spec->role == Role::kFault && s.value && *s.value != 0) h.fault = true;
    // The instantaneous input wins over the average when a power sensor has both.
    if (spec->role == Role::kPrimary &&
        (primary == nullptr || std::string_view(spec->part).empty()))
      primary = &s;
  }
  if (primary != nullptr) {
    if (!primary->value) {
      h.up = false;
      h.reason =
          primary->failure == ReadFailure::kNone ? ReadFailure::kUnreadable : primary->failure;
      h.detail = primary->attribute + ": " + primary->error;
      return h;
    }
  } else {
    for (const auto& s : r.subfeatures) {
      if (!s.value && s.failure != ReadFailure::kNone) {
        h.up = false;
        h.reason = s.failure;
        h.detail = s.attribute + ": " + s.error;
        return h;
      }
    }
  }
  if (h.fault) {
    h.up = false;
    h.reason = ReadFailure::kFault;
    h.detail = r.sensor + ": the chip reports a sensor fault";
  }
  return h;
}

std::optional<double> temperatureHeadroom(const SensorReading& r) {
  if (r.feature_type != SENSORS_FEATURE_TEMP) return std::nullopt;
  const auto* in = find(r, SENSORS_SUBFEATURE_TEMP_INPUT);
  if (in == nullptr || !in->value) return std::nullopt;
  std::optional<double> best;
  for (int t : {SENSORS_SUBFEATURE_TEMP_MAX, SENSORS_SUBFEATURE_TEMP_CRIT,
                SENSORS_SUBFEATURE_TEMP_EMERGENCY}) {
    const auto* lim = find(r, t);
    if (lim == nullptr || !lim->value || !usableUpperLimit(*lim->value)) continue;
    double d = *lim->value - *in->value;
    if (!best || d < *best) best = d;
  }
  return best;
}

void declareSensorFamilies(MetricSet& out) {
  using prometheus::MetricType;
  out.declare("foreshock_sensor_up",
              "1 when the sensor's input was read this cycle and no fault flag is set; 0 with "
              "a reason label otherwise.",
              MetricType::Gauge);
  out.declare("foreshock_sensor_temperature_celsius",
              helpFor(Unit{"temperature", "celsius", 1}, "", false), MetricType::Gauge);
  out.declare("foreshock_sensor_temperature_headroom_celsius",
              "Distance from the temperature input to its nearest upper limit (max, crit or "
              "emergency); negative when over a limit.",
              MetricType::Gauge);
  out.declare("foreshock_sensor_fan_rpm", helpFor(Unit{"fan", "rpm", 1}, "", false),
              MetricType::Gauge);
}

void emitSensor(const SensorReading& r, const SensorHealth& health, std::optional<double> last_seen,
                MetricSet& out) {
  const Labels base = {{"chip", r.chip}, {"sensor", r.sensor}};
  const std::string type(sensorTypeName(r.feature_type));
  out.info("foreshock_sensor_info",
           "A hwmon sensor: its human label (sensors.conf label, the chip's own label, or the "
           "sensor name) and type.",
           {{"chip", r.chip}, {"sensor", r.sensor}, {"label", r.label}, {"type", type}});
  out.gauge(
      "foreshock_sensor_up",
      "1 when the sensor's input was read this cycle and no fault flag is set; 0 with a "
      "reason label otherwise.",
      {{"chip", r.chip}, {"sensor", r.sensor}, {"reason", std::string(reasonName(health.reason))}},
      health.up ? 1 : 0);
  if (last_seen) {
    out.gauge("foreshock_sensor_last_seen_timestamp_seconds",
              "Unix time of the last cycle in which the sensor was up.", base, *last_seen);
  }
  if (health.fault || find(r, SENSORS_SUBFEATURE_TEMP_FAULT) ||
      find(r, SENSORS_SUBFEATURE_FAN_FAULT)) {
    out.gauge("foreshock_sensor_fault",
              "1 when the chip flags the sensor as faulty (open or shorted diode, no fan "
              "signal); its input is then not exported.",
              base, health.fault ? 1 : 0);
  }
  const auto unit = unitFor(r.feature_type);
  for (const auto& s : r.subfeatures) {
    const auto* spec = specFor(s.type);
    if (spec == nullptr || !s.value || !std::isfinite(*s.value)) continue;
    switch (spec->role) {
      case Role::kPrimary:
      case Role::kValue: {
        if (!unit) break;
        // A faulty sensor's input is garbage (often 0 or -128): leave it out, keep limits.
        if (spec->role == Role::kPrimary && health.fault) break;
        const double v = *s.value * unit->scale;
        if (r.feature_type == SENSORS_FEATURE_ENERGY) {
          out.counter("foreshock_sensor_energy_joules_total",
                      "hwmon energy counter in joules (resets when the driver reloads).", base, v);
        } else {
          out.gauge(familyName(*unit, spec->part), helpFor(*unit, spec->part, false), base, v);
        }
        break;
      }
      case Role::kAlarm:
        out.gauge("foreshock_sensor_alarm",
                  "1 when the chip raises the alarm of this kind for the sensor (alarm = the "
                  "chip's generic alarm flag; min, max, lcrit, crit, emergency, cap: that limit "
                  "was crossed; intrusion: the case was opened).",
                  {{"chip", r.chip}, {"sensor", r.sensor}, {"kind", spec->part}},
                  *s.value != 0 ? 1 : 0);
        break;
      case Role::kBeep:
        out.gauge("foreshock_sensor_beep_enabled",
                  "1 when the chip beeps on this sensor's alarms (sensor=beep_enable: the chip's "
                  "master switch).",
                  base, *s.value != 0 ? 1 : 0);
        break;
      case Role::kFault:
      case Role::kIgnore: break;
    }
  }
  if (auto hr = temperatureHeadroom(r); hr && !health.fault) {
    out.gauge("foreshock_sensor_temperature_headroom_celsius",
              "Distance from the temperature input to its nearest upper limit (max, crit or "
              "emergency); negative when over a limit.",
              base, *hr);
  }
}

}  // namespace foreshock::sensors
