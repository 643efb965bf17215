// Fuzzes the sensors collector's pure parsers: sysfs integer/millidegree attributes and the
// sensors.conf bundle line map. The input is split at the first NUL byte: the part before is
// an attribute value, the whole input (split at '\x01') is a list of config files.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/sensors/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view attr = in.substr(0, in.find('\0'));
  (void)foreshock::sensors::parseSysfsInteger(attr, "fuzz");
  (void)foreshock::sensors::parseMillidegrees(attr, "fuzz");

  std::vector<foreshock::sensors::ConfFile> files;
  std::size_t start = 0;
  while (start <= in.size() && files.size() < 16) {
    std::size_t end = in.find('\x01', start);
    if (end == std::string_view::npos) end = in.size();
    files.push_back(
        {"f" + std::to_string(files.size()), std::string(in.substr(start, end - start))});
    start = end + 1;
  }
  auto bundle = foreshock::sensors::bundleConfig(files);
  int lines = 0;
  for (char c : bundle.text) lines += c == '\n';
  for (int l = -1; l <= lines + 2; ++l) (void)bundle.locate(l);
  return 0;
}
