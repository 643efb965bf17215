#include "agent/scheduler.h"

#include <pthread.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/log.h"
#include "core/options.h"

#ifndef FORESHOCK_VERSION
#define FORESHOCK_VERSION "0.0.0"
#endif
#ifndef FORESHOCK_REVISION
#define FORESHOCK_REVISION "unknown"
#endif

namespace foreshock {

const BuildInfo& buildInfo() {
  static const BuildInfo info = [] {
    BuildInfo b;
    b.version = FORESHOCK_VERSION;
    b.revision = FORESHOCK_REVISION;
#if defined(__clang__)
    b.compiler = "clang-" __clang_version__;
#elif defined(__GNUC__)
    b.compiler = "gcc-" __VERSION__;
#endif
    return b;
  }();
  return info;
}

struct Scheduler::State {
  std::string name;
  Duration interval;
  Duration timeout;
  std::unique_ptr<Collector> collector;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool exited = false;
  // Current run.
  bool running = false;
  std::chrono::steady_clock::time_point run_started{};
  bool run_timed_out = false;
  std::chrono::steady_clock::time_point next_due{};
  // Results.
  CollectorStatus status;
  std::vector<prometheus::MetricFamily> families;  // last good data
  std::size_t series = 0;
  std::uint64_t consecutive_failures = 0;
  std::uint64_t suppressed_logs = 0;
};

namespace {
std::string secs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3fs", s);
  return buf;
}

// Names the calling thread (visible in top -H, ps -L and core dumps); at most 15 bytes.
void nameThread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

// Logs the 1st, 2nd, 4th, 8th... consecutive failure, so a broken collector is visible but
// never floods the log; the count says how many were folded in.
bool shouldLogFailure(std::uint64_t n) {
  return (n & (n - 1)) == 0;
}
}  // namespace

Scheduler::Scheduler(std::vector<ScheduledCollector> collectors, SnapshotStore* store,
                     const Clock& clock, SchedulerOptions options)
    : store_(store), clock_(clock), options_(options) {
  std::sort(collectors.begin(), collectors.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& c : collectors) {
    auto st = std::make_shared<State>();
    st->name = c.name;
    st->interval = c.interval;
    st->timeout = c.timeout;
    st->collector = std::move(c.collector);
    st->status.name = c.name;
    states_.push_back(std::move(st));
  }
}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::adoptFrom(const Scheduler& previous) {
  for (auto& st : states_) {
    for (const auto& old : previous.states_) {
      if (old->name != st->name) continue;
      std::lock_guard<std::mutex> l1(old->mu);
      st->families = old->families;
      st->series = old->series;
      st->status = old->status;
      st->status.stale = st->status.ran;  // until this scheduler's first run
    }
  }
}

void Scheduler::setTickHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> l(hook_mu_);
  tick_hook_ = std::move(hook);
}
void Scheduler::setReadyHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> l(hook_mu_);
  ready_hook_ = std::move(hook);
}

void Scheduler::setPostProcessor(PostProcessor hook) {
  std::lock_guard<std::mutex> l(hook_mu_);
  post_processor_ = std::move(hook);
}

void Scheduler::launchRunners(bool oneshot) {
  {
    std::lock_guard<std::mutex> l(ctl_mu_);
    stopping_ = false;
  }
  life_ = std::make_shared<Life>();
  auto now = clock_.monotonic();
  for (auto& st : states_) {
    {
      std::lock_guard<std::mutex> l(st->mu);
      st->next_due = now;
      st->stopping = false;
      st->exited = false;
    }
    runners_.emplace_back([this, st, life = life_, oneshot] { runnerLoop(st, life, oneshot); });
  }
}

void Scheduler::start() {
  launchRunners(false);
  monitor_ = std::thread([this] { monitorLoop(false); });
}

void Scheduler::runOnce() {
  launchRunners(true);
  monitorLoop(true);  // returns when every collector finished or timed out
  stop();
}

void Scheduler::stop() {
  {
    std::lock_guard<std::mutex> l(ctl_mu_);
    stopping_ = true;
  }
  ctl_cv_.notify_all();
  for (auto& st : states_) {
    std::lock_guard<std::mutex> l(st->mu);
    st->stopping = true;
    st->cv.notify_all();
  }
  if (monitor_.joinable()) monitor_.join();
  joinAll();
}

void Scheduler::joinAll() {
  if (runners_.empty()) return;
  auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
  std::vector<bool> done(runners_.size(), false);
  for (std::size_t i = 0; i < states_.size() && i < runners_.size(); ++i) {
    auto& st = states_[i];
    std::unique_lock<std::mutex> l(st->mu);
    done[i] = st->cv.wait_until(l, deadline, [&] { return st->exited; });
  }
  {
    // From here on, a runner still inside collect() must not touch this scheduler.
    std::unique_lock<std::shared_mutex> l(life_->mu);
    life_->dead = true;
  }
  for (std::size_t i = 0; i < runners_.size(); ++i) {
    if (done[i]) {
      runners_[i].join();
    } else {
      log::warn(states_[i]->name, "collector still running at shutdown; abandoning its thread");
      runners_[i].detach();  // it owns its state and collector through shared_ptrs
    }
  }
  runners_.clear();
}

void Scheduler::runnerLoop(std::shared_ptr<State> st, std::shared_ptr<Life> life, bool oneshot) {
  nameThread("fs-c-" + st->name);
  for (;;) {
    {
      std::unique_lock<std::mutex> l(st->mu);
      // The wait uses the real steady clock; `clock_` decides due times only in tests that
      // drive runOnce(), where everything is due at once.
      while (!st->stopping && clock_.monotonic() < st->next_due) {
        auto wait = st->next_due - clock_.monotonic();
        st->cv.wait_for(
            l, std::min<std::chrono::steady_clock::duration>(wait, std::chrono::milliseconds(200)));
      }
      if (st->stopping) break;
    }
    if (!runCycle(*st, *life)) return;  // abandoned: the scheduler may be gone
    {
      std::shared_lock<std::shared_mutex> alive(life->mu);
      if (life->dead) return;
      publish();
    }
    if (oneshot) break;
  }
  std::lock_guard<std::mutex> l(st->mu);
  st->exited = true;
  st->cv.notify_all();
}

bool Scheduler::runCycle(State& st, Life& life) {
  std::chrono::steady_clock::time_point started;
  {
    std::shared_lock<std::shared_mutex> alive(life.mu);
    if (life.dead) return false;
    started = clock_.monotonic();
    std::lock_guard<std::mutex> l(st.mu);
    st.running = true;
    st.run_started = started;
    st.run_timed_out = false;
  }
  MetricSet out;
  Status result;
  try {
    result = st.collector->collect(out);
  } catch (const std::exception& e) {
    result = makeError(std::string("exception: ") + e.what());
  } catch (...) {
    result = makeError("unknown exception");
  }
  if (result.ok() && !out.conflicts().empty()) {
    result = makeError("metric type conflict: " + out.conflicts().front());
  }
  std::shared_lock<std::shared_mutex> alive(life.mu);
  if (life.dead) {
    std::lock_guard<std::mutex> l(st.mu);
    st.running = false;
    st.exited = true;
    return false;
  }
  auto ended = clock_.monotonic();
  double dur = std::chrono::duration<double>(ended - started).count();

  std::unique_lock<std::mutex> l(st.mu);
  st.running = false;
  bool was_timed_out = st.run_timed_out;
  bool overran = was_timed_out || (ended - started) > st.timeout;
  st.status.ran = true;
  st.status.duration_seconds = dur;
  std::string err;
  if (overran) {
    err = "deadline of " + formatDuration(st.timeout) + " exceeded (run took " + secs(dur) + ")";
    if (!was_timed_out) {
      st.status.timeouts_total++;
      st.status.failures_total++;
      st.consecutive_failures++;
    }
  } else if (!result.ok()) {
    err = result.error().message;
    st.status.failures_total++;
    st.consecutive_failures++;
  }
  auto wall = clock_.wallSeconds();
  if (err.empty()) {
    if (st.consecutive_failures > 0) {
      log::info(st.name, "collector recovered after " + std::to_string(st.consecutive_failures) +
                             " failed run(s)");
    }
    st.consecutive_failures = 0;
    st.families = out.take();
    st.series = 0;
    for (const auto& f : st.families) st.series += f.metric.size();
    st.status.success = true;
    st.status.stale = false;
    st.status.last_error.clear();
    st.status.last_success_timestamp = wall;
    st.next_due = started + st.interval;
  } else {
    st.status.success = false;
    st.status.stale = !st.families.empty();
    st.status.last_error = err;
    if (was_timed_out) {
      log::warn(st.name, "late run finished after " + secs(dur) + "; its result was discarded");
    } else if (shouldLogFailure(st.consecutive_failures)) {
      std::string msg = "collector failed: " + err;
      if (st.consecutive_failures > 1) {
        msg += " (" + std::to_string(st.consecutive_failures) +
               " consecutive failures; retrying with backoff)";
      }
      log::error(st.name, msg);
    }
    // Back off: interval, 2x, 4x ... capped at max(interval, max_backoff).
    double factor = std::pow(
        2.0, static_cast<double>(std::min<std::uint64_t>(st.consecutive_failures - 1, 16)));
    auto cap = std::max(st.interval, options_.max_backoff);
    auto wait = std::min<Duration>(
        Duration(static_cast<long long>(static_cast<double>(st.interval.count()) * factor)), cap);
    st.next_due = started + wait;
  }
  st.cv.notify_all();
  return true;
}

bool Scheduler::progressing(std::string* why) const {
  // Grace beyond the timeout: the runner wakes at least every 200 ms and the monitor ticks
  // every options_.tick, so anything later than this is a runner that no longer runs.
  const Duration grace = std::chrono::seconds(2) + 2 * options_.tick;
  auto now = clock_.monotonic();
  for (const auto& st : states_) {
    std::lock_guard<std::mutex> l(st->mu);
    if (st->running || st->stopping || st->exited) continue;
    if (now > st->next_due + st->timeout + grace) {
      if (why != nullptr) {
        double late = std::chrono::duration<double>(now - st->next_due).count();
        *why = "collector " + st->name + " is " + secs(late) + " overdue and has not started";
      }
      return false;
    }
  }
  return true;
}

void Scheduler::monitorLoop(bool oneshot) {
  if (!oneshot) nameThread("fs-monitor");
  for (;;) {
    bool changed = false;
    bool all_ran = true;
    auto now = clock_.monotonic();
    for (auto& st : states_) {
      std::lock_guard<std::mutex> l(st->mu);
      if (st->running && !st->run_timed_out && now - st->run_started > st->timeout) {
        st->run_timed_out = true;
        st->status.ran = true;
        st->status.success = false;
        st->status.stale = !st->families.empty();
        st->status.timeouts_total++;
        st->status.failures_total++;
        st->consecutive_failures++;
        st->status.duration_seconds = std::chrono::duration<double>(now - st->run_started).count();
        st->status.last_error = "deadline of " + formatDuration(st->timeout) + " exceeded";
        log::error(st->name, "collector run exceeded its deadline of " +
                                 formatDuration(st->timeout) +
                                 "; serving its last good data as stale");
        changed = true;
      }
      if (!st->status.ran) all_ran = false;
    }
    if (changed) publish();
    if (all_ran && !ready_.load()) {
      ready_ = true;
      publish();
    }
    {
      std::function<void()> hook;
      {
        std::lock_guard<std::mutex> l(hook_mu_);
        hook = tick_hook_;
      }
      if (hook && !oneshot) hook();
    }
    if (oneshot && all_ran) return;
    std::unique_lock<std::mutex> l(ctl_mu_);
    if (ctl_cv_.wait_for(l, options_.tick, [&] { return stopping_; })) return;
  }
}

void Scheduler::publish() {
  std::lock_guard<std::mutex> pl(publish_mu_);
  auto snap = std::make_shared<Snapshot>();
  MetricSet set;
  for (auto& st : states_) {
    std::lock_guard<std::mutex> l(st->mu);
    set.merge(st->families);
    snap->collectors.push_back(st->status);
    if (!st->status.ran) continue;
    Labels lab{{"collector", st->name}};
    set.gauge("foreshock_collector_success",
              "1 if the collector's last run succeeded within its deadline.", lab,
              st->status.success ? 1 : 0);
    set.gauge("foreshock_collector_duration_seconds", "Duration of the collector's last run.", lab,
              st->status.duration_seconds);
    set.gauge("foreshock_collector_last_success_timestamp_seconds",
              "Unix time of the collector's last successful run (0 if none).", lab,
              st->status.last_success_timestamp);
    set.gauge(
        "foreshock_collector_stale",
        "1 if the collector's series are kept from an earlier run because the last run failed.",
        lab, st->status.stale ? 1 : 0);
    set.gauge("foreshock_collector_series", "Series the collector's last good run produced.", lab,
              static_cast<double>(st->series));
    set.counter("foreshock_collector_failures_total",
                "Runs of the collector that returned an error, threw or overran.", lab,
                static_cast<double>(st->status.failures_total));
    set.counter("foreshock_collector_timeouts_total",
                "Runs of the collector that overran their deadline.", lab,
                static_cast<double>(st->status.timeouts_total));
  }
  const auto& b = buildInfo();
  set.info("foreshock_build_info", "Build information of the foreshock agent.",
           {{"version", b.version}, {"revision", b.revision}, {"compiler", b.compiler}});
  snap->families = set.take();
  snap->timestamp = clock_.wallSeconds();
  snap->generation = ++generation_;
  PostProcessor post;
  {
    std::lock_guard<std::mutex> l(hook_mu_);
    post = post_processor_;
  }
  if (post) {
    try {
      auto extra = post(*snap);
      if (!extra.empty()) {
        MetricSet merged;
        merged.merge(snap->families);
        merged.merge(extra);
        snap->families = merged.take();
      }
    } catch (const std::exception& e) {
      log::error("agent", std::string("snapshot post-processor failed: ") + e.what());
    }
  }
  store_->store(snap);

  std::function<void()> rhook;
  {
    std::lock_guard<std::mutex> l(hook_mu_);
    if (ready_.load() && !ready_fired_.exchange(true)) rhook = ready_hook_;
  }
  if (rhook) rhook();
}

}  // namespace foreshock
