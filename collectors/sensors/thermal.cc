#include "collectors/sensors/thermal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "collectors/sensors/parsers.h"
#include "core/file_util.h"

namespace foreshock::sensors {

namespace {

struct Attr {
  std::string text;
  int err = 0;  // errno of the failed open/read, 0 on success
};

Attr readAttr(const std::filesystem::path& p) {
  Attr a;
  int fd = openRegularFile(p);  // a FIFO or device in place of an attribute never blocks
  if (fd < 0) {
    a.err = errno;
    return a;
  }
  char buf[256];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) a.err = errno;
    if (n > 0) a.text.append(buf, static_cast<std::size_t>(n));
    if (n <= 0 || a.text.size() >= 4096) break;
  }
  ::close(fd);
  return a;
}

ReadFailure failureFor(int err) {
  switch (err) {
    case EIO: return ReadFailure::kIoError;
    case ENODATA: return ReadFailure::kNoData;
    case EAGAIN: return ReadFailure::kAgain;
    case ENOENT:
    case ENODEV: return ReadFailure::kVanished;
    default: return ReadFailure::kUnreadable;
  }
}

std::optional<std::int64_t> trailingNumber(const std::string& name, const std::string& prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  return parseInt(std::string_view(name).substr(prefix.size()));
}

}  // namespace

std::vector<std::string> listThermalEntries(const std::filesystem::path& thermal_dir,
                                            const std::string& prefix) {
  std::vector<std::pair<std::int64_t, std::string>> found;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(thermal_dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (auto n = trailingNumber(name, prefix)) found.emplace_back(*n, name);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

ThermalZone readThermalZone(const std::filesystem::path& dir) {
  ThermalZone z;
  z.zone = dir.filename().string();
  auto type = readAttr(dir / "type");
  z.type = type.err == 0 ? std::string(trim(type.text)) : "";
  auto temp = readAttr(dir / "temp");
  if (temp.err != 0) {
    z.failure = failureFor(temp.err);
    z.error = (dir / "temp").string() + ": " + std::strerror(temp.err);
  } else if (auto v = parseMillidegrees(temp.text, (dir / "temp").string())) {
    z.celsius = *v;
  } else {
    z.failure = ReadFailure::kUnreadable;
    z.error = v.error().message;
  }
  for (int i = 0; i < 64; ++i) {
    const std::string base = "trip_point_" + std::to_string(i) + "_";
    auto t = readAttr(dir / (base + "temp"));
    if (t.err == ENOENT) break;
    if (t.err != 0) continue;
    auto v = parseMillidegrees(t.text, base + "temp");
    if (!v) continue;
    auto ty = readAttr(dir / (base + "type"));
    z.trips.push_back(TripPoint{i, ty.err == 0 ? std::string(trim(ty.text)) : "", *v});
  }
  return z;
}

CoolingDevice readCoolingDevice(const std::filesystem::path& dir) {
  CoolingDevice c;
  c.device = dir.filename().string();
  auto type = readAttr(dir / "type");
  c.type = type.err == 0 ? std::string(trim(type.text)) : "";
  for (auto [attr, slot] : {std::pair{"cur_state", &c.cur_state}, {"max_state", &c.max_state}}) {
    auto a = readAttr(dir / attr);
    if (a.err != 0) {
      c.error = (dir / attr).string() + ": " + std::strerror(a.err);
      continue;
    }
    if (auto v = parseSysfsInteger(a.text, (dir / attr).string())) {
      *slot = *v;
    } else {
      c.error = v.error().message;
    }
  }
  return c;
}

void emitThermalZone(const ThermalZone& z, MetricSet& out) {
  const Labels base = {{"zone", z.zone}, {"type", z.type}};
  out.gauge("foreshock_thermal_zone_up",
            "1 when the thermal zone's temperature was read this cycle; 0 with a reason label "
            "otherwise.",
            {{"zone", z.zone}, {"type", z.type}, {"reason", std::string(reasonName(z.failure))}},
            z.celsius ? 1 : 0);
  if (z.celsius) {
    out.gauge("foreshock_thermal_zone_temperature_celsius",
              "Temperature of a kernel thermal zone in celsius.", base, *z.celsius);
  }
  for (const auto& t : z.trips) {
    out.gauge("foreshock_thermal_zone_trip_point_celsius",
              "Trip point of a thermal zone in celsius: the kernel acts (cools, throttles, shuts "
              "down on critical) when the zone reaches it.",
              {{"zone", z.zone},
               {"type", z.type},
               {"trip", std::to_string(t.index)},
               {"trip_type", t.type}},
              t.celsius);
  }
}

void emitCoolingDevice(const CoolingDevice& c, MetricSet& out) {
  const Labels base = {{"device", c.device}, {"type", c.type}};
  if (c.cur_state) {
    out.gauge("foreshock_cooling_device_cur_state",
              "Current state of a kernel cooling device (0 = not cooling; fan speed step or "
              "throttling level otherwise).",
              base, static_cast<double>(*c.cur_state));
  }
  if (c.max_state) {
    out.gauge("foreshock_cooling_device_max_state", "Highest state of a kernel cooling device.",
              base, static_cast<double>(*c.max_state));
  }
}

}  // namespace foreshock::sensors
