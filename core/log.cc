#include "core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace foreshock::log {

namespace {
std::atomic<Level> g_level{Level::Info};
std::mutex g_mu;
std::function<void(Level, const std::string&)>& sinkRef() {
  static std::function<void(Level, const std::string&)> s;
  return s;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}
}  // namespace

std::optional<Level> parseLevel(std::string_view s) {
  if (s == "debug") return Level::Debug;
  if (s == "info") return Level::Info;
  if (s == "warn" || s == "warning") return Level::Warning;
  if (s == "error") return Level::Error;
  return std::nullopt;
}

std::string_view levelName(Level l) {
  switch (l) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warning: return "warn";
    case Level::Error: return "error";
  }
  return "info";
}

void setLevel(Level l) {
  g_level = l;
}
Level level() {
  return g_level;
}

void setSink(std::function<void(Level, const std::string&)> sink) {
  std::lock_guard<std::mutex> lock(g_mu);
  sinkRef() = std::move(sink);
}

void write(Level l, std::string_view component, std::string_view msg) {
  if (l < g_level.load()) return;
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[96];
  std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  std::string line = "ts=" + std::string(ts) + " level=" + std::string(levelName(l));
  if (!component.empty()) line += " component=" + std::string(component);
  line += " msg=" + quote(msg);
  std::lock_guard<std::mutex> lock(g_mu);
  if (sinkRef()) {
    sinkRef()(l, line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace foreshock::log
