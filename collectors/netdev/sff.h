// Decoders of pluggable optical module EEPROMs: SFF-8472 (SFP/SFP+, two-wire addresses A0h
// and A2h) and SFF-8636 (QSFP+/QSFP28, lower page 00h plus upper pages 00h and 03h). They
// turn the raw pages the ethtool netlink MODULE_EEPROM_GET request returns into base units:
// celsius, volts, amperes, watts, and the module's own alarm/warning thresholds.
//
// Contract: pure functions of the bytes; a page too short or of the wrong module type is an
// Error naming what is wrong; a module without digital diagnostics decodes to identity only.
// Thread-safety: stateless, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace foreshock::netdev {

// The four limits a module stores for one quantity (SFF-8472 A2h bytes 0-39, SFF-8636 page
// 03h bytes 128-199), in the quantity's base unit.
struct Thresholds {
  double high_alarm = 0, low_alarm = 0, high_warning = 0, low_warning = 0;
};

struct ModuleDiagnostics {
  std::uint8_t identifier = 0;  // SFF-8024 identifier byte
  std::string identifier_name;  // "SFP", "QSFP", "QSFP+", "QSFP28"
  std::string vendor, part_number, revision, serial;
  bool diagnostics = false;  // the module implements digital diagnostic monitoring
  std::optional<double> temperature_celsius;
  std::optional<double> supply_voltage_volts;
  // One value per lane (1 for SFP, 4 for QSFP).
  std::vector<double> tx_bias_amperes, tx_power_watts, rx_power_watts;
  std::optional<Thresholds> temperature_thresholds, voltage_thresholds, bias_thresholds,
      tx_power_thresholds, rx_power_thresholds;
};

// The SFF-8024 identifier name for a byte, or "unknown (0xNN)".
std::string moduleIdentifierName(std::uint8_t id);
// Whether the identifier belongs to the SFF-8472 (SFP) or the SFF-8636 (QSFP) family.
bool isSff8472Identifier(std::uint8_t id);
bool isSff8636Identifier(std::uint8_t id);

// SFF-8472: `a0` is the first 128 bytes at A0h (identity, byte 92 diagnostic monitoring type);
// `a2` is the first 128 bytes at A2h (thresholds, calibration constants, live values), or empty
// when the module has no diagnostics page. Internally and externally calibrated modules are both
// handled (external calibration constants in A2h bytes 56-91 are applied to values and
// thresholds).
Result<ModuleDiagnostics> decodeSff8472(std::span<const std::uint8_t> a0,
                                        std::span<const std::uint8_t> a2);

// SFF-8636: `lower` is bytes 0-127 (live values), `upper00` bytes 128-255 of page 00h
// (identity) and `upper03` bytes 128-255 of page 03h (thresholds), empty when the module has
// flat memory (lower byte 2 bit 2) and so no page 03h.
Result<ModuleDiagnostics> decodeSff8636(std::span<const std::uint8_t> lower,
                                        std::span<const std::uint8_t> upper00,
                                        std::span<const std::uint8_t> upper03);

// SFF-8636 lower page byte 2 bit 2: the module has only page 00h (no threshold page).
bool sff8636FlatMemory(std::span<const std::uint8_t> lower);

}  // namespace foreshock::netdev
