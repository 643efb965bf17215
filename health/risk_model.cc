#include "health/risk_model.h"

#include <cmath>
#include <limits>

#include "health/signals.h"

namespace foreshock {

namespace rc = risk_coefficients;

namespace {

// In kFeatureNames order (checked by the unit test on the names).
constexpr std::array<int, 5> kCounters = {signals::kAtaReallocated, signals::kAtaReportedUncorrect,
                                          signals::kAtaCommandTimeout, signals::kAtaPending,
                                          signals::kAtaOfflineUncorrectable};
constexpr std::array<int, 2> kWindowDays = {7, 30};

static_assert(rc::kFeatureCount == kCounters.size() * (1 + kWindowDays.size()));

}  // namespace

std::string ataSeriesName(int id) {
  return "smart_" + std::to_string(id) + "_raw";
}

std::optional<RiskFeatures> riskFeatures(const DiskObservation& disk, const HistoryStore& history,
                                         double now) {
  if (!disk.isAta()) return std::nullopt;
  RiskFeatures f{};
  std::size_t i = 0;
  for (int id : kCounters) f[i++] = disk.raw(id).value_or(std::numeric_limits<double>::quiet_NaN());
  for (int days : kWindowDays) {
    for (int id : kCounters) {
      const auto* s = history.series("disk", disk.historyId(), ataSeriesName(id));
      f[i++] = s ? s->increase(now, days * 86400.0) : 0.0;
    }
  }
  return f;
}

double riskScore(const RiskFeatures& f) {
  double raw = rc::kBaseline;
  for (std::uint16_t root : rc::kTreeRoots) {
    const rc::TreeNode* n = &rc::kNodes[root];
    while (n->feature >= 0) {
      double x = f[static_cast<std::size_t>(n->feature)];
      bool left = std::isnan(x) ? n->missing_left : x <= n->threshold;
      n = &rc::kNodes[left ? n->left : n->right];
    }
    raw += n->value;
  }
  return 1.0 / (1.0 + std::exp(-raw));
}

}  // namespace foreshock
