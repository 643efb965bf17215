#include "core/metric_set.h"

#include <algorithm>
#include <limits>

namespace foreshock {

namespace {
prometheus::ClientMetric makeMetric(Labels labels) {
  prometheus::ClientMetric m;
  m.label.reserve(labels.size());
  for (auto& [k, v] : labels) m.label.push_back({std::move(k), std::move(v)});
  return m;
}

const char* typeName(prometheus::MetricType t) {
  switch (t) {
    case prometheus::MetricType::Counter: return "counter";
    case prometheus::MetricType::Gauge: return "gauge";
    case prometheus::MetricType::Histogram: return "histogram";
    case prometheus::MetricType::Summary: return "summary";
    default: return "untyped";
  }
}
}  // namespace

prometheus::MetricFamily& MetricSet::family(std::string_view name, std::string_view help,
                                            prometheus::MetricType type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    prometheus::MetricFamily f;
    f.name = std::string(name);
    f.help = std::string(help);
    f.type = type;
    it = families_.emplace(std::string(name), std::move(f)).first;
  } else if (it->second.type != type) {
    conflicts_.push_back(std::string(name) + " registered as " + typeName(it->second.type) +
                         " and as " + typeName(type));
  }
  return it->second;
}

void MetricSet::gauge(std::string_view name, std::string_view help, Labels labels, double value) {
  auto& f = family(name, help, prometheus::MetricType::Gauge);
  auto m = makeMetric(std::move(labels));
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

void MetricSet::counter(std::string_view name, std::string_view help, Labels labels,
                        double value) {
  auto& f = family(name, help, prometheus::MetricType::Counter);
  auto m = makeMetric(std::move(labels));
  m.counter.value = value;
  f.metric.push_back(std::move(m));
}

void MetricSet::histogram(std::string_view name, std::string_view help, Labels labels,
                          const HistogramData& data) {
  auto& f = family(name, help, prometheus::MetricType::Histogram);
  auto m = makeMetric(std::move(labels));
  m.histogram.sample_count = data.count;
  m.histogram.sample_sum = data.sum;
  for (std::size_t i = 0; i < data.bounds.size(); ++i) {
    prometheus::ClientMetric::Bucket b;
    b.upper_bound = data.bounds[i];
    b.cumulative_count = i < data.cumulative.size() ? data.cumulative[i] : data.count;
    m.histogram.bucket.push_back(b);
  }
  prometheus::ClientMetric::Bucket inf;
  inf.upper_bound = std::numeric_limits<double>::infinity();
  inf.cumulative_count = data.count;
  m.histogram.bucket.push_back(inf);
  f.metric.push_back(std::move(m));
}

void MetricSet::declare(std::string_view name, std::string_view help,
                        prometheus::MetricType type) {
  family(name, help, type);
}

void MetricSet::merge(const std::vector<prometheus::MetricFamily>& families) {
  for (const auto& src : families) {
    auto& f = family(src.name, src.help, src.type);
    f.metric.insert(f.metric.end(), src.metric.begin(), src.metric.end());
  }
}

std::size_t MetricSet::seriesCount() const {
  std::size_t n = 0;
  for (const auto& [_, f] : families_) n += f.metric.size();
  return n;
}

std::vector<prometheus::MetricFamily> MetricSet::take() {
  std::vector<prometheus::MetricFamily> out;
  out.reserve(families_.size());
  for (auto& [_, f] : families_) {
    if (!f.metric.empty()) out.push_back(std::move(f));
  }
  families_.clear();
  return out;
}

const prometheus::MetricFamily* findFamily(const std::vector<prometheus::MetricFamily>& fams,
                                           std::string_view name) {
  for (const auto& f : fams) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

double sampleValue(const prometheus::MetricFamily& family, const prometheus::ClientMetric& m) {
  switch (family.type) {
    case prometheus::MetricType::Counter: return m.counter.value;
    case prometheus::MetricType::Gauge: return m.gauge.value;
    case prometheus::MetricType::Histogram: return static_cast<double>(m.histogram.sample_count);
    case prometheus::MetricType::Summary: return static_cast<double>(m.summary.sample_count);
    default: return m.untyped.value;
  }
}

std::string labelValue(const prometheus::ClientMetric& m, std::string_view name) {
  for (const auto& l : m.label) {
    if (l.name == name) return l.value;
  }
  return {};
}

bool labelsMatch(const prometheus::ClientMetric& m, const Labels& subset) {
  for (const auto& kv : subset) {
    // Not a structured binding: clang < 16 cannot capture those in a lambda.
    const auto& k = kv.first;
    const auto& v = kv.second;
    bool found = std::any_of(m.label.begin(), m.label.end(),
                             [&](const auto& l) { return l.name == k && l.value == v; });
    if (!found) return false;
  }
  return true;
}

}  // namespace foreshock
