// The `sensors` collector: every hwmon chip libsensors detects (temperatures, fans, voltages,
// currents, power, energy, humidity, intrusion) with limits, alarms, faults and beeps, named
// by the admin's sensors.conf; plus the kernel's thermal zones and cooling devices.
// See docs/metrics/sensors.md for every series.
#pragma once

#include "collectors/collector.h"

namespace foreshock {

CollectorInfo sensorsCollectorInfo();

}  // namespace foreshock
