// Every skdump --save blob in tests/fixtures/data/smart/ata-blobs is read through libatasmart's
// blob API and compared with `skdump --load=NAME` (Debian libatasmart-bin 0.19) in
// expected/NAME.skdump.txt. The expected text is parsed here, so the test is table-driven
// over whatever blobs the folder holds.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "collectors/smart/ata_reader.h"
#include "core/file_util.h"

namespace foreshock::smart {
namespace {

namespace fs = std::filesystem;

const fs::path kBlobDir = fs::path(FORESHOCK_TEST_DATA) / "smart" / "ata-blobs";

struct ExpectedAttribute {
  int id = 0;
  std::string name;
  std::optional<int> value, worst, threshold;  // "n/a" when libatasmart marks them invalid
  std::uint64_t raw = 0;
  bool prefail = false, online = false;
  std::string good, good_past;  // yes, no, n/a
};

struct Expected {
  std::map<std::string, std::string> fields;  // "Model" -> "[ST9100821AS]" ...
  std::vector<ExpectedAttribute> attributes;
};

std::string stripAnsi(const std::string& s) {
  static const std::regex ansi("\x1b\\[[0-9;]*m");
  return std::regex_replace(s, ansi, "");
}

Expected parseExpected(const std::string& text) {
  Expected e;
  std::istringstream in(text);
  std::string line;
  bool table = false;
  while (std::getline(in, line)) {
    line = stripAnsi(line);
    if (line.starts_with("ID# ")) {
      table = true;
      continue;
    }
    if (!table) {
      auto colon = line.find(": ");
      if (colon != std::string::npos)
        e.fields[line.substr(0, colon)] = line.substr(colon + 2);
      else if (line.ends_with(":"))
        e.fields[line.substr(0, line.size() - 1)] = "";
      continue;
    }
    auto tok = splitWhitespace(line);
    if (tok.size() < 10) continue;
    // ID NAME VALUE WORST THRES PRETTY... RAW TYPE UPDATES GOOD GOODPAST: the pretty column may
    // hold several words, so the last five columns are taken from the right.
    ExpectedAttribute a;
    a.id = std::stoi(std::string(tok[0]));
    a.name = std::string(tok[1]);
    auto num = [](std::string_view t) -> std::optional<int> {
      if (t == "n/a") return std::nullopt;
      return std::stoi(std::string(t));
    };
    a.value = num(tok[2]);
    a.worst = num(tok[3]);
    a.threshold = num(tok[4]);
    std::size_t n = tok.size();
    std::string raw_hex(tok[n - 5]);
    EXPECT_TRUE(raw_hex.starts_with("0x")) << line;
    // skdump prints the six raw bytes in storage order; the drive stores them little-endian.
    for (int i = 0; i < 6; ++i) {
      std::uint64_t byte = std::stoul(raw_hex.substr(2 + 2 * i, 2), nullptr, 16);
      a.raw |= byte << (8 * i);
    }
    a.prefail = tok[n - 4] == "prefail";
    a.online = tok[n - 3] == "online";
    a.good = std::string(tok[n - 2]);
    a.good_past = std::string(tok[n - 1]);
    e.attributes.push_back(a);
  }
  return e;
}

std::string bracketed(const std::string& s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') return s.substr(1, s.size() - 2);
  return s;
}

// skdump's pretty time: "%0.1f <unit>" with months of 30 days and years of 365 days.
std::optional<double> prettyMilliseconds(const std::string& s) {
  double v = 0;
  char unit[16] = {0};
  if (std::sscanf(s.c_str(), "%lf %15s", &v, unit) != 2) return std::nullopt;
  std::string u = unit;
  const double day = 24.0 * 3600 * 1000;
  if (u == "years") return v * 365 * day;
  if (u == "months") return v * 30 * day;
  if (u == "days") return v * day;
  if (u == "h") return v * 3600 * 1000;
  if (u == "min") return v * 60 * 1000;
  if (u == "s") return v * 1000;
  if (u == "ms") return v;
  return std::nullopt;
}
double prettyUnitMilliseconds(const std::string& s) {
  const double day = 24.0 * 3600 * 1000;
  if (s.find("years") != std::string::npos) return 365 * day;
  if (s.find("months") != std::string::npos) return 30 * day;
  if (s.find("days") != std::string::npos) return day;
  if (s.find(" h") != std::string::npos) return 3600 * 1000;
  if (s.find("min") != std::string::npos) return 60 * 1000;
  if (s.find(" s") != std::string::npos) return 1000;
  return 1;
}

bool isValue(const std::string& field) {
  return !field.empty() &&
         (std::isdigit(static_cast<unsigned char>(field[0])) || field == "yes" || field == "no" ||
          field.find('_') != std::string::npos || field == "GOOD");
}

std::vector<std::string> blobNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kBlobDir)) {
    if (e.is_regular_file()) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::span<const std::uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class AtaBlobReplay : public ::testing::TestWithParam<std::string> {};

TEST_P(AtaBlobReplay, MatchesSkdumpOutputForTheSameBlob) {
  const std::string name = GetParam();
  auto blob = readFileBounded(kBlobDir / name);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto text = readFileBounded(kBlobDir / "expected" / (name + ".skdump.txt"));
  ASSERT_TRUE(text.ok()) << "every blob needs its expected output: " << text.error().message;
  Expected ex = parseExpected(*text);

  auto r = readAtaBlob(bytesOf(*blob));
  ASSERT_TRUE(r.ok()) << name << ": " << r.error().message;

  EXPECT_EQ(r->model, bracketed(ex.fields["Model"]));
  EXPECT_EQ(r->serial, bracketed(ex.fields["Serial"]));
  EXPECT_EQ(r->firmware, bracketed(ex.fields["Firmware"]));

  // Overall verdict: "SMART Disk Health Good" is the drive's own status, "Overall Status"
  // libatasmart's verdict; an error text (e.g. no SMST record) means "not available".
  const std::string health = ex.fields["SMART Disk Health Good"];
  if (health == "yes" || health == "no") {
    ASSERT_TRUE(r->healthy.has_value());
    EXPECT_EQ(*r->healthy, health == "yes");
  } else {
    EXPECT_FALSE(r->healthy.has_value()) << health;
  }
  const std::string overall = ex.fields["Overall Status"];
  if (isValue(overall)) {
    std::string lower;
    for (char c : overall) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(r->overall, lower);
  } else {
    EXPECT_EQ(r->overall, "") << overall;
  }

  const std::string bad = ex.fields["Bad Sectors"];
  if (isValue(bad)) {
    ASSERT_TRUE(r->bad_sectors.has_value());
    EXPECT_EQ(*r->bad_sectors, std::stoull(bad)) << bad;
  } else {
    EXPECT_FALSE(r->bad_sectors.has_value()) << bad;
  }

  const std::string powered = ex.fields["Powered On"];
  if (auto ms = prettyMilliseconds(powered)) {
    ASSERT_TRUE(r->power_on_seconds.has_value());
    // skdump rounds to one decimal of its unit.
    const double unit = prettyUnitMilliseconds(powered);
    EXPECT_NEAR(*r->power_on_seconds * 1000.0 / unit, *ms / unit, 0.05 + 1e-9) << powered;
  } else {
    EXPECT_FALSE(r->power_on_seconds.has_value()) << powered;
  }

  const std::string cycles = ex.fields["Power Cycles"];
  if (isValue(cycles)) {
    ASSERT_TRUE(r->power_cycles.has_value());
    EXPECT_EQ(*r->power_cycles, std::stoull(cycles));
  } else {
    EXPECT_FALSE(r->power_cycles.has_value()) << cycles;
  }

  const std::string temp = ex.fields["Temperature"];
  if (isValue(temp)) {
    ASSERT_TRUE(r->temperature_celsius.has_value());
    EXPECT_NEAR(*r->temperature_celsius, std::stod(temp), 0.05 + 1e-9) << temp;
  } else {
    EXPECT_FALSE(r->temperature_celsius.has_value()) << temp;
  }

  ASSERT_EQ(r->attributes.size(), ex.attributes.size());
  for (std::size_t i = 0; i < ex.attributes.size(); ++i) {
    const auto& want = ex.attributes[i];
    const auto& got = r->attributes[i];
    SCOPED_TRACE(name + " attribute " + std::to_string(want.id));
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.name, want.name);
    auto asInt = [](std::optional<std::uint8_t> v) -> std::optional<int> {
      if (!v) return std::nullopt;
      return static_cast<int>(*v);
    };
    EXPECT_EQ(asInt(got.value), want.value);
    EXPECT_EQ(asInt(got.worst), want.worst);
    EXPECT_EQ(asInt(got.threshold), want.threshold);
    EXPECT_EQ(got.raw, want.raw);
    EXPECT_EQ(got.prefailure, want.prefail);
    EXPECT_EQ(got.online, want.online);
    EXPECT_EQ(got.good_now ? (*got.good_now ? "yes" : "no") : "n/a", want.good);
    EXPECT_EQ(got.good_in_past ? (*got.good_in_past ? "yes" : "no") : "n/a", want.good_past);
  }
}

INSTANTIATE_TEST_SUITE_P(SharedBlobs, AtaBlobReplay, ::testing::ValuesIn(blobNames()),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (auto& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(AtaBlobReplay, CoversEveryBlobInTheSharedFolder) {
  EXPECT_EQ(blobNames().size(), 15u);
}

TEST(SmartAtaParser, ReportsPendingSectorsFromAttribute197) {
  auto blob = readFileBounded(kBlobDir / "SAMSUNG_HD501LJ--CR100-12");
  ASSERT_TRUE(blob.ok());
  auto r = readAtaBlob(bytesOf(*blob));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->pending_sectors.has_value());
  EXPECT_EQ(*r->pending_sectors, 1u);
  EXPECT_EQ(*r->reallocated_sectors, 1u);
  EXPECT_EQ(*r->bad_sectors, 2u);
  EXPECT_EQ(r->overall, "bad_sector");
}

std::string record(const std::string& tag, std::size_t len) {
  std::string s = tag;
  s += static_cast<char>((len >> 24) & 0xFF);
  s += static_cast<char>((len >> 16) & 0xFF);
  s += static_cast<char>((len >> 8) & 0xFF);
  s += static_cast<char>(len & 0xFF);
  s += std::string(len, '\0');
  return s;
}

TEST(SkdumpBlobLayout, RejectsARecordLongerThanTheFile) {
  std::string b = record("IDFY", 512);
  b.resize(300);
  auto r = validateSkBlob(bytesOf(b));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("IDFY"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("claims 512 bytes"), std::string::npos) << r.error().message;
}

TEST(SkdumpBlobLayout, RejectsUnknownTagsNamingTheOffset) {
  std::string b = record("IDFY", 512) + record("XXXX", 4);
  auto r = validateSkBlob(bytesOf(b));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("\"XXXX\" at byte 520"), std::string::npos) << r.error().message;
}

TEST(SkdumpBlobLayout, RejectsWrongPayloadSizesAndDuplicates) {
  EXPECT_FALSE(validateSkBlob(bytesOf(record("IDFY", 256))).ok());
  EXPECT_FALSE(validateSkBlob(bytesOf(record("IDFY", 512) + record("IDFY", 512))).ok());
  EXPECT_FALSE(validateSkBlob(bytesOf(record("SMDT", 512))).ok());  // no IDENTIFY
  EXPECT_FALSE(validateSkBlob(bytesOf(record("IDFY", 512) + "abc")).ok());
}

TEST(SkdumpBlobLayout, AcceptsABlobWithoutStatusRecord) {
  auto r = validateSkBlob(bytesOf(record("IDFY", 512) + record("SMDT", 512) + record("SMTH", 512)));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->has_status);
}

TEST(SmartAtaParser, CorruptBlobIsAnErrorNotACrash) {
  auto blob = readFileBounded(kBlobDir / "ST9100821AS--3.CME");
  ASSERT_TRUE(blob.ok());
  std::string cut = blob->substr(0, 700);
  auto r = readAtaBlob(bytesOf(cut));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("skdump blob"), std::string::npos);
}

}  // namespace
}  // namespace foreshock::smart
