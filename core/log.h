// Logging: logfmt-style lines on stderr, each carrying the component (collector) name.
// Thread-safety: all functions are safe from any thread (one mutex around the sink).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace foreshock::log {

enum class Level { Debug = 0, Info = 1, Warning = 2, Error = 3 };

std::optional<Level> parseLevel(std::string_view s);
std::string_view levelName(Level l);

void setLevel(Level l);
Level level();
// Replaces the sink (default: stderr). Tests capture lines with this. Pass {} to restore.
void setSink(std::function<void(Level, const std::string& line)> sink);

void write(Level l, std::string_view component, std::string_view msg);
inline void debug(std::string_view c, std::string_view m) {
  write(Level::Debug, c, m);
}
inline void info(std::string_view c, std::string_view m) {
  write(Level::Info, c, m);
}
inline void warn(std::string_view c, std::string_view m) {
  write(Level::Warning, c, m);
}
inline void error(std::string_view c, std::string_view m) {
  write(Level::Error, c, m);
}

}  // namespace foreshock::log
