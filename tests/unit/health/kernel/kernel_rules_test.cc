// The kernel-reported hardware error checks, on snapshots shaped like the kernel collector's
// output, recorded over synthetic time.
#include "health/kernel_rules.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/metric_set.h"
#include "health/engine.h"
#include "health/observe.h"

namespace foreshock {
namespace {

constexpr double kT0 = 1'700'000'000;

const Finding* find(const HealthResult& r, const std::string& component, const std::string& check) {
  for (const auto& f : r.findings)
    if (f.component == component && f.check == check) return &f;
  return nullptr;
}

Severity sev(const HealthResult& r, const std::string& component, const std::string& check) {
  const auto* f = find(r, component, check);
  EXPECT_NE(f, nullptr) << component << " " << check;
  return f == nullptr ? Severity::kOk : f->severity;
}

struct Snap {
  MetricSet m;
  void counter(const char* name, Labels l, double v) { m.counter(name, "h", std::move(l), v); }
  void gauge(const char* name, Labels l, double v) { m.gauge(name, "h", std::move(l), v); }
  Observations at(double t) { return observe(m.take(), t); }
};

// One scrape of counter series at time t.
struct CounterSeries {
  const char* family;
  Labels labels;
  double value;
};

Observations counters(double t, const std::vector<CounterSeries>& series) {
  Snap s;
  for (const auto& c : series) s.counter(c.family, c.labels, c.value);
  return s.at(t);
}

Observations blockErrors(double t, double sda) {
  Snap s;
  s.gauge("foreshock_kernel_source_up", {{"source", "kmsg"}, {"reason", ""}}, 1);
  s.counter("foreshock_kernel_block_io_errors_total", {{"device", "sda"}}, sda);
  return s.at(t);
}

TEST(KernelRules, DiskReturningIoErrorsIsCriticalWhileRisingAndAWarningForADay) {
  HealthEngine e;
  auto r = e.process(blockErrors(kT0, 0));
  EXPECT_EQ(sev(r, "kernel/disk/sda", "block_io_errors"), Severity::kOk);
  r = e.process(blockErrors(kT0 + 60, 4));
  EXPECT_EQ(sev(r, "kernel/disk/sda", "block_io_errors"), Severity::kCritical);
  const auto* f = find(r, "kernel/disk/sda", "block_io_errors");
  EXPECT_NE(f->summary.find("disk returning I/O errors: 4"), std::string::npos) << f->summary;
  EXPECT_EQ(f->category, "kernel");
  EXPECT_FALSE(f->action.empty());
  r = e.process(blockErrors(kT0 + 3 * 3600, 4));  // none for three hours
  EXPECT_EQ(sev(r, "kernel/disk/sda", "block_io_errors"), Severity::kWarning);
  r = e.process(blockErrors(kT0 + 26 * 3600, 4));
  EXPECT_EQ(sev(r, "kernel/disk/sda", "block_io_errors"), Severity::kOk);
}

TEST(KernelRules, ErrorsSeenWithoutHistoryCountAsRecent) {
  // foreshock check without the agent's history: the counter itself is the evidence.
  HealthEngine e;
  auto r = e.evaluateOnly(blockErrors(kT0, 2));
  EXPECT_EQ(sev(r, "kernel/disk/sda", "block_io_errors"), Severity::kCritical);
}

Observations memory(double t, double ce, double ue) {
  Snap s;
  s.counter("foreshock_edac_correctable_errors_total", {{"controller", "mc0"}}, ce);
  s.counter("foreshock_edac_uncorrectable_errors_total", {{"controller", "mc0"}}, ue);
  return s.at(t);
}

TEST(KernelRules, MemoryCorrectableErrorsRisingWarnAndUncorrectableAreCritical) {
  HealthEngine e;
  EXPECT_EQ(sev(e.process(memory(kT0, 10, 0)), "kernel/memory/mc0", "memory_errors"),
            Severity::kWarning);  // 10 since boot, no history yet
  EXPECT_EQ(sev(e.process(memory(kT0 + 600, 10, 0)), "kernel/memory/mc0", "memory_errors"),
            Severity::kOk);  // with history: not rising
  auto r = e.process(memory(kT0 + 1200, 13, 0));
  EXPECT_EQ(sev(r, "kernel/memory/mc0", "memory_errors"), Severity::kWarning);
  EXPECT_NE(find(r, "kernel/memory/mc0", "memory_errors")->summary.find("rising: 3"),
            std::string::npos);
  EXPECT_EQ(sev(e.process(memory(kT0 + 1800, 13, 1)), "kernel/memory/mc0", "memory_errors"),
            Severity::kCritical);
}

TEST(KernelRules, EdacLogMessagesAloneAlsoRaiseTheMemoryCheck) {
  HealthEngine e;
  const Labels mc0{{"controller", "mc0"}, {"class", "corrected"}};
  e.process(counters(kT0, {{"foreshock_kernel_edac_errors_total", mc0, 0}}));
  EXPECT_EQ(sev(e.process(counters(kT0 + 60, {{"foreshock_kernel_edac_errors_total", mc0, 1}})),
                "kernel/memory/mc0", "memory_errors"),
            Severity::kWarning);
}

TEST(KernelRules, PcieCorrectedErrorsWarnUncorrectedAreCriticalAndCleanDevicesAreNotListed) {
  HealthEngine e;
  auto r = e.process(counters(
      kT0,
      {{"foreshock_pcie_aer_errors_total", {{"device", "0000:00:1c.0"}, {"class", "corrected"}}, 0},
       {"foreshock_pcie_aer_errors_total", {{"device", "0000:00:1d.0"}, {"class", "corrected"}}, 0},
       {"foreshock_kernel_pcie_aer_errors_total",
        {{"device", "0000:01:00.0"}, {"class", "corrected"}},
        2}}));
  EXPECT_EQ(find(r, "kernel/pcie/0000:00:1d.0", "pcie_aer"), nullptr);
  EXPECT_EQ(sev(r, "kernel/pcie/0000:01:00.0", "pcie_aer"), Severity::kWarning);
  EXPECT_NE(find(r, "kernel/pcie/0000:01:00.0", "pcie_aer")->summary.find("PCIe link degraded"),
            std::string::npos);
  r = e.process(counters(kT0 + 60, {{"foreshock_pcie_aer_errors_total",
                                     {{"device", "0000:00:1c.0"}, {"class", "nonfatal"}},
                                     1}}));
  EXPECT_EQ(sev(r, "kernel/pcie/0000:00:1c.0", "pcie_aer"), Severity::kCritical);
}

TEST(KernelRules, DegradedMdArrayIsCritical) {
  HealthEngine e;
  Snap s;
  s.gauge("foreshock_md_degraded", {{"array", "md0"}}, 1);
  s.gauge("foreshock_md_members", {{"array", "md0"}, {"state", "faulty"}}, 1);
  s.gauge("foreshock_md_degraded", {{"array", "md1"}}, 0);
  auto r = e.process(s.at(kT0));
  EXPECT_EQ(sev(r, "kernel/md/md0", "md_degraded"), Severity::kCritical);
  EXPECT_EQ(sev(r, "kernel/md/md1", "md_degraded"), Severity::kOk);
}

TEST(KernelRules, ReadOnlyFilesystemIsCriticalAndFsErrorsWarn) {
  HealthEngine e;
  const Labels vdb{{"device", "vdb"}, {"fs", "ext4"}};
  e.process(counters(kT0, {{"foreshock_kernel_fs_readonly_total", vdb, 0},
                           {"foreshock_kernel_fs_errors_total", vdb, 0}}));
  auto r = e.process(counters(kT0 + 60, {{"foreshock_kernel_fs_readonly_total", vdb, 1},
                                         {"foreshock_kernel_fs_errors_total", vdb, 2}}));
  EXPECT_EQ(sev(r, "kernel/fs/vdb", "fs_readonly"), Severity::kCritical);
  EXPECT_EQ(sev(r, "kernel/fs/vdb", "fs_errors"), Severity::kWarning);
}

TEST(KernelRules, AFilesystemWhoseCounterAppearsWithItsFirstErrorStaysReadOnlyForADay) {
  // The collector exports a filesystem only once the kernel logged an error for it (seen in
  // the QEMU lab): the first recorded value is the error itself, not a baseline.
  HealthEngine e;
  auto fsAt = [](double t) {
    Snap s;
    s.counter("foreshock_kernel_fs_readonly_total", {{"device", "vde"}, {"fs", "ext4"}}, 1);
    return s.at(t);
  };
  EXPECT_EQ(sev(e.process(fsAt(kT0)), "kernel/fs/vde", "fs_readonly"), Severity::kCritical);
  EXPECT_EQ(sev(e.process(fsAt(kT0 + 60)), "kernel/fs/vde", "fs_readonly"), Severity::kCritical);
  EXPECT_EQ(sev(e.process(fsAt(kT0 + 3600)), "kernel/fs/vde", "fs_readonly"), Severity::kCritical);
  EXPECT_EQ(sev(e.process(fsAt(kT0 + 25 * 3600)), "kernel/fs/vde", "fs_readonly"), Severity::kOk);
}

TEST(KernelRules, NvmeResetsWarnAndRepeatedResetsAreCritical) {
  HealthEngine e;
  auto snap = [](double resets) {
    Snap s;
    s.counter("foreshock_kernel_nvme_resets_total", {{"device", "nvme0"}}, resets);
    s.counter("foreshock_kernel_nvme_timeouts_total", {{"device", "nvme0"}}, resets);
    return s.at(0);
  };
  auto at = [&](double t, double resets) {
    auto o = snap(resets);
    o.time = t;
    return e.process(o);
  };
  EXPECT_EQ(sev(at(kT0, 0), "kernel/nvme/nvme0", "nvme_resets"), Severity::kOk);
  EXPECT_EQ(sev(at(kT0 + 60, 1), "kernel/nvme/nvme0", "nvme_resets"), Severity::kWarning);
  EXPECT_EQ(sev(at(kT0 + 120, 4), "kernel/nvme/nvme0", "nvme_resets"), Severity::kCritical);
}

// One counter family with a milder and a graver series (`label` = `mild` / `grave`), scraped
// three times a minute apart: no errors, then `mild_count` mild ones, then one grave one. The
// check must read ok, then warning, then critical.
struct Escalation {
  const char* family;
  const char* label;
  const char* mild;
  double mild_count;
  const char* grave;
  const char* component;
  const char* check;
};

void expectOkWarningCritical(const Escalation& c) {
  HealthEngine e;
  auto snap = [&c](double t, double mild, double grave) {
    Snap s;
    s.counter(c.family, {{c.label, c.mild}}, mild);
    s.counter(c.family, {{c.label, c.grave}}, grave);
    return s.at(t);
  };
  EXPECT_EQ(sev(e.process(snap(kT0, 0, 0)), c.component, c.check), Severity::kOk);
  EXPECT_EQ(sev(e.process(snap(kT0 + 60, c.mild_count, 0)), c.component, c.check),
            Severity::kWarning);
  EXPECT_EQ(sev(e.process(snap(kT0 + 120, c.mild_count, 1)), c.component, c.check),
            Severity::kCritical);
}

TEST(KernelRules, MachineChecksWarnWhenCorrectedAndAreCriticalWhenUncorrected) {
  expectOkWarningCritical({"foreshock_kernel_mce_events_total", "kind", "logged", 1, "uncorrected",
                           "kernel/cpu", "machine_checks"});
}

TEST(KernelRules, FirmwareReportedErrorsWarnWhenCorrectedAndAreCriticalOtherwise) {
  expectOkWarningCritical({"foreshock_kernel_firmware_errors_total", "class", "corrected", 2,
                           "fatal", "kernel/firmware", "firmware_errors"});
}

TEST(KernelRules, AnUnreadableKernelLogIsANoticeNotAFault) {
  HealthEngine e;
  Snap s;
  s.gauge("foreshock_kernel_source_up", {{"source", "kmsg"}, {"reason", "permission_denied"}}, 0);
  auto r = e.process(s.at(kT0));
  const auto* f = find(r, "kernel/log", "kernel_log");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kInfo);
  EXPECT_NE(f->summary.find("CAP_SYSLOG"), std::string::npos);
}

TEST(KernelRules, NoKernelSeriesMeansNoKernelFindings) {
  HealthEngine e;
  Snap s;
  s.gauge("foreshock_disk_up", {{"device", "sda"}}, 1);
  for (const auto& f : e.process(s.at(kT0)).findings) EXPECT_NE(f.category, "kernel");
}

}  // namespace
}  // namespace foreshock
