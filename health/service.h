// The health engine as the agent runs it: history loaded at start from the state directory,
// every published snapshot observed and evaluated, the findings returned as families to merge
// into the same snapshot, the history saved on a timer and at shutdown.
#pragma once

#include <prometheus/metric_family.h>

#include <filesystem>
#include <mutex>
#include <vector>

#include "core/snapshot.h"
#include "health/engine.h"

namespace foreshock {

// Thread-safety: onSnapshot, save and the counters may be called from any thread; they are
// serialised by an internal mutex (the scheduler calls onSnapshot one at a time anyway).
class HealthService {
 public:
  // state_file: e.g. /var/lib/foreshock/history.bin; save_interval in seconds.
  HealthService(HealthOptions options, std::filesystem::path state_file, double save_interval);

  // Removes temporary files left by interrupted saves (.history.bin.XXXXXX, ours only), then
  // loads the history; a missing file is normal, a corrupt, oversized (over
  // kMaxHistoryFileBytes, checked before reading) or non-regular one is logged (with where it
  // was moved) and the history starts empty. Call before the first save.
  void start();
  // For Scheduler::setPostProcessor: evaluates the snapshot and returns the health families.
  std::vector<prometheus::MetricFamily> onSnapshot(const Snapshot& snap);
  // Writes the history now (also called at shutdown). Errors are logged and counted.
  void save();

  const std::filesystem::path& stateFile() const { return state_file_; }

 private:
  HealthEngine engine_;
  std::filesystem::path state_file_;
  double save_interval_;
  std::mutex mu_;
  double last_save_ = 0;
  std::uint64_t saves_ = 0, save_errors_ = 0;
  bool load_rejected_ = false;
};

}  // namespace foreshock
