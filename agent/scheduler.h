// The scheduler: runs each collector on its own interval with a deadline, contains every
// failure (error, exception, overrun), and publishes an immutable snapshot after each run.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "collectors/collector.h"
#include "core/clock.h"
#include "core/snapshot.h"

namespace foreshock {

struct ScheduledCollector {
  std::string name;
  Duration interval{std::chrono::seconds(15)};
  Duration timeout{std::chrono::seconds(10)};
  std::unique_ptr<Collector> collector;
};

struct BuildInfo {
  std::string version;
  std::string revision;
  std::string compiler;
};
const BuildInfo& buildInfo();

struct SchedulerOptions {
  // Longest wait between retries of a failing collector (never shorter than its interval).
  Duration max_backoff = std::chrono::minutes(5);
  // How often the monitor loop looks for overruns and calls the tick hook.
  Duration tick = std::chrono::milliseconds(100);
  // How long stop() waits for running collectors before abandoning them.
  Duration stop_grace = std::chrono::milliseconds(700);
};

// Thread-safety: start/stop/runOnce from one controlling thread; every other method is safe
// from any thread. One runner thread per collector plus one monitor thread. A collector stuck
// in a call past its deadline keeps its thread; the scheduler marks it failed and goes on, and
// at stop() abandons that thread (it owns its collector through a shared state, so nothing it
// touches is freed under it).
class Scheduler {
 public:
  Scheduler(std::vector<ScheduledCollector> collectors, SnapshotStore* store,
            const Clock& clock = SystemClock::instance(), SchedulerOptions options = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Carries the last data and status of same-named collectors over from a scheduler being
  // replaced (config reload), so nothing collected is lost; call before start().
  void adoptFrom(const Scheduler& previous);

  void start();
  // Runs every collector once, in parallel, and waits until each has finished or passed its
  // deadline, then publishes. For `foreshock collect` and `check`.
  void runOnce();
  void stop();

  // True once every collector has finished (or timed out) at least once.
  bool ready() const { return ready_.load(); }
  // Called from the monitor loop on each tick (e.g. the systemd watchdog ping).
  void setTickHook(std::function<void()> hook);
  // True while every runner keeps its schedule: no collector that is idle is overdue by more
  // than its timeout plus a grace. A collector hung inside collect() past its deadline does not
  // count (the monitor contains it and reports it); a runner that stops picking up work does
  // (e.g. blocked in the post-processor or a lock). Call after start(); fills `why` when false.
  bool progressing(std::string* why = nullptr) const;
  // Called once, right after the first snapshot in which every collector has run.
  void setReadyHook(std::function<void()> hook);
  // Called inside each publish, before the snapshot becomes visible: returns families to
  // add to it (e.g. the health engine's findings), so /metrics serves collector data and
  // what was derived from it in one snapshot. Runs under the publish lock, one call at a time;
  // it must not call back into the scheduler. An exception from it is logged and ignored.
  using PostProcessor = std::function<std::vector<prometheus::MetricFamily>(const Snapshot&)>;
  void setPostProcessor(PostProcessor hook);

  struct State;
  // Lets abandoned runner threads find out, safely, that the scheduler is gone: they hold it
  // shared while they touch the scheduler; stop() takes it exclusively to mark it dead.
  struct Life {
    std::shared_mutex mu;
    bool dead = false;
  };

 private:
  // Clears the stop flags and starts one runner thread per collector, each due now; `oneshot`
  // runners run a single cycle (runOnce), the others loop until stop() (start).
  void launchRunners(bool oneshot);
  void runnerLoop(std::shared_ptr<State> st, std::shared_ptr<Life> life, bool oneshot);
  // Returns false when the scheduler was abandoned meanwhile (the thread must then exit
  // without touching the scheduler).
  bool runCycle(State& st, Life& life);
  void monitorLoop(bool oneshot);
  void publish();
  void joinAll();

  std::vector<std::shared_ptr<State>> states_;
  std::vector<std::thread> runners_;
  std::thread monitor_;
  std::shared_ptr<Life> life_;
  SnapshotStore* store_;
  const Clock& clock_;
  SchedulerOptions options_;
  std::mutex publish_mu_;
  std::uint64_t generation_ = 0;
  std::atomic<bool> ready_{false};
  std::atomic<bool> ready_fired_{false};
  std::mutex ctl_mu_;
  std::condition_variable ctl_cv_;
  bool stopping_ = false;
  std::mutex hook_mu_;
  std::function<void()> tick_hook_;
  std::function<void()> ready_hook_;
  PostProcessor post_processor_;
};

}  // namespace foreshock
