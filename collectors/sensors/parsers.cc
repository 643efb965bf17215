#include "collectors/sensors/parsers.h"

#include <algorithm>

#include "core/file_util.h"

namespace foreshock::sensors {

Result<std::int64_t> parseSysfsInteger(std::string_view text, std::string_view what) {
  std::string_view t = trim(text);
  if (t.empty()) return makeError(std::string(what) + ": empty value");
  auto v = parseInt(t);
  if (!v) {
    std::string shown(t.substr(0, 32));
    for (char& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    return makeError(std::string(what) + ": not an integer: \"" + shown + "\"");
  }
  return *v;
}

Result<double> parseMillidegrees(std::string_view text, std::string_view what) {
  auto v = parseSysfsInteger(text, what);
  if (!v) return v.error();
  return static_cast<double>(*v) / 1000.0;
}

std::string ConfBundle::locate(int bundle_line) const {
  if (segments.empty()) return "sensors.conf:" + std::to_string(bundle_line);
  if (bundle_line <= 0) return segments.front().path;
  for (const auto& s : segments) {
    if (s.lines > 0 && bundle_line >= s.first_line && bundle_line < s.first_line + s.lines)
      return s.path + ":" + std::to_string(bundle_line - s.first_line + 1);
  }
  // libsensors reports an error at end of input on the line after the last one.
  const auto& last = segments.back();
  return last.path + ":" + std::to_string(bundle_line - last.first_line + 1);
}

ConfBundle bundleConfig(const std::vector<ConfFile>& files) {
  ConfBundle b;
  int line = 1;
  for (const auto& f : files) {
    ConfBundle::Segment seg;
    seg.path = f.path;
    seg.first_line = line;
    std::string text = f.text;
    if (!text.empty() && text.back() != '\n') text += '\n';
    seg.lines = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
    line += seg.lines;
    b.text += text;
    b.segments.push_back(std::move(seg));
  }
  return b;
}

}  // namespace foreshock::sensors
