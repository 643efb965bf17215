// The sysfs readers and the collector on fake trees built in a temp dir. The files follow the
// kernel's documented formats: Documentation/ABI/testing/sysfs-bus-pci-devices-aer_stats,
// Documentation/ABI/testing/sysfs-devices-edac, Documentation/admin-guide/md.rst.
#include "collectors/kernel/kernel_collector.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "collectors/kernel/sysfs_counters.h"
#include "core/metric_set.h"

namespace foreshock {
namespace {

namespace fs = std::filesystem;

class TempTree {
 public:
  TempTree() {
    std::string tmpl = (fs::temp_directory_path() / "foreshock-kernel-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const fs::path& root() const { return root_; }
  void write(const std::string& rel, const std::string& content) const {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << content;
  }

 private:
  fs::path root_;
};

constexpr const char* kAerCorrectable =
    "RxErr 0\nBadTLP 2\nBadDLLP 1\nRollover 0\nTimeout 0\nNonFatalErr 0\nCorrIntErr 0\n"
    "HeaderOF 0\nTOTAL_ERR_COR 3\n";
constexpr const char* kAerFatal =
    "Undefined 0\nDLP 0\nSDES 0\nTLP 0\nFCP 0\nCmpltTO 0\nCmpltAbrt 0\nUnxCmplt 0\nRxOF 0\n"
    "MalfTLP 0\nECRC 0\nUnsupReq 0\nACSViol 0\nUncorrIntErr 0\nBlockedTLP 0\n"
    "AtomicOpBlocked 0\nTLPBlockedErr 0\nPoisonTLPBlocked 0\nTOTAL_ERR_FATAL 0\n";
constexpr const char* kAerNonFatal =
    "Undefined 0\nDLP 0\nSDES 0\nTLP 0\nFCP 0\nCmpltTO 1\nCmpltAbrt 0\nUnxCmplt 0\nRxOF 0\n"
    "MalfTLP 0\nECRC 0\nUnsupReq 0\nACSViol 0\nUncorrIntErr 0\nBlockedTLP 0\n"
    "AtomicOpBlocked 0\nTLPBlockedErr 0\nPoisonTLPBlocked 0\nTOTAL_ERR_NONFATAL 1\n";

TEST(AerStatsParser, ReadsEveryTypeAndTheTotal) {
  auto s = parseAerStats(kAerCorrectable);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->types.size(), 8u);
  EXPECT_EQ(s->types[1].first, "BadTLP");
  EXPECT_EQ(s->types[1].second, 2u);
  EXPECT_EQ(*s->total, 3u);
}

TEST(AerStatsParser, NamesTheMalformedLine) {
  auto s = parseAerStats("RxErr 0\nBadTLP two\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "line 2 'BadTLP two' is not '<error name> <count>'");
  EXPECT_FALSE(parseAerStats("").ok());
}

TEST(AerDeviceReader, ReadsOnlyDevicesWithAerStatistics) {
  TempTree t;
  t.write("0000:00:1c.0/aer_dev_correctable", kAerCorrectable);
  t.write("0000:00:1c.0/aer_dev_fatal", kAerFatal);
  t.write("0000:00:1c.0/aer_dev_nonfatal", kAerNonFatal);
  t.write("0000:00:00.0/vendor", "0x8086\n");
  t.write("0000:01:00.0/aer_dev_correctable", "RxErr x\n");
  auto devs = readAerDevices(t.root());
  ASSERT_EQ(devs.size(), 2u);
  EXPECT_EQ(devs[0].address, "0000:00:1c.0");
  ASSERT_EQ(devs[0].severities.size(), 3u);
  EXPECT_EQ(devs[0].severities[2].first, "nonfatal");
  EXPECT_EQ(*devs[0].severities[2].second.total, 1u);
  ASSERT_EQ(devs[1].errors.size(), 1u);
  EXPECT_NE(devs[1].errors[0].find("0000:01:00.0/aer_dev_correctable: line 1"), std::string::npos)
      << devs[1].errors[0];
}

void writeEdac(const TempTree& t) {
  t.write("mc/mc0/mc_name", "Skylake Socket#0 IMC#0\n");
  t.write("mc/mc0/ce_count", "5\n");
  t.write("mc/mc0/ue_count", "0\n");
  t.write("mc/mc0/ce_noinfo_count", "1\n");
  t.write("mc/mc0/ue_noinfo_count", "0\n");
  t.write("mc/mc0/dimm0/dimm_label", "CPU_SrcID#0_Ha#0_Chan#0_DIMM#0\n");
  t.write("mc/mc0/dimm0/dimm_ce_count", "4\n");
  t.write("mc/mc0/dimm0/dimm_ue_count", "0\n");
  t.write("mc/mc0/dimm10/dimm_label", "CPU_SrcID#0_Ha#0_Chan#1_DIMM#0\n");
  t.write("mc/mc0/dimm10/dimm_ce_count", "0\n");
  t.write("mc/mc0/dimm10/dimm_ue_count", "0\n");
  t.write("mc/mc0/dimm2/dimm_label", "CPU_SrcID#0_Ha#0_Chan#0_DIMM#1\n");
  t.write("mc/mc0/dimm2/dimm_ce_count", "0\n");
  t.write("mc/mc1/ce_count", "0\n");
  t.write("mc/mc1/ue_count", "2\n");
}

TEST(EdacReader, ReadsControllersAndDimmsInNumericOrder) {
  TempTree t;
  writeEdac(t);
  auto mcs = readEdacControllers(t.root() / "mc");
  ASSERT_EQ(mcs.size(), 2u);
  EXPECT_EQ(mcs[0].name, "mc0");
  EXPECT_EQ(mcs[0].mc_name, "Skylake Socket#0 IMC#0");
  EXPECT_EQ(*mcs[0].ce, 5u);
  EXPECT_EQ(*mcs[0].ce_noinfo, 1u);
  ASSERT_EQ(mcs[0].dimms.size(), 3u);
  EXPECT_EQ(mcs[0].dimms[1].name, "dimm2");
  EXPECT_EQ(mcs[0].dimms[2].name, "dimm10");
  EXPECT_EQ(*mcs[0].dimms[0].ce, 4u);
  EXPECT_FALSE(mcs[0].dimms[1].ue.has_value());
  EXPECT_EQ(*mcs[1].ue, 2u);
  EXPECT_FALSE(mcs[1].ce_noinfo.has_value());
  EXPECT_TRUE(readEdacControllers(t.root() / "absent").empty());
}

TEST(EdacReader, FallsBackToTheLegacyCsrowChannelCounters) {
  TempTree t;
  t.write("mc/mc0/ce_count", "3\n");
  t.write("mc/mc0/csrow0/ce_count", "3\n");
  t.write("mc/mc0/csrow0/ue_count", "0\n");
  t.write("mc/mc0/csrow0/ch0_ce_count", "1\n");
  t.write("mc/mc0/csrow0/ch0_dimm_label", "DIMM_A1\n");
  t.write("mc/mc0/csrow0/ch1_ce_count", "2\n");
  t.write("mc/mc0/csrow0/ch1_dimm_label", "DIMM_B1\n");
  auto mcs = readEdacControllers(t.root() / "mc");
  ASSERT_EQ(mcs.size(), 1u);
  ASSERT_EQ(mcs[0].dimms.size(), 2u);
  EXPECT_EQ(mcs[0].dimms[1].name, "csrow0_ch1");
  EXPECT_EQ(mcs[0].dimms[1].label, "DIMM_B1");
  EXPECT_EQ(*mcs[0].dimms[1].ce, 2u);
  EXPECT_FALSE(mcs[0].dimms[1].ue.has_value());
}

void writeDegradedMirror(const TempTree& t, const std::string& block) {
  t.write(block + "/md0/md/level", "raid1\n");
  t.write(block + "/md0/md/raid_disks", "2\n");
  t.write(block + "/md0/md/degraded", "1\n");
  t.write(block + "/md0/md/array_state", "clean\n");
  t.write(block + "/md0/md/sync_action", "idle\n");
  t.write(block + "/md0/md/dev-vdb/state", "in_sync\n");
  t.write(block + "/md0/md/dev-vdc/state", "faulty,write_error\n");
  t.write(block + "/sda/size", "1000\n");
}

TEST(MdReader, ReadsLevelDegradedAndMemberStates) {
  TempTree t;
  writeDegradedMirror(t, "block");
  auto arrays = readMdArrays(t.root() / "block");
  ASSERT_EQ(arrays.size(), 1u);
  const auto& a = arrays[0];
  EXPECT_EQ(a.name, "md0");
  EXPECT_EQ(a.level, "raid1");
  EXPECT_EQ(*a.raid_disks, 2u);
  EXPECT_EQ(*a.degraded, 1u);
  EXPECT_EQ(a.array_state, "clean");
  EXPECT_EQ(a.members_in_sync, 1u);
  EXPECT_EQ(a.members_faulty, 1u);
}

TEST(KmsgOpenFailure, NamesTheCapabilityAndTheSysctl) {
  auto f = describeKmsgOpenFailure("/dev/kmsg", EPERM);
  EXPECT_EQ(f.reason, "permission_denied");
  EXPECT_NE(f.message.find("CAP_SYSLOG"), std::string::npos);
  EXPECT_NE(f.message.find("kernel.dmesg_restrict"), std::string::npos);
  EXPECT_NE(f.message.find("/dev/kmsg"), std::string::npos);
  EXPECT_EQ(describeKmsgOpenFailure("/x/kmsg", ENOENT).reason, "missing");
}

// ---- the collector ----

ConfigSection kernelSection() {
  return defaultsFor(kernelCollectorInfo().options, "collectors.kernel");
}

std::vector<prometheus::MetricFamily> collectOnce(Collector& c) {
  MetricSet out;
  EXPECT_TRUE(c.collect(out).ok());
  EXPECT_TRUE(out.conflicts().empty());
  return out.take();
}

// The kernel collector's context with its host roots in `t` (sys/ and dev/) and its defaults.
CollectorContext contextIn(const TempTree& t) {
  CollectorContext ctx;
  ctx.paths.sysfs = t.root() / "sys";
  ctx.paths.devfs = t.root() / "dev";
  ctx.config = kernelSection();
  return ctx;
}

double value(const std::vector<prometheus::MetricFamily>& fams, std::string_view name,
             const Labels& labels, double missing = -1) {
  const auto* f = findFamily(fams, name);
  if (f == nullptr) return missing;
  for (const auto& m : f->metric)
    if (labelsMatch(m, labels)) return sampleValue(*f, m);
  return missing;
}

// One series the output must hold: its family, labels it carries (it may carry more) and
// its value; -1 means no such series.
struct Sample {
  std::string_view family;
  Labels labels;
  double value;
};

void expectSamples(const std::vector<prometheus::MetricFamily>& fams,
                   const std::vector<Sample>& want) {
  for (const Sample& w : want) {
    std::string where(w.family);
    for (const auto& [k, v] : w.labels) where += " " + k + "=" + v;
    SCOPED_TRACE(where);
    EXPECT_EQ(value(fams, w.family, w.labels), w.value);
  }
}

TEST(KernelCollector, ExportsSysfsCountersFromAFakeTree) {
  TempTree t;
  writeEdac(t);
  fs::create_directories(t.root() / "sys/devices/system/edac");
  fs::rename(t.root() / "mc", t.root() / "sys/devices/system/edac/mc");
  t.write("sys/bus/pci/devices/0000:00:1c.0/aer_dev_correctable", kAerCorrectable);
  t.write("sys/bus/pci/devices/0000:00:1c.0/aer_dev_fatal", kAerFatal);
  t.write("sys/bus/pci/devices/0000:00:1c.0/aer_dev_nonfatal", kAerNonFatal);
  writeDegradedMirror(t, "sys/block");
  t.write("sys/class/nvme/nvme0/dev", "242:0\n");
  t.write("sys/class/ata_port/ata1/port_no", "1\n");
  CollectorContext ctx = contextIn(t);  // no kmsg in its dev/
  auto c = kernelCollectorInfo().factory(ctx);
  ASSERT_TRUE(c.ok());
  auto fams = collectOnce(**c);
  expectSamples(
      fams,
      {
          {"foreshock_kernel_source_up", {{"source", "kmsg"}, {"reason", "missing"}}, 0},
          {"foreshock_kernel_source_up", {{"source", "edac"}}, 1},
          {"foreshock_kernel_source_up", {{"source", "pcie_aer"}}, 1},
          {"foreshock_edac_correctable_errors_total", {{"controller", "mc0"}}, 5},
          {"foreshock_edac_uncorrectable_errors_total", {{"controller", "mc1"}}, 2},
          {"foreshock_edac_dimm_correctable_errors_total",
           {{"dimm", "dimm0"}, {"label", "CPU_SrcID#0_Ha#0_Chan#0_DIMM#0"}},
           4},
          {"foreshock_pcie_aer_errors_total",
           {{"device", "0000:00:1c.0"}, {"class", "corrected"}},
           3},
          {"foreshock_pcie_aer_errors_total",
           {{"device", "0000:00:1c.0"}, {"class", "nonfatal"}},
           1},
          {"foreshock_pcie_aer_error_types_total", {{"class", "nonfatal"}, {"type", "CmpltTO"}}, 1},
          // Types that never happened are not exported.
          {"foreshock_pcie_aer_error_types_total", {{"type", "RxErr"}}, -1},
          {"foreshock_md_degraded", {{"array", "md0"}}, 1},
          {"foreshock_md_members", {{"array", "md0"}, {"state", "faulty"}}, 1},
          {"foreshock_md_info", {{"array", "md0"}, {"level", "raid1"}}, 1},
      });
}

TEST(KernelCollector, SaysWhichSysfsSourcesAreAbsent) {
  TempTree t;
  CollectorContext ctx = contextIn(t);
  ctx.config.values["kmsg"] = false;
  auto c = kernelCollectorInfo().factory(ctx);
  ASSERT_TRUE(c.ok());
  auto fams = collectOnce(**c);
  expectSamples(
      fams,
      {
          {"foreshock_kernel_source_up", {{"source", "edac"}, {"reason", "no_edac_driver"}}, 0},
          {"foreshock_kernel_source_up", {{"source", "pcie_aer"}, {"reason", "no_aer_stats"}}, 0},
          {"foreshock_kernel_source_up", {{"source", "kmsg"}}, -1},
          {"foreshock_md_arrays", {}, 0},
      });
}

// Polls the collector until `pred` holds on its output or 5 s pass.
template <class P>
std::vector<prometheus::MetricFamily> waitFor(Collector& c, P pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto fams = collectOnce(c);
  while (!pred(fams) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    fams = collectOnce(c);
  }
  return fams;
}

TEST(KernelCollector, CountsRecordsWrittenToAFifoAtTheDevfsKmsgPath) {
  TempTree t;
  t.write("sys/block/sda/size", "1000\n");
  fs::create_directories(t.root() / "dev");
  const fs::path fifo = t.root() / "dev/kmsg";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  CollectorContext ctx = contextIn(t);
  auto c = kernelCollectorInfo().factory(ctx);
  ASSERT_TRUE(c.ok());
  auto fams = collectOnce(**c);
  EXPECT_EQ(value(fams, "foreshock_kernel_source_up", {{"source", "kmsg"}, {"reason", ""}}), 1);
  // The known disk starts at zero, so its first error is an increase.
  EXPECT_EQ(value(fams, "foreshock_kernel_block_io_errors_total", {{"device", "sda"}}), 0);

  const int w = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(w, 0);
  const std::string records =
      "3,10,100,-;I/O error, dev sda, sector 2048 op 0x0:(READ) flags 0x0 phys_seg 1 prio "
      "class 2\n SUBSYSTEM=block\n DEVICE=b8:0\n"
      "2,11,101,-;EXT4-fs (sda1): Remounting filesystem read-only\n"
      // Records 12..14 were overwritten in the ring before they were read.
      "4,15,102,-;nvme nvme0: I/O 7 QID 1 timeout, reset controller\n"
      "11,16,103,-;I/O error, dev sdz, sector 0\n"  // user space: never counted as a disk
      "garbage without separator\n";
  ASSERT_EQ(::write(w, records.data(), records.size()), static_cast<ssize_t>(records.size()));
  ::close(w);
  fams = waitFor(**c, [](const auto& f) {
    return value(f, "foreshock_kernel_log_malformed_records_total", {}) >= 1;
  });
  expectSamples(fams,
                {
                    {"foreshock_kernel_block_io_errors_total", {{"device", "sda"}}, 1},
                    {"foreshock_kernel_block_io_errors_total", {{"device", "sdz"}}, -1},
                    {"foreshock_kernel_fs_readonly_total", {{"device", "sda1"}, {"fs", "ext4"}}, 1},
                    {"foreshock_kernel_nvme_timeouts_total", {{"device", "nvme0"}}, 1},
                    {"foreshock_kernel_nvme_resets_total", {{"device", "nvme0"}}, 1},
                    {"foreshock_kernel_log_records_total", {}, 4},
                    {"foreshock_kernel_log_lost_records_total", {}, 3},
                    {"foreshock_kernel_log_malformed_records_total", {}, 1},
                });
}

TEST(KernelCollector, StartsAtTheEndOfTheLogUnlessAskedToReadExistingRecords) {
  TempTree t;
  t.write("dev/kmsg", "3,1,100,-;I/O error, dev sda, sector 1\n");
  CollectorContext ctx = contextIn(t);
  {
    auto c = kernelCollectorInfo().factory(ctx);
    ASSERT_TRUE(c.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto fams = collectOnce(**c);
    EXPECT_EQ(value(fams, "foreshock_kernel_block_io_errors_total", {{"device", "sda"}}), -1);
    // A record appended later is read.
    std::ofstream(t.root() / "dev/kmsg", std::ios::app)
        << "3,2,101,-;I/O error, dev sda, sector 2\n";
    fams = waitFor(**c, [](const auto& f) {
      return value(f, "foreshock_kernel_block_io_errors_total", {{"device", "sda"}}) >= 1;
    });
    EXPECT_EQ(value(fams, "foreshock_kernel_block_io_errors_total", {{"device", "sda"}}), 1);
  }
  ctx.config.values["read_existing"] = true;
  auto c = kernelCollectorInfo().factory(ctx);
  ASSERT_TRUE(c.ok());
  // Drained in the constructor: the very first collect (a one-shot check) sees both.
  auto fams = collectOnce(**c);
  EXPECT_EQ(value(fams, "foreshock_kernel_block_io_errors_total", {{"device", "sda"}}), 2);
}

}  // namespace
}  // namespace foreshock
