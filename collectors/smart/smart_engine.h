// The smart collector's logic, independent of where data comes from: per-disk state across
// cycles, the standby rule, bounded parallel reads with a deadline, gone disks, and the
// foreshock_disk_* series. Driven by a DeviceSource (live, replay, or a test fake).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "collectors/smart/device_source.h"
#include "core/clock.h"
#include "core/metric_set.h"
#include "core/name_filter.h"

namespace foreshock::smart {

struct EngineOptions {
  PowerCheckMode power_check = PowerCheckMode::kStandby;
  // Skips in a row after which a sleeping disk is read anyway (smartd's -n standby,N);
  // 0 means never force.
  int max_skips = 0;
  std::size_t parallel = 4;                          // disks read at the same time
  Duration read_timeout = std::chrono::seconds(60);  // all reads of one cycle
  Duration gone_retention = std::chrono::hours(24);  // how long a vanished disk is reported
  // Device-name NameFilter patterns (whole name): include "" selects no disk, exclude ""
  // excludes none.
  std::string include = ".*";
  std::string exclude;
  std::string component = "smart";  // log component
};

// Thread-safety: collect() must not run concurrently with itself (the scheduler guarantees
// it). Reads run on worker threads that only touch a per-cycle shared batch; a read that
// outlives its deadline keeps its own reference to the batch and the source.
class SmartEngine {
 public:
  SmartEngine(std::shared_ptr<DeviceSource> source, EngineOptions options, const Clock& clock);
  ~SmartEngine();

  // One cycle: discover, read what is due, append every foreshock_disk_* series to `out`.
  void collect(MetricSet& out);

  struct Batch;  // implementation detail, shared with the worker threads

 private:
  struct DiskState {
    DiskIdentity id;
    bool present = false;
    double first_seen = 0;
    double last_seen = 0;
    std::optional<SmartReading> last;  // the last successful reading
    double last_read = 0;              // Unix seconds of `last`
    PowerState power = PowerState::kUnknown;
    int consecutive_skips = 0;
    std::uint64_t skips_total = 0;
    std::uint64_t failures_total = 0;
    bool up = false;
    std::string reason;               // why up is 0
    std::string logged_reason;        // the reason last logged (log once per change)
    std::shared_ptr<Batch> inflight;  // a read that has not finished yet
    std::size_t inflight_index = 0;
  };

  void emit(MetricSet& out) const;
  void logTransition(DiskState& st, const std::string& message, const std::string& capability);

  std::shared_ptr<DeviceSource> source_;
  EngineOptions options_;
  const Clock& clock_;
  NameFilter devices_;
  std::map<std::string, DiskState> disks_;
};

}  // namespace foreshock::smart
