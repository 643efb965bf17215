// MetricSet: what a collector fills in one cycle. A thin builder over prometheus-cpp's
// metric model (prometheus::MetricFamily), which is the data model of every snapshot.
#pragma once

#include <prometheus/metric_family.h>

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace foreshock {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Cumulative histogram data: bounds are the upper bounds (ascending, without +Inf);
// cumulative[i] counts observations <= bounds[i]; count includes the +Inf bucket.
struct HistogramData {
  std::vector<double> bounds;
  std::vector<std::uint64_t> cumulative;
  std::uint64_t count = 0;
  double sum = 0;
};

// Thread-safety: not thread-safe; one MetricSet belongs to one collection cycle.
// Families are kept sorted by name so output is deterministic. Adding a family name twice
// with a different type records a conflict (reported by conflicts(), a programming error
// caught by tests) rather than producing invalid exposition.
class MetricSet {
 public:
  void gauge(std::string_view name, std::string_view help, Labels labels, double value);
  void counter(std::string_view name, std::string_view help, Labels labels, double value);
  // An _info series: value 1, the metadata in labels.
  void info(std::string_view name, std::string_view help, Labels labels) {
    gauge(name, help, std::move(labels), 1.0);
  }
  void histogram(std::string_view name, std::string_view help, Labels labels,
                 const HistogramData& data);
  // Declares a family (HELP/TYPE) without samples so that an empty family is still typed.
  void declare(std::string_view name, std::string_view help, prometheus::MetricType type);

  // Appends whole families (e.g. kept from an earlier cycle).
  void merge(const std::vector<prometheus::MetricFamily>& families);

  bool empty() const { return families_.empty(); }
  std::size_t seriesCount() const;
  const std::vector<std::string>& conflicts() const { return conflicts_; }

  // Moves the families out, sorted by name; families without samples are dropped.
  std::vector<prometheus::MetricFamily> take();

 private:
  prometheus::MetricFamily& family(std::string_view name, std::string_view help,
                                   prometheus::MetricType type);
  std::map<std::string, prometheus::MetricFamily, std::less<>> families_;
  std::vector<std::string> conflicts_;
};

// Looks up one series' value (gauge, counter or untyped) in a family list; labels must match
// exactly the given subset. Returns nullptr-like nullopt when absent. For the health engine,
// tests and reports.
const prometheus::MetricFamily* findFamily(const std::vector<prometheus::MetricFamily>& fams,
                                           std::string_view name);
double sampleValue(const prometheus::MetricFamily& family, const prometheus::ClientMetric& m);
std::string labelValue(const prometheus::ClientMetric& m, std::string_view name);
bool labelsMatch(const prometheus::ClientMetric& m, const Labels& subset);

}  // namespace foreshock
