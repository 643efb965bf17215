// The health engine as the agent runs it: history loaded at start from the state directory,
// every published snapshot observed and evaluated, the findings returned as families to merge
// into the same snapshot, the history saved on a timer and at shutdown.
#pragma once

#include <prometheus/metric_family.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "core/snapshot.h"
#include "health/engine.h"

namespace foreshock {

// Thread-safety: onSnapshot, save and the counters may be called from any thread; they are
// serialised by an internal mutex (the scheduler calls onSnapshot one at a time anyway). The
// timed saves run on the service's own saver thread, so onSnapshot (called under the
// scheduler's publish lock) never waits for the disk; saves never run concurrently.
class HealthService {
 public:
  // state_file: e.g. /var/lib/foreshock/history.bin; save_interval in seconds.
  HealthService(HealthOptions options, std::filesystem::path state_file, double save_interval);
  ~HealthService();
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;

  // Removes temporary files left by interrupted saves (.history.bin.XXXXXX, ours only), then
  // loads the history; a missing file is normal, a corrupt, oversized (over
  // kMaxHistoryFileBytes, checked before reading) or non-regular one is logged (with where it
  // was moved) and the history starts empty. Call before the first save.
  void start();
  // For Scheduler::setPostProcessor: evaluates the snapshot and returns the health families.
  // When a save is due it only wakes the saver thread.
  std::vector<prometheus::MetricFamily> onSnapshot(const Snapshot& snap);
  // Writes the history now, on the calling thread (also called at shutdown, after stop()).
  // Errors are logged and counted.
  void save();
  // Stops the saver thread (waiting for a save under way); idempotent.
  void stop();

  const std::filesystem::path& stateFile() const { return state_file_; }

 private:
  HealthEngine engine_;
  std::filesystem::path state_file_;
  double save_interval_;
  void saverLoop();

  std::mutex mu_;
  std::condition_variable cv_;
  bool save_requested_ = false;
  bool stopping_ = false;
  std::thread saver_;
  std::mutex save_mu_;  // one save at a time, in order
  double last_save_ = 0;
  std::uint64_t saves_ = 0, save_errors_ = 0;
  bool load_rejected_ = false;
};

}  // namespace foreshock
