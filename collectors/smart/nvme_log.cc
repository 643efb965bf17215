#include "collectors/smart/nvme_log.h"

#include <algorithm>

namespace foreshock::smart {

namespace {

std::uint64_t le(std::span<const std::uint8_t> p, std::size_t off, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[off + i]) << (8 * i);
  return v;
}

// 128-bit little-endian counter, saturated to 64 bits.
std::uint64_t le128(std::span<const std::uint8_t> p, std::size_t off) {
  if (le(p, off + 8, 8) != 0) return UINT64_MAX;
  return le(p, off, 8);
}

void put(std::span<std::uint8_t> p, std::size_t off, std::size_t n, std::uint64_t v) {
  for (std::size_t i = 0; i < n; ++i) p[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// NVMe reports temperatures in whole kelvins; like nvme-cli and smartctl we subtract 273 so the
// exported Celsius value equals what those tools print for the same drive. 0 means "absent".
std::optional<double> kelvinToCelsius(std::uint64_t k) {
  if (k == 0) return std::nullopt;
  return static_cast<double>(k) - 273.0;
}
std::uint64_t celsiusToKelvin(std::optional<double> c) {
  if (!c) return 0;
  double k = *c + 273.0;
  if (k < 1) return 1;
  if (k > 65535) return 65535;
  return static_cast<std::uint64_t>(k + 0.5);
}

std::string asciiField(std::span<const std::uint8_t> d, std::size_t off, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    char c = static_cast<char>(d[off + i]);
    s += (c >= 0x20 && c < 0x7F) ? c : ' ';
  }
  auto b = s.find_first_not_of(' ');
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(' ');
  return s.substr(b, e - b + 1);
}

}  // namespace

Result<NvmeHealth> parseNvmeSmartLog(std::span<const std::uint8_t> p) {
  if (p.size() < kNvmeSmartLogSize) {
    return makeError("NVMe SMART log: " + std::to_string(p.size()) + " bytes, expected " +
                     std::to_string(kNvmeSmartLogSize));
  }
  NvmeHealth h;
  h.critical_warning = p[0];
  h.composite_temperature_celsius = kelvinToCelsius(le(p, 1, 2));
  h.available_spare_percent = p[3];
  h.available_spare_threshold_percent = p[4];
  h.percentage_used = p[5];
  h.data_units_read = le128(p, 32);
  h.data_units_written = le128(p, 48);
  h.host_read_commands = le128(p, 64);
  h.host_write_commands = le128(p, 80);
  h.controller_busy_minutes = le128(p, 96);
  h.power_cycles = le128(p, 112);
  h.power_on_hours = le128(p, 128);
  h.unsafe_shutdowns = le128(p, 144);
  h.media_errors = le128(p, 160);
  h.error_log_entries = le128(p, 176);
  h.warning_temperature_minutes = static_cast<std::uint32_t>(le(p, 192, 4));
  h.critical_temperature_minutes = static_cast<std::uint32_t>(le(p, 196, 4));
  for (std::size_t i = 0; i < h.sensor_celsius.size(); ++i) {
    h.sensor_celsius[i] = kelvinToCelsius(le(p, 200 + 2 * i, 2));
  }
  return h;
}

std::array<std::uint8_t, kNvmeSmartLogSize> encodeNvmeSmartLog(const NvmeHealth& h) {
  std::array<std::uint8_t, kNvmeSmartLogSize> a{};
  std::span<std::uint8_t> p(a);
  p[0] = h.critical_warning;
  put(p, 1, 2, celsiusToKelvin(h.composite_temperature_celsius));
  p[3] = h.available_spare_percent;
  p[4] = h.available_spare_threshold_percent;
  p[5] = h.percentage_used;
  put(p, 32, 8, h.data_units_read);
  put(p, 48, 8, h.data_units_written);
  put(p, 64, 8, h.host_read_commands);
  put(p, 80, 8, h.host_write_commands);
  put(p, 96, 8, h.controller_busy_minutes);
  put(p, 112, 8, h.power_cycles);
  put(p, 128, 8, h.power_on_hours);
  put(p, 144, 8, h.unsafe_shutdowns);
  put(p, 160, 8, h.media_errors);
  put(p, 176, 8, h.error_log_entries);
  put(p, 192, 4, h.warning_temperature_minutes);
  put(p, 196, 4, h.critical_temperature_minutes);
  for (std::size_t i = 0; i < h.sensor_celsius.size(); ++i) {
    put(p, 200 + 2 * i, 2, celsiusToKelvin(h.sensor_celsius[i]));
  }
  return a;
}

Result<NvmeIdentity> parseNvmeIdentifyController(std::span<const std::uint8_t> d) {
  if (d.size() < kNvmeIdentifySize) {
    return makeError("NVMe Identify Controller: " + std::to_string(d.size()) + " bytes, expected " +
                     std::to_string(kNvmeIdentifySize));
  }
  NvmeIdentity id;
  id.serial = asciiField(d, 4, 20);
  id.model = asciiField(d, 24, 40);
  id.firmware = asciiField(d, 64, 8);
  return id;
}

SmartReading nvmeReading(const NvmeIdentity& id, const NvmeHealth& h) {
  SmartReading r;
  r.protocol = "nvme";
  r.model = id.model;
  r.serial = id.serial;
  r.firmware = id.firmware;
  // Like smartctl: the overall verdict fails when any critical warning bit is set.
  r.healthy = h.critical_warning == 0;
  r.temperature_celsius = h.composite_temperature_celsius;
  r.power_on_seconds = static_cast<double>(h.power_on_hours) * 3600.0;
  r.power_cycles = h.power_cycles;
  r.nvme = h;
  return r;
}

}  // namespace foreshock::smart
