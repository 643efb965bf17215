// The snapshot: one immutable picture of everything collected, swapped atomically by the
// scheduler and read by every output (Prometheus, textfile, check report, health engine),
// so they can never disagree.
#pragma once

#include <prometheus/metric_family.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace foreshock {

struct CollectorStatus {
  std::string name;
  bool success = false;  // the last cycle succeeded within its deadline
  bool stale = false;    // the data served is from an earlier, successful cycle
  bool ran = false;      // at least one cycle has finished (or timed out)
  double duration_seconds = 0;
  double last_success_timestamp = 0;  // Unix seconds, 0 if never
  std::string last_error;             // empty when success
  std::uint64_t failures_total = 0;
  std::uint64_t timeouts_total = 0;
};

struct Snapshot {
  double timestamp = 0;                            // Unix seconds of the swap
  std::uint64_t generation = 0;                    // increases with every swap
  std::vector<prometheus::MetricFamily> families;  // merged, sorted by name
  std::vector<CollectorStatus> collectors;         // sorted by name

  const CollectorStatus* collector(const std::string& name) const {
    for (const auto& c : collectors)
      if (c.name == name) return &c;
    return nullptr;
  }
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// Holds the latest snapshot. Thread-safety: load() and store() may be called from any thread;
// the pointer swap is under a mutex held only for the copy of a shared_ptr, so readers never
// wait on collection.
class SnapshotStore {
 public:
  SnapshotStore() : current_(std::make_shared<const Snapshot>()) {}
  SnapshotPtr load() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  void store(SnapshotPtr s) {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(s);
  }

 private:
  mutable std::mutex mu_;
  SnapshotPtr current_;
};

}  // namespace foreshock
