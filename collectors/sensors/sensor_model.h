// The pure part of the sensors collector: what one hwmon sensor (a libsensors "feature" such as
// temp1 or fan2) read this cycle, and how that becomes metric series. No I/O and no libsensors
// state here (only its public type constants), so every rule is unit-tested on plain data.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric_set.h"
#include "core/result.h"

namespace foreshock::sensors {

// Why one read did not give a value. Kept to a small fixed set because it becomes the `reason`
// label of foreshock_sensor_up (bounded cardinality); the full text goes to the log.
enum class ReadFailure {
  kNone,
  kFault,         // the chip raised the sensor's fault flag
  kIoError,       // EIO from the driver (bus error, device gone quiet)
  kNoData,        // ENODATA: the driver has no value right now (e.g. sensor disabled)
  kAgain,         // EAGAIN: the driver asked to retry later
  kUnreadable,    // any other read failure or a value that is not a number
  kVanished,      // the attribute file is gone (chip unbound since libsensors enumerated it)
  kComputeError,  // a sensors.conf compute statement failed (division by zero, recursion)
  kTimeout,       // the read did not finish within read_timeout (the read was abandoned)
  kBlocked,       // an earlier read of this attribute is still blocked in the kernel
  kSkipped,       // not attempted: too many reads blocked, or the cycle budget ran out
};

// The `reason` label value for a failure ("" for kNone).
std::string_view reasonName(ReadFailure f);

// One subfeature (sysfs attribute) read through libsensors.
struct SubfeatureReading {
  std::string attribute;        // sysfs attribute name, e.g. "temp1_max"
  int type = 0;                 // sensors_subfeature_type
  std::optional<double> value;  // scaled by libsensors, compute statement applied
  ReadFailure failure = ReadFailure::kNone;
  std::string error;  // human text when !value
};

// One sensor (libsensors feature) with everything read this cycle.
struct SensorReading {
  std::string chip;      // stable chip name, e.g. "coretemp-isa-0000"
  std::string sensor;    // feature name, e.g. "temp1"
  std::string label;     // human label (sensors.conf `label`, the chip's _label file, or sensor)
  int feature_type = 0;  // sensors_feature_type
  std::vector<SubfeatureReading> subfeatures;
};

// The verdict on one sensor: up, or down with a reason.
struct SensorHealth {
  bool up = true;
  ReadFailure reason = ReadFailure::kNone;
  bool fault = false;  // the chip raised the sensor's fault flag (open diode, stalled fan input)
  std::string detail;  // for the log, e.g. "temp3_input: Input/output error"
};

// up when the primary input (temp/fan/in/curr/power/energy/humidity input, or power average)
// read fine and no fault flag is set; a sensor without a primary input (intrusion, beep_enable,
// vid) is up when every readable attribute read fine. A failing limit alone does not take a
// sensor down (the value is still good); it is only left out.
SensorHealth judgeSensor(const SensorReading& r);

// The type word used in `type` labels and metric names: "temperature", "fan", "voltage",
// "current", "power", "energy", "humidity", "intrusion", "vid", "beep", "other".
std::string_view sensorTypeName(int feature_type);

// Distance from the input to the nearest upper limit (max, crit, emergency), in degrees
// Celsius; negative when over a limit. nullopt without input or without a usable limit.
// Limits at or below 0 °C or at 1000 °C and above are treated as unset: several drivers report 0
// for "no limit" and nvme reports 65261.85 (0xFFFF kelvin), which would otherwise fake an
// overheating alarm or hide a real one.
std::optional<double> temperatureHeadroom(const SensorReading& r);

// Appends every series of one sensor to `out` (values, limits, alarms, fault, beep, up, info,
// headroom, last-seen). `last_seen` is the Unix time of the last cycle the sensor was up
// (nullopt: never seen up).
void emitSensor(const SensorReading& r, const SensorHealth& health, std::optional<double> last_seen,
                MetricSet& out);

// Declares the families the health engine relies on, so they are typed even when empty.
void declareSensorFamilies(MetricSet& out);

}  // namespace foreshock::sensors
