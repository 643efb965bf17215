// SFF-8472 and SFF-8636 EEPROM images built byte by byte from the specifications' memory maps
// (the lab has no optical module to capture real ones; see docs/metrics/netdev.md).
#include "collectors/netdev/sff.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <vector>

namespace foreshock::netdev {
namespace {

void put16(std::vector<std::uint8_t>& p, std::size_t off, std::uint16_t v) {
  p[off] = static_cast<std::uint8_t>(v >> 8);
  p[off + 1] = static_cast<std::uint8_t>(v & 0xff);
}
void putAscii(std::vector<std::uint8_t>& p, std::size_t off, std::size_t len, const char* s) {
  std::memset(p.data() + off, ' ', len);
  std::memcpy(p.data() + off, s, std::min(len, std::strlen(s)));
}
void putFloat(std::vector<std::uint8_t>& p, std::size_t off, float f) {
  auto u = std::bit_cast<std::uint32_t>(f);
  for (int i = 0; i < 4; ++i)
    p[off + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(u >> (24 - 8 * i));
}

// A0h of an internally calibrated 10GBASE-SR SFP+ (SFF-8472 table 4-1).
std::vector<std::uint8_t> sfpA0(std::uint8_t dmt = 0x68) {
  std::vector<std::uint8_t> a0(128, 0);
  a0[0] = 0x03;  // SFP/SFP+
  a0[1] = 0x04;
  a0[2] = 0x07;  // LC
  putAscii(a0, 20, 16, "ACME OPTICS");
  putAscii(a0, 40, 16, "SFP-10G-SR");
  putAscii(a0, 56, 4, "A1");
  putAscii(a0, 68, 16, "SN12345678");
  a0[92] = dmt;   // bit 6 DDM, bit 5 internal, bit 3 average rx power
  a0[94] = 0x08;  // SFF-8472 rev 12.3
  return a0;
}

// A2h: thresholds (bytes 0-39) and live values (96-105), internal calibration.
std::vector<std::uint8_t> sfpA2() {
  std::vector<std::uint8_t> a2(128, 0);
  put16(a2, 0, 0x5000);  // temp high alarm 80 C
  put16(a2, 2, 0xF600);  // temp low alarm -10 C
  put16(a2, 4, 0x4B00);  // temp high warning 75 C
  put16(a2, 6, 0xFB00);  // temp low warning -5 C
  put16(a2, 8, 36000);   // vcc high alarm 3.6 V
  put16(a2, 10, 30000);  // vcc low alarm 3.0 V
  put16(a2, 12, 35000);
  put16(a2, 14, 31000);
  put16(a2, 16, 6000);  // bias high alarm 12 mA
  put16(a2, 18, 1000);  // 2 mA
  put16(a2, 20, 5000);
  put16(a2, 22, 1500);
  put16(a2, 24, 10000);  // tx power high alarm 1 mW
  put16(a2, 26, 1000);   // 0.1 mW
  put16(a2, 28, 8000);
  put16(a2, 30, 1300);
  put16(a2, 32, 12589);  // rx power high alarm 1.2589 mW (+1 dBm)
  put16(a2, 34, 100);    // rx power low alarm 0.01 mW (-20 dBm)
  put16(a2, 36, 10000);
  put16(a2, 38, 200);
  put16(a2, 96, 0x1E80);  // 30.5 C
  put16(a2, 98, 32900);   // 3.29 V
  put16(a2, 100, 3000);   // 6 mA
  put16(a2, 102, 5000);   // 0.5 mW
  put16(a2, 104, 150);    // 0.015 mW: below the low warning, above the low alarm
  return a2;
}

TEST(Sff8472Decoder, ReadsIdentityLiveValuesAndThresholdsInBaseUnits) {
  auto d = decodeSff8472(sfpA0(), sfpA2());
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->identifier_name, "SFP");
  EXPECT_EQ(d->vendor, "ACME OPTICS");
  EXPECT_EQ(d->part_number, "SFP-10G-SR");
  EXPECT_EQ(d->revision, "A1");
  EXPECT_EQ(d->serial, "SN12345678");
  EXPECT_TRUE(d->diagnostics);
  EXPECT_DOUBLE_EQ(*d->temperature_celsius, 30.5);
  EXPECT_NEAR(*d->supply_voltage_volts, 3.29, 1e-9);
  ASSERT_EQ(d->tx_bias_amperes.size(), 1u);
  EXPECT_NEAR(d->tx_bias_amperes[0], 0.006, 1e-12);
  EXPECT_NEAR(d->tx_power_watts[0], 0.0005, 1e-12);
  EXPECT_NEAR(d->rx_power_watts[0], 0.000015, 1e-12);
  ASSERT_TRUE(d->temperature_thresholds);
  EXPECT_DOUBLE_EQ(d->temperature_thresholds->high_alarm, 80);
  EXPECT_DOUBLE_EQ(d->temperature_thresholds->low_alarm, -10);
  EXPECT_DOUBLE_EQ(d->temperature_thresholds->high_warning, 75);
  EXPECT_DOUBLE_EQ(d->temperature_thresholds->low_warning, -5);
  EXPECT_NEAR(d->voltage_thresholds->high_alarm, 3.6, 1e-9);
  EXPECT_NEAR(d->bias_thresholds->high_alarm, 0.012, 1e-12);
  EXPECT_NEAR(d->tx_power_thresholds->low_alarm, 0.0001, 1e-12);
  EXPECT_NEAR(d->rx_power_thresholds->low_alarm, 0.00001, 1e-12);
  EXPECT_NEAR(d->rx_power_thresholds->low_warning, 0.00002, 1e-12);
  // The low-light condition a rule would catch: rx power under the module's own warning.
  EXPECT_LT(d->rx_power_watts[0], d->rx_power_thresholds->low_warning);
  EXPECT_GT(d->rx_power_watts[0], d->rx_power_thresholds->low_alarm);
}

TEST(Sff8472Decoder, AppliesExternalCalibrationConstants) {
  auto a0 = sfpA0(0x58);  // bit 6 DDM, bit 4 externally calibrated
  auto a2 = sfpA2();
  // Rx_PWR(1) = 2.0, others 0: rx power = 2 * raw. Slopes are unsigned 8.8 fixed point.
  putFloat(a2, 56, 0.0f);  // Rx_PWR(4)
  putFloat(a2, 60, 0.0f);
  putFloat(a2, 64, 0.0f);
  putFloat(a2, 68, 2.0f);  // Rx_PWR(1)
  putFloat(a2, 72, 0.0f);  // Rx_PWR(0)
  put16(a2, 76, 0x0100);   // Tx_I slope 1.0
  put16(a2, 78, 500);      // Tx_I offset +500 (1 mA)
  put16(a2, 80, 0x0200);   // Tx_PWR slope 2.0
  put16(a2, 82, 0);
  put16(a2, 84, 0x0100);  // T slope 1.0
  put16(a2, 86, 0xFF00);  // T offset -256 (-1 C)
  put16(a2, 88, 0x0100);  // V slope 1.0
  put16(a2, 90, 0);
  auto d = decodeSff8472(a0, a2);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_DOUBLE_EQ(*d->temperature_celsius, 29.5);
  EXPECT_NEAR(d->tx_bias_amperes[0], 0.007, 1e-12);
  EXPECT_NEAR(d->tx_power_watts[0], 0.001, 1e-12);
  EXPECT_NEAR(d->rx_power_watts[0], 0.00003, 1e-12);
  EXPECT_DOUBLE_EQ(d->temperature_thresholds->high_alarm, 79);
}

TEST(Sff8472Decoder, ReportsIdentityOnlyForAModuleWithoutDiagnostics) {
  auto d = decodeSff8472(sfpA0(0x00), {});
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->diagnostics);
  EXPECT_FALSE(d->temperature_celsius);
  EXPECT_EQ(d->vendor, "ACME OPTICS");
}

TEST(Sff8472Decoder, RejectsAQsfpIdentifierAndShortPages) {
  auto a0 = sfpA0();
  a0[0] = 0x11;
  auto wrong = decodeSff8472(a0, sfpA2());
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("QSFP28"), std::string::npos);
  auto a2 = sfpA2();
  a2.resize(50);
  EXPECT_FALSE(decodeSff8472(sfpA0(), a2).ok());
  EXPECT_FALSE(decodeSff8472(std::vector<std::uint8_t>(20, 3), {}).ok());
}

TEST(Sff8472Decoder, DropsControlCharactersFromAsciiFields) {
  auto a0 = sfpA0();
  a0[20] = 0x07;  // BEL inside the vendor name
  auto d = decodeSff8472(a0, sfpA2());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->vendor, "CME OPTICS");
}

// QSFP28 (SFF-8636): lower page live values, upper 00h identity, upper 03h thresholds.
struct Qsfp {
  std::vector<std::uint8_t> lower = std::vector<std::uint8_t>(128, 0);
  std::vector<std::uint8_t> upper00 = std::vector<std::uint8_t>(128, 0);
  std::vector<std::uint8_t> upper03 = std::vector<std::uint8_t>(128, 0);
  Qsfp() {
    lower[0] = 0x11;
    put16(lower, 22, 0x2300);  // 35 C
    put16(lower, 26, 33000);   // 3.3 V
    for (std::size_t lane = 0; lane < 4; ++lane) {
      put16(lower, 34 + 2 * lane, static_cast<std::uint16_t>(7000 + lane));  // rx power
      put16(lower, 42 + 2 * lane, static_cast<std::uint16_t>(3500 + lane));  // bias
      put16(lower, 50 + 2 * lane, static_cast<std::uint16_t>(6000 + lane));  // tx power
    }
    upper00[0] = 0x11;
    putAscii(upper00, 148 - 128, 16, "ACME OPTICS");
    putAscii(upper00, 168 - 128, 16, "QSFP-100G-SR4");
    putAscii(upper00, 184 - 128, 2, "B0");
    putAscii(upper00, 196 - 128, 16, "QX0001");
    upper00[220 - 128] = 0x0C;          // tx power supported, average rx power
    put16(upper03, 128 - 128, 0x4B00);  // temp high alarm 75 C
    put16(upper03, 130 - 128, 0xFB00);  // temp low alarm -5 C
    put16(upper03, 132 - 128, 0x4600);
    put16(upper03, 134 - 128, 0x0000);
    put16(upper03, 144 - 128, 36300);  // vcc high alarm 3.63 V
    put16(upper03, 176 - 128, 34674);  // rx power high alarm 3.4674 mW
    put16(upper03, 178 - 128, 513);    // rx power low alarm 0.0513 mW
    put16(upper03, 184 - 128, 7500);   // bias high alarm 15 mA
    put16(upper03, 192 - 128, 22387);  // tx power high alarm 2.2387 mW
  }
};

TEST(Sff8636Decoder, ReadsFourLanesAndThePage03Thresholds) {
  Qsfp q;
  auto d = decodeSff8636(q.lower, q.upper00, q.upper03);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->identifier_name, "QSFP28");
  EXPECT_EQ(d->vendor, "ACME OPTICS");
  EXPECT_EQ(d->part_number, "QSFP-100G-SR4");
  EXPECT_EQ(d->serial, "QX0001");
  EXPECT_DOUBLE_EQ(*d->temperature_celsius, 35);
  EXPECT_NEAR(*d->supply_voltage_volts, 3.3, 1e-9);
  ASSERT_EQ(d->rx_power_watts.size(), 4u);
  ASSERT_EQ(d->tx_power_watts.size(), 4u);
  ASSERT_EQ(d->tx_bias_amperes.size(), 4u);
  EXPECT_NEAR(d->rx_power_watts[3], 0.0007003, 1e-12);
  EXPECT_NEAR(d->tx_bias_amperes[0], 0.007, 1e-12);
  EXPECT_NEAR(d->tx_power_watts[1], 0.0006001, 1e-12);
  EXPECT_DOUBLE_EQ(d->temperature_thresholds->high_alarm, 75);
  EXPECT_DOUBLE_EQ(d->temperature_thresholds->low_alarm, -5);
  EXPECT_NEAR(d->voltage_thresholds->high_alarm, 3.63, 1e-9);
  EXPECT_NEAR(d->rx_power_thresholds->low_alarm, 0.0000513, 1e-12);
  EXPECT_NEAR(d->bias_thresholds->high_alarm, 0.015, 1e-12);
  EXPECT_NEAR(d->tx_power_thresholds->high_alarm, 0.0022387, 1e-12);
}

TEST(Sff8636Decoder, HasNoThresholdsForAFlatMemoryModule) {
  Qsfp q;
  q.lower[2] = 0x04;  // flat memory: no page 03h
  EXPECT_TRUE(sff8636FlatMemory(q.lower));
  auto d = decodeSff8636(q.lower, q.upper00, {});
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->temperature_thresholds);
  EXPECT_EQ(d->rx_power_watts.size(), 4u);
}

TEST(Sff8636Decoder, OmitsTxPowerWhenTheModuleDoesNotMeasureIt) {
  Qsfp q;
  q.upper00[220 - 128] = 0x08;
  auto d = decodeSff8636(q.lower, q.upper00, q.upper03);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->tx_power_watts.empty());
  EXPECT_FALSE(d->tx_power_thresholds);
}

TEST(Sff8636Decoder, RejectsAnSfpIdentifier) {
  Qsfp q;
  q.lower[0] = 0x03;
  EXPECT_FALSE(decodeSff8636(q.lower, q.upper00, q.upper03).ok());
}

}  // namespace
}  // namespace foreshock::netdev
