// Thermal zones and cooling devices of the kernel's thermal framework (<sysfs>/class/thermal):
// zone temperature and trip points, cooling device current and maximum state. Read directly
// from sysfs through HostPaths (libsensors does not cover them), so --path.sysfs applies.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "collectors/sensors/sensor_model.h"
#include "core/metric_set.h"

namespace foreshock::sensors {

struct TripPoint {
  int index = 0;
  std::string type;  // "critical", "hot", "passive", "active"
  double celsius = 0;
};

struct ThermalZone {
  std::string zone;  // directory name, e.g. "thermal_zone0"
  std::string type;  // e.g. "acpitz", "x86_pkg_temp"
  std::optional<double> celsius;
  ReadFailure failure = ReadFailure::kNone;
  std::string error;
  std::vector<TripPoint> trips;
};

struct CoolingDevice {
  std::string device;  // "cooling_device0"
  std::string type;    // "Processor", "Fan", "intel_powerclamp"
  std::optional<std::int64_t> cur_state;
  std::optional<std::int64_t> max_state;
  std::string error;
};

// Directory names under `thermal_dir` that are zones / cooling devices, sorted naturally
// (thermal_zone2 before thermal_zone10).
std::vector<std::string> listThermalEntries(const std::filesystem::path& thermal_dir,
                                            const std::string& prefix);

// Reads one zone / cooling device directory. Blocking reads of sysfs: the collector runs
// them through a BoundedExecutor.
ThermalZone readThermalZone(const std::filesystem::path& dir);
CoolingDevice readCoolingDevice(const std::filesystem::path& dir);

void emitThermalZone(const ThermalZone& z, MetricSet& out);
void emitCoolingDevice(const CoolingDevice& c, MetricSet& out);

}  // namespace foreshock::sensors
