// The compiled risk model against the training script: real drives' rows replayed through the
// agent's history and model give the features and scores tools/train_risk_model.py computed
// for them (tests/fixtures/risk_model/drives.csv, generated with the committed header).
#include "health/risk_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "health/backblaze.h"
#include "health/engine.h"
#include "health/signals.h"

namespace foreshock {
namespace {

namespace rc = risk_coefficients;

struct FixtureRow {
  std::string serial;
  std::string date;
  std::map<int, double> raw;  // attributes present on the row
  RiskFeatures features{};
  double risk = 0;
};

std::vector<FixtureRow> loadFixture() {
  std::string path = std::string(FORESHOCK_SOURCE_DIR) + "/tests/fixtures/risk_model/drives.csv";
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::vector<FixtureRow> rows;
  std::string line;
  std::vector<std::string> header;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto cols = split(line, ',');
    if (header.empty()) {
      header = cols;
      continue;
    }
    EXPECT_EQ(cols.size(), header.size()) << line;
    if (cols.size() != header.size()) break;
    FixtureRow r;
    std::size_t f = 0;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      const auto& h = header[i];
      auto v = cols[i].empty() ? std::optional<double>(nan) : parseDouble(cols[i]);
      EXPECT_TRUE(h == "serial_number" || h == "date" || v.has_value()) << h << ": " << cols[i];
      if (h == "serial_number") {
        r.serial = cols[i];
      } else if (h == "date") {
        r.date = cols[i];
      } else if (h == "risk") {
        r.risk = v.value_or(nan);
      } else if (h.rfind("feature:", 0) == 0) {
        EXPECT_EQ(h.substr(8), rc::kFeatureNames.at(f)) << "feature order differs from the header";
        r.features.at(f++) = v.value_or(nan);
      } else if (h.rfind("smart_", 0) == 0 && v && !std::isnan(*v)) {
        r.raw[std::stoi(h.substr(6))] = *v;
      }
    }
    EXPECT_EQ(f, rc::kFeatureCount);
    rows.push_back(std::move(r));
  }
  return rows;
}

bool sameFeature(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

TEST(RiskModel, AgentFeaturesAndScoresEqualTheTrainingScriptsOnRealDrives) {
  auto rows = loadFixture();
  ASSERT_GE(rows.size(), 500u) << "fixture too small";
  std::map<std::string, HistoryStore> histories;
  std::size_t compared = 0, alarmed = 0, without_readings = 0;
  for (const auto& r : rows) {
    auto& h = histories[r.serial];
    DiskObservation d;
    d.serial = r.serial;
    d.device = r.serial;
    d.model = "ST4000DM000";
    for (auto [id, v] : r.raw) {
      AtaAttribute a;
      a.id = id;
      a.raw = v;
      d.attributes.push_back(a);
    }
    auto day = parseIsoDay(r.date);
    ASSERT_TRUE(day) << r.date;
    double t = *day * 86400.0 + 43200;  // as foreshock replay does
    recordDisk(h, d, t);
    auto f = riskFeatures(d, h, t);
    if (d.attributes.empty()) {  // a day without readings: no ATA data, no score (as replay)
      EXPECT_FALSE(f);
      ++without_readings;
      continue;
    }
    ASSERT_TRUE(f);
    for (std::size_t i = 0; i < rc::kFeatureCount; ++i) {
      EXPECT_TRUE(sameFeature((*f)[i], r.features[i]))
          << r.serial << " " << r.date << " " << rc::kFeatureNames[i] << ": agent " << (*f)[i]
          << ", training " << r.features[i];
    }
    double risk = riskScore(*f);
    EXPECT_NEAR(risk, r.risk, 1e-12) << r.serial << " " << r.date;
    if (r.risk >= rc::kWarningThreshold) ++alarmed;
    ++compared;
  }
  EXPECT_GE(histories.size(), 5u);
  EXPECT_GT(alarmed, 0u) << "the fixture should hold alarmed days";
  EXPECT_LT(alarmed, compared) << "and quiet ones";
  EXPECT_GT(without_readings, 0u) << "and a day without readings";
}

TEST(RiskModel, FeatureNamesAreTheCountersThenTheir7And30DayIncreases) {
  EXPECT_EQ(rc::kFeatureNames[0], "smart_5_raw");
  EXPECT_EQ(rc::kFeatureNames[2], "smart_188_raw");
  EXPECT_EQ(rc::kFeatureNames[5], "smart_5_increase_7d");
  EXPECT_EQ(rc::kFeatureNames[9], "smart_198_increase_7d");
  EXPECT_EQ(rc::kFeatureNames[10], "smart_5_increase_30d");
  EXPECT_EQ(rc::kFeatureNames[14], "smart_198_increase_30d");
  EXPECT_GT(rc::kWarningThreshold, 0.0);
  EXPECT_GE(rc::kCriticalThreshold, rc::kWarningThreshold);
}

TEST(RiskModel, EveryTreeNodeIndexStaysInsideTheNodeTable) {
  for (std::size_t i = 0; i < rc::kNodes.size(); ++i) {
    const auto& n = rc::kNodes[i];
    if (n.feature < 0) continue;
    EXPECT_LT(static_cast<std::size_t>(n.feature), rc::kFeatureCount) << i;
    EXPECT_GT(n.left, i) << i;
    EXPECT_GT(n.right, i) << i;
    EXPECT_LT(n.left, rc::kNodes.size()) << i;
    EXPECT_LT(n.right, rc::kNodes.size()) << i;
  }
}

TEST(RiskModel, GrowingErrorCountersRaiseTheRiskAboveACleanDisk) {
  HistoryStore h;
  DiskObservation bad, good;
  bad.serial = "BAD";
  good.serial = "GOOD";
  double t0 = 1'700'000'000;
  double bad_risk = 0, good_risk = 0;
  for (int d = 0; d < 10; ++d) {
    double t = t0 + d * 86400.0;
    bad.attributes.clear();
    good.attributes.clear();
    for (auto [id, v] : std::map<int, double>{
             {5, 8.0 * d}, {187, 2.0 * d}, {188, 0}, {197, 8.0 * d}, {198, 8.0 * d}}) {
      AtaAttribute a;
      a.id = id;
      a.raw = v;
      bad.attributes.push_back(a);
      a.raw = 0;
      good.attributes.push_back(a);
    }
    recordDisk(h, bad, t);
    recordDisk(h, good, t);
    bad_risk = riskScore(*riskFeatures(bad, h, t));
    good_risk = riskScore(*riskFeatures(good, h, t));
  }
  EXPECT_GE(bad_risk, rc::kWarningThreshold);
  EXPECT_LT(good_risk, rc::kWarningThreshold);
  EXPECT_LT(good_risk, 0.1);
}

TEST(RiskModel, NonAtaDisksGetNoScore) {
  DiskObservation nvme;
  nvme.serial = "N";
  nvme.media_errors = 3;
  EXPECT_FALSE(riskFeatures(nvme, HistoryStore{}, 0));
}

}  // namespace
}  // namespace foreshock
