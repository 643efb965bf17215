#include "collectors/netdev/sff.h"

#include <bit>
#include <cstring>

namespace foreshock::netdev {

namespace {

// Units of the raw diagnostic words (SFF-8472 table 9-11, SFF-8636 section 6.2.4).
constexpr double kTemperatureLsb = 1.0 / 256.0;  // celsius, signed
constexpr double kVoltageLsb = 100e-6;           // volts
constexpr double kBiasLsb = 2e-6;                // amperes
constexpr double kPowerLsb = 0.1e-6;             // watts

std::uint16_t be16(std::span<const std::uint8_t> p, std::size_t off) {
  return static_cast<std::uint16_t>((p[off] << 8) | p[off + 1]);
}
std::int16_t sbe16(std::span<const std::uint8_t> p, std::size_t off) {
  return static_cast<std::int16_t>(be16(p, off));
}
float befloat(std::span<const std::uint8_t> p, std::size_t off) {
  std::uint32_t u = (std::uint32_t{p[off]} << 24) | (std::uint32_t{p[off + 1]} << 16) |
                    (std::uint32_t{p[off + 2]} << 8) | std::uint32_t{p[off + 3]};
  return std::bit_cast<float>(u);
}

// ASCII fields are space padded; non-printable bytes are dropped so that a garbage EEPROM
// cannot put control characters into a label.
std::string ascii(std::span<const std::uint8_t> p, std::size_t off, std::size_t len) {
  std::string s;
  for (std::size_t i = off; i < off + len && i < p.size(); ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f) s.push_back(static_cast<char>(p[i]));
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

// SFF-8472 external calibration constants (A2h bytes 56-91).
struct Calibration {
  bool external = false;
  float rx_pwr[5] = {0, 0, 0, 0, 0};  // Rx_PWR(0..4)
  double txi_slope = 1, txi_offset = 0, txp_slope = 1, txp_offset = 0;
  double t_slope = 1, t_offset = 0, v_slope = 1, v_offset = 0;

  // Slopes are unsigned 8.8 fixed point; offsets signed 16-bit in the raw unit.
  double temperature(std::int16_t raw) const { return t_slope * raw + t_offset; }
  double voltage(std::uint16_t raw) const { return v_slope * raw + v_offset; }
  double bias(std::uint16_t raw) const { return txi_slope * raw + txi_offset; }
  double txPower(std::uint16_t raw) const { return txp_slope * raw + txp_offset; }
  double rxPower(std::uint16_t raw) const {
    if (!external) return raw;
    double x = raw, acc = 0, pow = 1;
    for (float c : rx_pwr) {
      acc += static_cast<double>(c) * pow;
      pow *= x;
    }
    return acc;
  }
};

Calibration readCalibration(std::span<const std::uint8_t> a2, bool external) {
  Calibration c;
  c.external = external;
  if (!external) return c;
  // Rx_PWR(4) is stored first (byte 56), Rx_PWR(0) last (byte 72).
  for (int i = 0; i < 5; ++i) c.rx_pwr[4 - i] = befloat(a2, 56 + 4 * static_cast<std::size_t>(i));
  c.txi_slope = be16(a2, 76) / 256.0;
  c.txi_offset = sbe16(a2, 78);
  c.txp_slope = be16(a2, 80) / 256.0;
  c.txp_offset = sbe16(a2, 82);
  c.t_slope = be16(a2, 84) / 256.0;
  c.t_offset = sbe16(a2, 86);
  c.v_slope = be16(a2, 88) / 256.0;
  c.v_offset = sbe16(a2, 90);
  return c;
}

}  // namespace

std::string moduleIdentifierName(std::uint8_t id) {
  switch (id) {
    case 0x03: return "SFP";
    case 0x0c: return "QSFP";
    case 0x0d: return "QSFP+";
    case 0x11: return "QSFP28";
    default: {
      static const char* kHex = "0123456789abcdef";
      return std::string("unknown (0x") + kHex[id >> 4] + kHex[id & 0xf] + ")";
    }
  }
}

bool isSff8472Identifier(std::uint8_t id) {
  return id == 0x03;
}
bool isSff8636Identifier(std::uint8_t id) {
  return id == 0x0c || id == 0x0d || id == 0x11;
}

Result<ModuleDiagnostics> decodeSff8472(std::span<const std::uint8_t> a0,
                                        std::span<const std::uint8_t> a2) {
  if (a0.size() < 96) {
    return makeError("SFF-8472: A0h page of " + std::to_string(a0.size()) +
                     " bytes, need at least 96");
  }
  ModuleDiagnostics d;
  d.identifier = a0[0];
  d.identifier_name = moduleIdentifierName(a0[0]);
  if (!isSff8472Identifier(a0[0])) {
    return makeError("SFF-8472: identifier " + d.identifier_name + " is not an SFP module");
  }
  d.vendor = ascii(a0, 20, 16);
  d.part_number = ascii(a0, 40, 16);
  d.revision = ascii(a0, 56, 4);
  d.serial = ascii(a0, 68, 16);
  // Byte 92, Diagnostic Monitoring Type: bit 6 DDM implemented, bit 5 internally calibrated,
  // bit 4 externally calibrated.
  const std::uint8_t dmt = a0[92];
  d.diagnostics = (dmt & 0x40) != 0;
  if (!d.diagnostics || a2.empty()) return d;
  if (a2.size() < 106) {
    return makeError("SFF-8472: A2h page of " + std::to_string(a2.size()) +
                     " bytes, need at least 106");
  }
  const Calibration cal = readCalibration(a2, (dmt & 0x10) != 0);
  d.temperature_celsius = cal.temperature(sbe16(a2, 96)) * kTemperatureLsb;
  d.supply_voltage_volts = cal.voltage(be16(a2, 98)) * kVoltageLsb;
  d.tx_bias_amperes.push_back(cal.bias(be16(a2, 100)) * kBiasLsb);
  d.tx_power_watts.push_back(cal.txPower(be16(a2, 102)) * kPowerLsb);
  d.rx_power_watts.push_back(cal.rxPower(be16(a2, 104)) * kPowerLsb);

  // Thresholds: high alarm, low alarm, high warning, low warning for each quantity, in the
  // same raw format as the live value they guard.
  auto thr = [&](std::size_t base, auto convert) {
    Thresholds t;
    t.high_alarm = convert(base);
    t.low_alarm = convert(base + 2);
    t.high_warning = convert(base + 4);
    t.low_warning = convert(base + 6);
    return t;
  };
  d.temperature_thresholds =
      thr(0, [&](std::size_t o) { return cal.temperature(sbe16(a2, o)) * kTemperatureLsb; });
  d.voltage_thresholds =
      thr(8, [&](std::size_t o) { return cal.voltage(be16(a2, o)) * kVoltageLsb; });
  d.bias_thresholds = thr(16, [&](std::size_t o) { return cal.bias(be16(a2, o)) * kBiasLsb; });
  d.tx_power_thresholds =
      thr(24, [&](std::size_t o) { return cal.txPower(be16(a2, o)) * kPowerLsb; });
  d.rx_power_thresholds =
      thr(32, [&](std::size_t o) { return cal.rxPower(be16(a2, o)) * kPowerLsb; });
  return d;
}

bool sff8636FlatMemory(std::span<const std::uint8_t> lower) {
  return lower.size() > 2 && (lower[2] & 0x04) != 0;
}

Result<ModuleDiagnostics> decodeSff8636(std::span<const std::uint8_t> lower,
                                        std::span<const std::uint8_t> upper00,
                                        std::span<const std::uint8_t> upper03) {
  if (lower.size() < 58) {
    return makeError("SFF-8636: lower page of " + std::to_string(lower.size()) +
                     " bytes, need at least 58");
  }
  ModuleDiagnostics d;
  d.identifier = lower[0];
  d.identifier_name = moduleIdentifierName(lower[0]);
  if (!isSff8636Identifier(lower[0])) {
    return makeError("SFF-8636: identifier " + d.identifier_name + " is not a QSFP module");
  }
  // Upper page 00h is addressed as bytes 128-255; index i here is byte 128 + i.
  if (upper00.size() >= 84) {
    d.vendor = ascii(upper00, 148 - 128, 16);
    d.part_number = ascii(upper00, 168 - 128, 16);
    d.revision = ascii(upper00, 184 - 128, 2);
    d.serial = ascii(upper00, 196 - 128, 16);
  }
  // SFF-8636 modules always carry temperature, voltage and per-lane bias/power monitors;
  // byte 220 (upper 00h) says whether tx power is measured.
  d.diagnostics = true;
  const bool tx_power_supported = upper00.size() > 92 ? (upper00[220 - 128] & 0x04) != 0 : true;
  d.temperature_celsius = sbe16(lower, 22) * kTemperatureLsb;
  d.supply_voltage_volts = be16(lower, 26) * kVoltageLsb;
  for (std::size_t lane = 0; lane < 4; ++lane) {
    d.rx_power_watts.push_back(be16(lower, 34 + 2 * lane) * kPowerLsb);
    d.tx_bias_amperes.push_back(be16(lower, 42 + 2 * lane) * kBiasLsb);
    if (tx_power_supported) d.tx_power_watts.push_back(be16(lower, 50 + 2 * lane) * kPowerLsb);
  }
  if (upper03.size() >= 72) {
    auto thr = [&](std::size_t byte, double lsb, bool is_signed) {
      auto rd = [&](std::size_t b) {
        return (is_signed ? static_cast<double>(sbe16(upper03, b - 128))
                          : static_cast<double>(be16(upper03, b - 128))) *
               lsb;
      };
      Thresholds t;
      t.high_alarm = rd(byte);
      t.low_alarm = rd(byte + 2);
      t.high_warning = rd(byte + 4);
      t.low_warning = rd(byte + 6);
      return t;
    };
    d.temperature_thresholds = thr(128, kTemperatureLsb, true);
    d.voltage_thresholds = thr(144, kVoltageLsb, false);
    d.rx_power_thresholds = thr(176, kPowerLsb, false);
    d.bias_thresholds = thr(184, kBiasLsb, false);
    if (tx_power_supported) d.tx_power_thresholds = thr(192, kPowerLsb, false);
  }
  return d;
}

}  // namespace foreshock::netdev
