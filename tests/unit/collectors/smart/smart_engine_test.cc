// The smart collector's logic on a fake DeviceSource: the standby rule, forced reads,
// failures with reasons, gone disks, swapped disks and hung reads.
#include "collectors/smart/smart_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "tests/unit/log_capture.h"

namespace foreshock::smart {
namespace {

// A fake that records every command a disk was sent.
class FakeSource : public DeviceSource {
 public:
  struct Disk {
    PowerState power = PowerState::kActive;
    ReadOutcome outcome;
    std::optional<bool> runtime_suspended;
    std::string serial;
  };

  std::vector<DiskIdentity> discover() override {
    std::lock_guard<std::mutex> l(mu);
    std::vector<DiskIdentity> out;
    for (const auto& [name, d] : disks) {
      DiskIdentity id;
      id.device = name;
      id.serial = d.serial;
      id.model = "FAKE MODEL";
      id.runtime_suspended = d.runtime_suspended;
      id.backend = Backend::kAta;
      out.push_back(id);
    }
    return out;
  }
  PowerState checkPower(const DiskIdentity& id) override {
    std::lock_guard<std::mutex> l(mu);
    ++power_checks[id.device];
    return disks[id.device].power;
  }
  ReadOutcome readSmart(const DiskIdentity& id, PowerCheckMode mode) override {
    std::unique_lock<std::mutex> l(mu);
    ++reads[id.device];
    modes[id.device] = mode;
    ++running;
    max_running = std::max(max_running, running);
    if (id.device == hang_device) {
      cv.wait(l, [&] { return released; });
    }
    --running;
    return disks[id.device].outcome;
  }

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Disk> disks;
  std::map<std::string, int> power_checks, reads;
  std::map<std::string, PowerCheckMode> modes;
  int running = 0, max_running = 0;
  std::string hang_device;
  bool released = false;
};

ReadOutcome goodReading(const std::string& serial, double temp) {
  ReadOutcome o;
  o.kind = ReadOutcome::Kind::kReading;
  o.reading.serial = serial;
  o.reading.model = "FAKE MODEL";
  o.reading.protocol = "ata";
  o.reading.healthy = true;
  o.reading.temperature_celsius = temp;
  AtaAttribute a;
  a.id = 197;
  a.name = "current-pending-sector";
  a.raw = 3;
  o.reading.attributes.push_back(a);
  deriveAtaCounters(o.reading);
  return o;
}

struct Collected {
  std::vector<prometheus::MetricFamily> fams;
  // value of `name` whose labels include `labels`; nullopt if absent.
  std::optional<double> value(const std::string& name, const Labels& labels) const {
    const auto* f = findFamily(fams, name);
    if (f == nullptr) return std::nullopt;
    for (const auto& m : f->metric) {
      if (labelsMatch(m, labels)) return sampleValue(*f, m);
    }
    return std::nullopt;
  }
  std::string label(const std::string& name, const Labels& labels, const std::string& key) const {
    const auto* f = findFamily(fams, name);
    if (f == nullptr) return "<absent>";
    for (const auto& m : f->metric) {
      if (labelsMatch(m, labels)) return labelValue(m, key);
    }
    return "<absent>";
  }
};

Collected run(SmartEngine& e) {
  MetricSet out;
  e.collect(out);
  EXPECT_TRUE(out.conflicts().empty());
  return Collected{out.take()};
}

class SmartEngineTest : public ::testing::Test {
 protected:
  std::vector<std::string> lines() const { return log_.lines(); }

  test::LogCapture log_;
  std::shared_ptr<FakeSource> source_ = std::make_shared<FakeSource>();
  FakeClock clock_;
};

TEST_F(SmartEngineTest, DiskReportedAsleepIsNeverSentASmartRead) {
  source_->disks["sda"] = {PowerState::kActive, goodReading("A1", 30), {}, "A1"};
  source_->disks["sdb"] = {PowerState::kStandby, goodReading("B1", 40), {}, "B1"};
  SmartEngine e(source_, EngineOptions{}, clock_);
  for (int i = 0; i < 5; ++i) {
    auto c = run(e);
    EXPECT_EQ(c.value("foreshock_disk_power_state", {{"device", "sdb"}, {"state", "standby"}}), 1);
    EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sdb"}}), 1);
    EXPECT_EQ(c.value("foreshock_disk_standby_skips_total", {{"device", "sdb"}}), i + 1);
  }
  EXPECT_EQ(source_->reads["sdb"], 0);
  EXPECT_EQ(source_->power_checks["sdb"], 5);
  EXPECT_EQ(source_->reads["sda"], 5);
}

TEST_F(SmartEngineTest, ScsiCountersIncludingNonMediumErrorsAreExported) {
  ReadOutcome o;
  o.kind = ReadOutcome::Kind::kReading;
  o.reading.serial = "S1";
  o.reading.protocol = "scsi";
  ScsiHealth h;
  h.grown_defects = 2;
  h.non_medium_errors = 17;
  o.reading.scsi = h;
  source_->disks["sdc"] = {PowerState::kActive, o, {}, "S1"};
  SmartEngine e(source_, EngineOptions{}, clock_);
  auto c = run(e);
  EXPECT_EQ(c.value("foreshock_disk_scsi_grown_defects", {{"device", "sdc"}}), 2);
  EXPECT_EQ(c.value("foreshock_disk_scsi_non_medium_errors_total", {{"device", "sdc"}}), 17);

  // A drive without the Non-Medium Error page gets no series, not a 0.
  source_->disks["sdc"].outcome.reading.scsi->non_medium_errors.reset();
  c = run(e);
  EXPECT_FALSE(c.value("foreshock_disk_scsi_non_medium_errors_total", {{"device", "sdc"}}));
}

TEST_F(SmartEngineTest, SleepingDiskKeepsItsLastValuesWithTheirReadTimestamp) {
  source_->disks["sda"] = {PowerState::kActive, goodReading("A1", 31), {}, "A1"};
  SmartEngine e(source_, EngineOptions{}, clock_);
  const double first = clock_.wallSeconds();
  run(e);
  source_->disks["sda"].power = PowerState::kStandby;
  clock_.advance(std::chrono::minutes(5));
  auto c = run(e);
  EXPECT_EQ(source_->reads["sda"], 1);
  EXPECT_EQ(c.value("foreshock_disk_temperature_celsius", {{"device", "sda"}}), 31);
  EXPECT_EQ(c.value("foreshock_disk_pending_sectors", {{"device", "sda"}}), 3);
  EXPECT_EQ(c.value("foreshock_disk_last_read_timestamp_seconds", {{"device", "sda"}}), first);
  EXPECT_EQ(c.value("foreshock_disk_last_seen_timestamp_seconds", {{"device", "sda"}}),
            clock_.wallSeconds());
}

TEST_F(SmartEngineTest, SleepModeStillReadsAStandbyDiskButNotASleepingOne) {
  source_->disks["sda"] = {PowerState::kStandby, goodReading("A1", 30), {}, "A1"};
  source_->disks["sdb"] = {PowerState::kSleep, goodReading("B1", 30), {}, "B1"};
  EngineOptions o;
  o.power_check = PowerCheckMode::kSleep;
  SmartEngine e(source_, o, clock_);
  run(e);
  EXPECT_EQ(source_->reads["sda"], 1);
  EXPECT_EQ(source_->modes["sda"], PowerCheckMode::kSleep);
  EXPECT_EQ(source_->reads["sdb"], 0);
}

TEST_F(SmartEngineTest, NeverModeReadsWithoutCheckingPower) {
  source_->disks["sda"] = {PowerState::kSleep, goodReading("A1", 30), {}, "A1"};
  EngineOptions o;
  o.power_check = PowerCheckMode::kNever;
  SmartEngine e(source_, o, clock_);
  run(e);
  EXPECT_EQ(source_->power_checks["sda"], 0);
  EXPECT_EQ(source_->reads["sda"], 1);
}

TEST_F(SmartEngineTest, ForcesAReadAfterMaxSkipsLikeSmartdStandbyN) {
  source_->disks["sda"] = {PowerState::kStandby, goodReading("A1", 30), {}, "A1"};
  EngineOptions o;
  o.max_skips = 2;
  SmartEngine e(source_, o, clock_);
  run(e);
  run(e);
  EXPECT_EQ(source_->reads["sda"], 0);
  auto c = run(e);  // third cycle: two skips reached, read even though asleep
  EXPECT_EQ(source_->reads["sda"], 1);
  EXPECT_EQ(source_->modes["sda"], PowerCheckMode::kNever);
  EXPECT_EQ(c.value("foreshock_disk_temperature_celsius", {{"device", "sda"}}), 30);
  run(e);  // the counter starts again
  EXPECT_EQ(source_->reads["sda"], 1);
}

TEST_F(SmartEngineTest, RuntimeSuspendedDiskIsNotEvenSentCheckPowerMode) {
  source_->disks["sda"] = {PowerState::kActive, goodReading("A1", 30), true, "A1"};
  SmartEngine e(source_, EngineOptions{}, clock_);
  auto c = run(e);
  EXPECT_EQ(source_->power_checks["sda"], 0);
  EXPECT_EQ(source_->reads["sda"], 0);
  EXPECT_EQ(c.value("foreshock_disk_power_state", {{"device", "sda"}, {"state", "sleep"}}), 1);
}

TEST_F(SmartEngineTest, MissingCapabilityGivesAReasonLabelAndOneLogLine) {
  ReadOutcome denied;
  denied.kind = ReadOutcome::Kind::kFailed;
  denied.reason = "permission_denied";
  denied.missing_capability = "CAP_SYS_RAWIO";
  denied.message = "libatasmart cannot open /dev/sda: Permission denied";
  source_->disks["sda"] = {PowerState::kUnknown, denied, {}, "A1"};
  source_->disks["sdb"] = {PowerState::kActive, goodReading("B1", 30), {}, "B1"};
  SmartEngine e(source_, EngineOptions{}, clock_);
  Collected c;
  for (int i = 0; i < 3; ++i) c = run(e);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sda"}, {"reason", "permission_denied"}}), 0);
  EXPECT_EQ(c.label("foreshock_disk_up", {{"device", "sda"}}, "serial"), "A1");
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sdb"}}), 1);
  EXPECT_EQ(c.value("foreshock_disk_read_failures_total", {{"device", "sda"}}), 3);
  int mentions = 0;
  for (const auto& l : lines()) {
    if (l.find("sda") != std::string::npos && l.find("CAP_SYS_RAWIO") != std::string::npos) {
      ++mentions;
    }
  }
  EXPECT_EQ(mentions, 1);
}

TEST_F(SmartEngineTest, DiskThatVanishesIsReportedGoneNotDropped) {
  source_->disks["sda"] = {PowerState::kActive, goodReading("A1", 30), {}, "A1"};
  source_->disks["sdb"] = {PowerState::kActive, goodReading("B1", 30), {}, "B1"};
  EngineOptions o;
  o.gone_retention = std::chrono::hours(1);
  SmartEngine e(source_, o, clock_);
  run(e);
  const double seen = clock_.wallSeconds();
  source_->disks.erase("sdb");
  clock_.advance(std::chrono::minutes(5));
  auto c = run(e);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sdb"}, {"serial", "B1"}, {"reason", "gone"}}),
            0);
  EXPECT_EQ(c.value("foreshock_disk_last_seen_timestamp_seconds", {{"device", "sdb"}}), seen);
  EXPECT_EQ(c.value("foreshock_disk_temperature_celsius", {{"device", "sdb"}}), std::nullopt);
  clock_.advance(std::chrono::hours(2));
  c = run(e);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sdb"}}), std::nullopt);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sda"}}), 1);
}

TEST_F(SmartEngineTest, SwappedDiskUnderTheSameNameStartsWithoutOldValues) {
  source_->disks["sda"] = {PowerState::kActive, goodReading("A1", 30), {}, "A1"};
  SmartEngine e(source_, EngineOptions{}, clock_);
  run(e);
  ReadOutcome denied;
  denied.kind = ReadOutcome::Kind::kFailed;
  denied.reason = "read_failed";
  source_->disks["sda"] = {PowerState::kActive, denied, {}, "Z9"};
  auto c = run(e);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sda"}, {"serial", "Z9"}}), 0);
  EXPECT_EQ(c.value("foreshock_disk_temperature_celsius", {{"device", "sda"}}), std::nullopt);
}

TEST_F(SmartEngineTest, IncludeAndExcludeFilterWholeDeviceNames) {
  source_->disks["sda"] = {PowerState::kActive, goodReading("A1", 30), {}, "A1"};
  source_->disks["sdb"] = {PowerState::kActive, goodReading("B1", 30), {}, "B1"};
  source_->disks["sdb1x"] = {PowerState::kActive, goodReading("B2", 30), {}, "B2"};
  source_->disks["nvme0n1"] = {PowerState::kActive, goodReading("N1", 30), {}, "N1"};
  EngineOptions o;
  o.include = "sd.*";
  o.exclude = "sdb";  // the whole name: sdb only, not sdb1x
  SmartEngine e(source_, o, clock_);
  auto c = run(e);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sda"}}), 1);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sdb"}}), std::nullopt);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sdb1x"}}), 1);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "nvme0n1"}}), std::nullopt);
}

TEST_F(SmartEngineTest, APatternMatchingOnlyPartOfTheNameSelectsNothing) {
  source_->disks["sda"] = {PowerState::kActive, goodReading("A1", 30), {}, "A1"};
  EngineOptions o;
  o.include = "sd";  // a substring is not the whole name
  SmartEngine e(source_, o, clock_);
  auto c = run(e);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sda"}}), std::nullopt);
}

TEST_F(SmartEngineTest, ParallelReadsStayWithinTheBound) {
  for (int i = 0; i < 8; ++i) {
    std::string n = "sd" + std::string(1, static_cast<char>('a' + i));
    source_->disks[n] = {PowerState::kActive, goodReading(n, 30), {}, n};
  }
  EngineOptions o;
  o.parallel = 2;
  SmartEngine e(source_, o, clock_);
  auto c = run(e);
  EXPECT_LE(source_->max_running, 2);
  for (const auto& [n, d] : source_->disks) EXPECT_EQ(source_->reads[n], 1) << n;
}

// Not a timing test: the hung read blocks until the test releases it, and the assertions are
// about which disks were reported, not how long anything took.
TEST_F(SmartEngineTest, HungDiskDoesNotHoldBackTheOthers) {
  source_->disks["sda"] = {PowerState::kActive, goodReading("A1", 30), {}, "A1"};
  source_->disks["sdb"] = {PowerState::kActive, goodReading("B1", 41), {}, "B1"};
  source_->disks["sdc"] = {PowerState::kActive, goodReading("C1", 30), {}, "C1"};
  source_->hang_device = "sdb";
  EngineOptions o;
  o.parallel = 2;
  o.read_timeout = std::chrono::milliseconds(300);
  SmartEngine e(source_, o, clock_);
  auto c = run(e);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sda"}}), 1);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sdc"}}), 1);
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sdb"}, {"reason", "timeout"}}), 0);
  c = run(e);  // still hung: not read again
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sdb"}, {"reason", "read_hung"}}), 0);
  {
    std::lock_guard<std::mutex> l(source_->mu);
    EXPECT_EQ(source_->reads["sdb"], 1);
    source_->released = true;
  }
  source_->cv.notify_all();
  // The released read returns and the engine files its result on its own worker thread; until
  // then a cycle still sees the read in flight. Poll (bounded) instead of guessing a delay.
  for (int i = 0; i < 500; ++i) {
    c = run(e);
    if (c.value("foreshock_disk_up", {{"device", "sdb"}}) == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(c.value("foreshock_disk_up", {{"device", "sdb"}}), 1);
  EXPECT_EQ(c.value("foreshock_disk_temperature_celsius", {{"device", "sdb"}}), 41);
}

TEST(PowerCheckRule, SkipsOnlyAsDeepAsConfigured) {
  EXPECT_FALSE(mustSkip(PowerCheckMode::kNever, PowerState::kSleep));
  EXPECT_TRUE(mustSkip(PowerCheckMode::kSleep, PowerState::kSleep));
  EXPECT_FALSE(mustSkip(PowerCheckMode::kSleep, PowerState::kStandby));
  EXPECT_TRUE(mustSkip(PowerCheckMode::kStandby, PowerState::kStandby));
  EXPECT_FALSE(mustSkip(PowerCheckMode::kStandby, PowerState::kIdle));
  EXPECT_FALSE(mustSkip(PowerCheckMode::kStandby, PowerState::kUnknown));
}

}  // namespace
}  // namespace foreshock::smart
