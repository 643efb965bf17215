#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/file_util.h"
#include "health/engine.h"
#include "health/history.h"
#include "health/service.h"

namespace foreshock {
namespace {

constexpr double kT0 = 1'700'000'000;
constexpr double kDay = 86400;

std::filesystem::path tempDir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("foreshock-health-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

TEST(HistoryStore, RestartKeepsHistory) {
  auto dir = tempDir("restart");
  HistoryStore before;
  for (int i = 0; i < 10; ++i)
    before.record("disk", "Z30A", "smart_197_raw", SeriesKind::kCount, kT0 + i * kDay,
                  i < 5 ? 0 : 8);
  before.touch("disk", "Z30A", kT0 + 9 * kDay, {{"device", "sda"}});
  ASSERT_TRUE(before.save(dir / "history.bin"));

  HistoryStore after;
  auto outcome = after.load(dir / "history.bin");
  EXPECT_TRUE(outcome.loaded);
  const auto* s = after.series("disk", "Z30A", "smart_197_raw");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->size(), 10u);
  EXPECT_EQ(s->increase(kT0 + 9 * kDay, 7 * kDay), 8);
  EXPECT_EQ(after.find("disk", "Z30A")->attrs.at("device"), "sda");
  std::filesystem::remove_all(dir);
}

TEST(HistoryStore, MissingFileIsAFreshStartNotAnError) {
  auto dir = tempDir("missing");
  HistoryStore h;
  auto outcome = h.load(dir / "history.bin");
  EXPECT_TRUE(outcome.missing);
  EXPECT_TRUE(outcome.error.empty());
  std::filesystem::remove_all(dir);
}

TEST(HistoryStore, CorruptFileIsReportedMovedAsideAndReplaced) {
  auto dir = tempDir("corrupt");
  HistoryStore good;
  good.record("disk", "Z30A", "smart_5_raw", SeriesKind::kCount, kT0, 1);
  std::string bytes = good.serialize();
  bytes[bytes.size() / 2] ^= 0x5a;  // one flipped byte in the payload
  { std::ofstream(dir / "history.bin", std::ios::binary) << bytes; }

  HistoryStore h;
  auto outcome = h.load(dir / "history.bin");
  EXPECT_FALSE(outcome.loaded);
  EXPECT_NE(outcome.error.find("checksum"), std::string::npos) << outcome.error;
  EXPECT_NE(outcome.error.find("history.bin"), std::string::npos) << outcome.error;
  EXPECT_FALSE(std::filesystem::exists(dir / "history.bin"));
  ASSERT_FALSE(outcome.moved_aside_to.empty());
  EXPECT_TRUE(std::filesystem::exists(outcome.moved_aside_to));
  EXPECT_EQ(h.entityCount(), 0u);
  // The store keeps working and a new file replaces the bad one.
  h.record("disk", "Z30A", "smart_5_raw", SeriesKind::kCount, kT0, 2);
  ASSERT_TRUE(h.save(dir / "history.bin"));
  HistoryStore again;
  EXPECT_TRUE(again.load(dir / "history.bin").loaded);
  std::filesystem::remove_all(dir);
}

TEST(HistoryStore, TruncatedFileIsRejectedWithItsLength) {
  HistoryStore good;
  good.record("interface", "eth0/52:54:00:12:34:56", "physical_errors_total", SeriesKind::kCounter,
              kT0, 3);
  std::string bytes = good.serialize();
  auto parsed = HistoryStore::parse(std::string_view(bytes).substr(0, bytes.size() - 7));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("truncated"), std::string::npos) << parsed.error().message;
  EXPECT_FALSE(HistoryStore::parse("").ok());
  EXPECT_FALSE(HistoryStore::parse("not a history file at all, longer than a header").ok());
}

TEST(HistoryStore, CounterResetIsNotAHugeDelta) {
  HistorySeries s;
  s.kind = SeriesKind::kCounter;
  HistoryLimits lim;
  s.add(kT0, 1'000'000, lim);
  s.add(kT0 + 60, 1'000'010, lim);
  s.add(kT0 + 120, 5, lim);  // driver reload: counter restarted from zero
  s.add(kT0 + 180, 7, lim);
  EXPECT_EQ(s.increase(kT0 + 180, 3600), 10 + 5 + 2);
  EXPECT_EQ(s.resets(kT0 + 180, 3600), 1);
}

TEST(HistoryStore, FallingSmartCountIsNeverAnIncrease) {
  HistorySeries s;
  s.kind = SeriesKind::kCount;
  HistoryLimits lim;
  s.add(kT0, 16, lim);
  s.add(kT0 + kDay, 0, lim);  // pending sectors remapped
  EXPECT_EQ(s.increase(kT0 + kDay, 7 * kDay), 0);
}

TEST(HistoryStore, DiskSwappedUnderTheSameDeviceNameStartsAFreshHistory) {
  HistoryStore h;
  DiskObservation old_disk;
  old_disk.device = "sda";
  old_disk.serial = "OLD1";
  old_disk.attributes = {{197, "Current_Pending_Sector", 40, {}, {}, {}, false}};
  EXPECT_FALSE(recordDisk(h, old_disk, kT0).has_value());
  DiskObservation new_disk = old_disk;
  new_disk.serial = "NEW2";
  new_disk.attributes[0].raw = 0;
  auto prev = recordDisk(h, new_disk, kT0 + 3600);
  ASSERT_TRUE(prev.has_value());
  EXPECT_EQ(*prev, old_disk.historyId());
  EXPECT_EQ(historySerial(*prev), "OLD1");
  // The new disk's history holds only its own point: no jump from 40 to 0 or back.
  EXPECT_EQ(h.series("disk", new_disk.historyId(), "smart_197_raw")->size(), 1u);
  EXPECT_EQ(h.series("disk", old_disk.historyId(), "smart_197_raw")->size(), 1u);
  new_disk.attributes[0].raw = 0;
  recordDisk(h, new_disk, kT0 + 7200);
  EXPECT_EQ(h.series("disk", new_disk.historyId(), "smart_197_raw")->increase(kT0 + 7200, 7 * kDay),
            0);
}

TEST(HistoryStore, EngineReportsTheSwapAsANotice) {
  HealthEngine engine;
  Observations a;
  a.time = kT0;
  DiskObservation d;
  d.device = "sdb";
  d.serial = "AAA";
  d.smart_healthy = true;
  a.disks = {d};
  engine.process(a);
  Observations b = a;
  b.time = kT0 + 60;
  b.disks[0].serial = "BBB";
  auto r = engine.process(b);
  bool noticed = false;
  for (const auto& f : r.findings)
    if (f.check == "device_replaced" && f.summary.find("AAA") != std::string::npos) noticed = true;
  EXPECT_TRUE(noticed);
}

TEST(HistoryStore, OldPointsAreFoldedToDailyAndDroppedAfterRetention) {
  HistoryLimits lim;
  lim.recent_points = 100;
  lim.recent_seconds = 2 * kDay;
  lim.retention_seconds = 90 * kDay;
  HistoryStore h(lim);
  // 120 days at one point per hour.
  for (int i = 0; i < 120 * 24; ++i)
    h.record("sensor", "coretemp/Core 0", "temperature_celsius", SeriesKind::kGauge,
             kT0 + i * 3600.0, 40 + i % 24);
  double now = kT0 + (120 * 24 - 1) * 3600.0;
  h.prune(now);
  const auto* s = h.series("sensor", "coretemp/Core 0", "temperature_celsius");
  ASSERT_NE(s, nullptr);
  EXPECT_LE(s->recent.size(), 100u);
  EXPECT_LE(s->daily.size(), 91u);
  EXPECT_GE(s->daily.size(), 85u);
  EXPECT_GE(s->daily.front().t, now - 90 * kDay);
  // A daily point of a gauge keeps the day's maximum.
  EXPECT_EQ(s->daily[s->daily.size() / 2].v, 63);
}

TEST(HistoryStore, EntityCapDropsTheLeastRecentlySeen) {
  HistoryLimits lim;
  lim.max_entities = 3;
  HistoryStore h(lim);
  for (int i = 0; i < 5; ++i)
    h.record("probe", "t" + std::to_string(i), "up", SeriesKind::kGauge, kT0 + i, 1);
  h.prune(kT0 + 10);
  EXPECT_EQ(h.entityCount(), 3u);
  EXPECT_EQ(h.find("probe", "t0"), nullptr);
  EXPECT_NE(h.find("probe", "t4"), nullptr);
}

bool threadNamed(const std::string& name) {
  for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(t.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c == name) return true;
  }
  return false;
}

TEST(HealthService, ATimedSaveRunsOnItsOwnThreadNotInsideOnSnapshot) {
  auto dir = tempDir("saver");
  auto file = dir / "history.bin";
  {
    HealthService service(HealthOptions{}, file, 1.0);
    service.start();
    for (int i = 0; i < 100 && !threadNamed("fs-history"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // it names itself first thing
    EXPECT_TRUE(threadNamed("fs-history"));
    Snapshot snap;
    snap.timestamp = static_cast<double>(std::time(nullptr)) + 5;  // a save is due
    service.onSnapshot(snap);
    for (int i = 0; i < 500 && !std::filesystem::exists(file); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(std::filesystem::exists(file)) << "the saver thread wrote the history";
    service.stop();
    EXPECT_FALSE(threadNamed("fs-history"));
    std::filesystem::remove(file);
    service.save();  // the shutdown save still writes, on the caller's thread
    EXPECT_TRUE(std::filesystem::exists(file));
  }
  EXPECT_TRUE(removeStaleTempFiles(file).empty());
  std::filesystem::remove_all(dir);
}

TEST(HealthService, StartRemovesTempFilesOfInterruptedSavesOnly) {
  auto dir = tempDir("stale");
  { std::ofstream(dir / ".history.bin.k1LLed") << "half a save"; }
  { std::ofstream(dir / "notes.txt") << "operator's"; }
  HealthService service(HealthOptions{}, dir / "history.bin", 300);
  service.start();
  EXPECT_FALSE(std::filesystem::exists(dir / ".history.bin.k1LLed"));
  EXPECT_TRUE(std::filesystem::exists(dir / "notes.txt"));
  service.stop();
  std::filesystem::remove_all(dir);
}

TEST(HistoryStore, AHistoryFileOverItsCapIsRejectedBySizeAndMovedAside) {
  auto dir = tempDir("huge");
  { std::ofstream(dir / "history.bin") << "x"; }
  std::filesystem::resize_file(dir / "history.bin", std::uintmax_t{2} << 30);  // sparse
  HistoryStore h;
  auto outcome = h.load(dir / "history.bin");
  EXPECT_FALSE(outcome.loaded);
  EXPECT_NE(outcome.error.find("file is 2 GiB (2147483648 bytes), over the 512 MiB limit"),
            std::string::npos)
      << outcome.error;
  EXPECT_FALSE(outcome.moved_aside_to.empty());
  std::filesystem::remove_all(dir);
}

TEST(HistoryStore, ClockSteppingBackDoesNotReorderPoints) {
  HistorySeries s;
  HistoryLimits lim;
  s.add(kT0 + 100, 1, lim);
  s.add(kT0 + 50, 9, lim);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.latest()->v, 1);
}

}  // namespace
}  // namespace foreshock
