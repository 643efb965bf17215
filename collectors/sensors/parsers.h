// Pure parsers of the sensors collector: sysfs attribute text, thermal zone attributes, and the
// bundling of sensors.conf files into the one stream libsensors accepts (with the line map
// that turns libsensors' line numbers back into file:line). Bytes in, typed result out; fuzzed
// by tests/fuzz/fuzz_sensors_sysfs.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace foreshock::sensors {

// A sysfs integer attribute ("45000\n", "-273150\n"). Errors name what was wrong; `what`
// (e.g. the path) prefixes the message.
Result<std::int64_t> parseSysfsInteger(std::string_view text, std::string_view what);

// A millidegree attribute (thermal zone temp, trip point temp) in degrees Celsius.
Result<double> parseMillidegrees(std::string_view text, std::string_view what);

// One sensors.conf file as read from disk.
struct ConfFile {
  std::string path;
  std::string text;
};

// Several sensors.conf files joined into one text, because sensors_init() accepts a single
// stream while the system configuration is /etc/sensors3.conf plus /etc/sensors.d/*.
// Thread-safety: a value type.
struct ConfBundle {
  struct Segment {
    std::string path;
    int first_line = 1;  // line of the bundle where this file's line 1 is
    int lines = 0;
  };
  std::string text;
  std::vector<Segment> segments;

  // "FILE:LINE" for a line of the bundle (libsensors numbers lines from 1); "FILE" when the
  // line is 0 (an error before parsing starts); "sensors.conf:LINE" when out of range.
  std::string locate(int bundle_line) const;
};

// Joins the files in order; a file without a final newline gets one so that the next file's
// first line is not glued onto its last.
ConfBundle bundleConfig(const std::vector<ConfFile>& files);

}  // namespace foreshock::sensors
