#include "agent/scheduler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "core/log.h"
#include "tests/unit/log_capture.h"

namespace foreshock {
namespace {

using namespace std::chrono_literals;

class GoodCollector : public Collector {
 public:
  Status collect(MetricSet& out) override {
    out.gauge("test_good_value", "v", {}, ++runs_);
    return Status::Ok();
  }
  std::atomic<int> runs_{0};
};

class ThrowingCollector : public Collector {
 public:
  Status collect(MetricSet&) override { throw std::runtime_error("boom"); }
};

class ErrorCollector : public Collector {
 public:
  Status collect(MetricSet&) override { return makeError("device /dev/sdz vanished"); }
};

// Hangs until released (or 10 s), like a read from a dead disk.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void release() {
    std::lock_guard<std::mutex> l(mu);
    open = true;
    cv.notify_all();
  }
};
class HangingCollector : public Collector {
 public:
  explicit HangingCollector(std::shared_ptr<Gate> g) : gate_(std::move(g)) {}
  Status collect(MetricSet& out) override {
    out.gauge("test_hang_value", "v", {}, 1);
    std::unique_lock<std::mutex> l(gate_->mu);
    gate_->cv.wait_for(l, 10s, [&] { return gate_->open; });
    return Status::Ok();
  }
  std::shared_ptr<Gate> gate_;
};

// Blocks in a real read(2) on a pipe nobody writes to, like a read of a FIFO or of a hung NFS
// file: no condition variable to wake it, only the writer closing the pipe ends it.
class BlockedInReadCollector : public Collector {
 public:
  explicit BlockedInReadCollector(int fd) : fd_(fd) {}
  Status collect(MetricSet&) override {
    char c;
    entered_ = true;
    (void)::read(fd_, &c, 1);
    return Status::Ok();
  }
  int fd_;
  std::atomic<bool> entered_{false};
};

// Succeeds on the first run, then fails: its first data must stay, marked stale.
class FlakyCollector : public Collector {
 public:
  Status collect(MetricSet& out) override {
    if (runs_++ == 0) {
      out.gauge("test_flaky_value", "v", {}, 42);
      return Status::Ok();
    }
    return makeError("second run fails");
  }
  int runs_ = 0;
};

ScheduledCollector sc(std::string name, std::unique_ptr<Collector> c, Duration timeout = 2s) {
  ScheduledCollector s;
  s.name = std::move(name);
  s.interval = 100ms;
  s.timeout = timeout;
  s.collector = std::move(c);
  return s;
}

double valueOf(const Snapshot& snap, const std::string& name, const Labels& labels = {}) {
  const auto* f = findFamily(snap.families, name);
  if (f == nullptr) return -1;
  for (const auto& m : f->metric)
    if (labelsMatch(m, labels)) return sampleValue(*f, m);
  return -1;
}

// The scheduler's collector list (its entries own move-only collectors, so no braced list).
template <class... C>
std::vector<ScheduledCollector> collectorList(C&&... c) {
  std::vector<ScheduledCollector> v;
  (v.push_back(std::forward<C>(c)), ...);
  return v;
}

// The scheduler runs collectors on its own threads: polls `done` every 10 ms for up to 5 s.
// The assertions after the wait say what was expected, so a timeout fails there.
void waitUntil(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline && !done()) {
    std::this_thread::sleep_for(10ms);
  }
}

double failures(const SnapshotStore& store, const std::string& collector) {
  return valueOf(*store.load(), "foreshock_collector_failures_total", {{"collector", collector}});
}

class SchedulerTest : public ::testing::Test {
 protected:
  int linesContaining(std::string_view needle) const {
    int n = 0;
    for (const auto& l : log_.lines()) {
      if (l.find(needle) != std::string::npos) ++n;
    }
    return n;
  }
  test::LogCapture log_;
};

TEST_F(SchedulerTest, ContainsThrowingErroringAndHangingCollectorsAndServesTheRest) {
  auto gate = std::make_shared<Gate>();
  auto cs = collectorList(sc("good", std::make_unique<GoodCollector>()),
                          sc("thrower", std::make_unique<ThrowingCollector>()),
                          sc("erring", std::make_unique<ErrorCollector>()),
                          sc("hanger", std::make_unique<HangingCollector>(gate), 300ms));
  SnapshotStore store;
  Scheduler s(std::move(cs), &store);
  s.runOnce();
  auto snap = store.load();
  EXPECT_EQ(valueOf(*snap, "foreshock_collector_success", {{"collector", "good"}}), 1);
  EXPECT_EQ(valueOf(*snap, "foreshock_collector_success", {{"collector", "thrower"}}), 0);
  EXPECT_EQ(valueOf(*snap, "foreshock_collector_success", {{"collector", "erring"}}), 0);
  EXPECT_EQ(valueOf(*snap, "foreshock_collector_success", {{"collector", "hanger"}}), 0);
  EXPECT_EQ(valueOf(*snap, "foreshock_collector_timeouts_total", {{"collector", "hanger"}}), 1);
  EXPECT_EQ(valueOf(*snap, "test_good_value"), 1);
  // The hanging run's partial output is never served.
  EXPECT_EQ(findFamily(snap->families, "test_hang_value"), nullptr);
  EXPECT_EQ(snap->collector("thrower")->last_error, "exception: boom");
  EXPECT_EQ(snap->collector("erring")->last_error, "device /dev/sdz vanished");
  EXPECT_EQ(snap->collector("hanger")->last_error, "deadline of 300ms exceeded");
  EXPECT_TRUE(s.ready());
  gate->release();
}

TEST_F(SchedulerTest, KeepsLastGoodDataAsStaleWhenARunFails) {
  auto cs = collectorList(sc("flaky", std::make_unique<FlakyCollector>()));
  SnapshotStore store;
  Scheduler s(std::move(cs), &store);
  s.start();
  // First run succeeds immediately, the second (100 ms later) fails.
  waitUntil([&] { return failures(store, "flaky") >= 1; });
  s.stop();
  auto snap = store.load();
  EXPECT_EQ(valueOf(*snap, "foreshock_collector_success", {{"collector", "flaky"}}), 0);
  EXPECT_EQ(valueOf(*snap, "foreshock_collector_stale", {{"collector", "flaky"}}), 1);
  EXPECT_EQ(valueOf(*snap, "test_flaky_value"), 42);
  EXPECT_GT(valueOf(*snap, "foreshock_collector_last_success_timestamp_seconds",
                    {{"collector", "flaky"}}),
            0);
}

TEST_F(SchedulerTest, AHungCollectorDoesNotStopOthersFromRunning) {
  auto gate = std::make_shared<Gate>();
  auto good = std::make_unique<GoodCollector>();
  GoodCollector* g = good.get();
  auto cs = collectorList(sc("good", std::move(good)),
                          sc("hanger", std::make_unique<HangingCollector>(gate), 200ms));
  SnapshotStore store;
  Scheduler s(std::move(cs), &store);
  s.start();
  waitUntil([&] { return g->runs_ >= 5; });
  EXPECT_GE(g->runs_, 5);
  EXPECT_EQ(valueOf(*store.load(), "foreshock_collector_success", {{"collector", "hanger"}}), 0);
  // stop() returns promptly even though one collector is stuck in a call.
  auto t0 = std::chrono::steady_clock::now();
  s.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  gate->release();
}

TEST_F(SchedulerTest, LogsRepeatedFailuresRateLimited) {
  auto cs = collectorList(sc("erring", std::make_unique<ErrorCollector>()));
  SnapshotStore store;
  SchedulerOptions opts;
  opts.max_backoff = 100ms;  // retry at the interval so the test sees many failures
  Scheduler s(std::move(cs), &store, SystemClock::instance(), opts);
  s.start();
  waitUntil([&] { return failures(store, "erring") >= 9; });
  s.stop();
  const int logged = linesContaining("collector failed");
  // 9+ failures produce log lines only at the 1st, 2nd, 4th and 8th.
  EXPECT_GE(logged, 3);
  EXPECT_LE(logged, 5);
}

// Fails twice, then succeeds.
class RecoveringCollector : public Collector {
 public:
  Status collect(MetricSet& out) override {
    if (++runs_ <= 2) return makeError("not yet");
    out.gauge("test_recovered", "v", {}, 1);
    return Status::Ok();
  }
  std::atomic<int> runs_{0};
};

TEST_F(SchedulerTest, LogsRecoveryOnce) {
  auto c = std::make_unique<RecoveringCollector>();
  RecoveringCollector* rc = c.get();
  auto cs = collectorList(sc("recovering", std::move(c)));
  SnapshotStore store;
  SchedulerOptions opts;
  opts.max_backoff = 100ms;
  Scheduler s(std::move(cs), &store, SystemClock::instance(), opts);
  s.start();
  waitUntil([&] { return rc->runs_ >= 5; });
  s.stop();
  const int recovered = linesContaining("collector recovered after 2 failed run(s)");
  EXPECT_EQ(recovered, 1);
  EXPECT_EQ(valueOf(*store.load(), "foreshock_collector_success", {{"collector", "recovering"}}),
            1);
}

TEST_F(SchedulerTest, ExportsBuildInfo) {
  auto cs = collectorList(sc("good", std::make_unique<GoodCollector>()));
  SnapshotStore store;
  Scheduler s(std::move(cs), &store);
  s.runOnce();
  EXPECT_EQ(valueOf(*store.load(), "foreshock_build_info", {{"version", buildInfo().version}}), 1);
}

TEST_F(SchedulerTest, AdoptedDataSurvivesAReloadUntilTheNewRun) {
  SnapshotStore store;
  auto first = collectorList(sc("flaky", std::make_unique<FlakyCollector>()));
  Scheduler a(std::move(first), &store);
  a.runOnce();
  auto second = collectorList(sc("flaky", std::make_unique<ErrorCollector>()));
  Scheduler b(std::move(second), &store);
  b.adoptFrom(a);
  b.runOnce();
  EXPECT_EQ(valueOf(*store.load(), "test_flaky_value"), 42);
  EXPECT_EQ(valueOf(*store.load(), "foreshock_collector_stale", {{"collector", "flaky"}}), 1);
}

TEST_F(SchedulerTest, StopReturnsWithinASecondWhileACollectorIsBlockedInARead) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto blocked = std::make_unique<BlockedInReadCollector>(fds[0]);
  auto* b = blocked.get();
  auto cs = collectorList(sc("reader", std::move(blocked), 200ms),
                          sc("good", std::make_unique<GoodCollector>()));
  SnapshotStore store;
  Scheduler s(std::move(cs), &store);
  s.start();
  waitUntil([&] { return b->entered_.load(); });
  ASSERT_TRUE(b->entered_);
  std::this_thread::sleep_for(300ms);  // past its deadline: contained, still blocked
  auto t0 = std::chrono::steady_clock::now();
  s.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_GE(linesContaining("collector still running at shutdown; abandoning its thread"), 1);
  ::close(fds[1]);  // the read returns 0; the abandoned thread finishes on its own
  std::this_thread::sleep_for(100ms);
  ::close(fds[0]);
}

}  // namespace
}  // namespace foreshock
