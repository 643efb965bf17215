#include "health/risk_model.h"

#include <cmath>

#include "health/signals.h"

namespace foreshock {

namespace rc = risk_coefficients;

std::string ataSeriesName(int id) {
  return "smart_" + std::to_string(id) + "_raw";
}

std::optional<RiskFeatures> riskFeatures(const DiskObservation& disk, const HistoryStore& history,
                                         double now) {
  if (!disk.isAta()) return std::nullopt;
  RiskFeatures f{};
  std::size_t i = 0;
  // Order must match tools/risk_features.py FEATURES (checked by a unit test on the names).
  for (int id :
       {signals::kAtaReallocated, signals::kAtaReportedUncorrect, signals::kAtaCommandTimeout,
        signals::kAtaPending, signals::kAtaOfflineUncorrectable}) {
    f[i++] = std::log1p(std::max(0.0, disk.raw(id).value_or(0)));
  }
  for (int id : {signals::kAtaReallocated, signals::kAtaReportedUncorrect, signals::kAtaPending,
                 signals::kAtaOfflineUncorrectable}) {
    const auto* s = history.series("disk", disk.serial, ataSeriesName(id));
    double inc = s ? s->increase(now, rc::kWindowDays * 86400.0) : 0;
    f[i++] = std::log1p(inc);
  }
  // Age: attribute 9 is power-on hours on every drive the model knows; else the collector's
  // power-on seconds.
  if (auto h = disk.raw(signals::kAtaPowerOnHours)) {
    f[i++] = *h / 8760.0;
  } else if (disk.power_on_seconds) {
    f[i++] = *disk.power_on_seconds / (8760.0 * 3600.0);
  } else {
    f[i] = rc::kMean[i];
    ++i;
  }
  // Temperature: a missing value takes the training mean (contributes nothing).
  if (disk.temperature) {
    f[i++] = *disk.temperature;
  } else if (auto t = disk.raw(signals::kAtaTemperature)) {
    f[i++] = static_cast<double>(static_cast<std::uint64_t>(*t) & 0xff);  // low byte: Celsius
  } else {
    f[i] = rc::kMean[i];
    ++i;
  }
  return f;
}

double riskScore(const RiskFeatures& f) {
  double z = rc::kIntercept;
  for (std::size_t i = 0; i < f.size(); ++i)
    z += rc::kWeight[i] * (f[i] - rc::kMean[i]) / rc::kScale[i];
  return 1.0 / (1.0 + std::exp(-z));
}

}  // namespace foreshock
