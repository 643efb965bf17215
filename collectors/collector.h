// The collector contract. Every data source (smart, sensors, netdev, probe, lldp, self) is a
// Collector created by name from the Registry with a CollectorContext.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/host_paths.h"
#include "core/metric_set.h"
#include "core/options.h"
#include "core/result.h"

namespace foreshock {

class NeighborTable;  // collectors/lldp/neighbor_table.h

// What a collector is built with. The collector keeps what it needs; the context itself is
// not guaranteed to outlive construction except for `clock`, which outlives the collector.
struct CollectorContext {
  std::string name;      // the registry name, used in log lines
  HostPaths paths;       // host roots; never spell /sys, /proc or /dev directly
  ConfigSection config;  // this collector's validated section (defaults applied)
  const Clock* clock = &SystemClock::instance();
  // The link-layer neighbour table the agent owns and hands to every collector it builds:
  // the lldp collector writes it, the probe collector reads the management addresses in it.
  // Null in contexts built without an agent (tests, benches): lldp then keeps a private
  // table and probe has no LLDP-derived targets. Shared ownership: it outlives both users.
  std::shared_ptr<NeighborTable> neighbors;
};

// Contract:
// - collect() appends this cycle's metrics to `out` and returns Ok, or returns an Error that
//   says why the whole cycle failed (the scheduler then keeps the last good data, marks it
//   stale and reports foreshock_collector_success 0). A problem with one device, sensor or
//   interface is NOT a collector error: report it on that entity's up series and return Ok.
// - collect() is called from one scheduler thread at a time, never concurrently with itself,
//   but possibly from different threads over the collector's life.
// - collect() should finish well within the collector's timeout. If it overruns, its result is
//   discarded; the scheduler never cancels it, so blocking I/O must have its own bound.
// - Exceptions are contained by the scheduler, but collectors return errors as values.
// - A collector may run background threads (e.g. continuous probers) started in its
//   constructor and stopped in its destructor; collect() then only snapshots their state.
// - The names collect() emits are owned by this collector alone (foreshock_<subsystem>_...).
class Collector {
 public:
  virtual ~Collector() = default;
  virtual Status collect(MetricSet& out) = 0;
};

using CollectorFactory =
    std::function<Result<std::unique_ptr<Collector>>(const CollectorContext& ctx)>;

// A registry entry: what `foreshock list-collectors` prints and the config schema validates.
struct CollectorInfo {
  std::string name;
  std::string description;
  bool enabled_by_default = true;
  Duration default_interval = std::chrono::seconds(15);
  Duration default_timeout = std::chrono::seconds(10);
  // Collector-specific options. `enabled`, `interval` and `timeout` are added by the agent.
  std::vector<OptionSpec> options;
  CollectorFactory factory;
};

}  // namespace foreshock
