// The kernel-reported hardware error checks, on snapshots shaped like the kernel collector's
// output, recorded over synthetic time.
#include "health/kernel_rules.h"

#include <gtest/gtest.h>

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
  Snap a;
  a.counter("foreshock_kernel_edac_errors_total", {{"controller", "mc0"}, {"class", "corrected"}},
            0);
  e.process(a.at(kT0));
  Snap b;
  b.counter("foreshock_kernel_edac_errors_total", {{"controller", "mc0"}, {"class", "corrected"}},
            1);
  EXPECT_EQ(sev(e.process(b.at(kT0 + 60)), "kernel/memory/mc0", "memory_errors"),
            Severity::kWarning);
}

TEST(KernelRules, PcieCorrectedErrorsWarnUncorrectedAreCriticalAndCleanDevicesAreNotListed) {
  HealthEngine e;
  Snap a;
  a.counter("foreshock_pcie_aer_errors_total", {{"device", "0000:00:1c.0"}, {"class", "corrected"}},
            0);
  a.counter("foreshock_pcie_aer_errors_total", {{"device", "0000:00:1d.0"}, {"class", "corrected"}},
            0);
  a.counter("foreshock_kernel_pcie_aer_errors_total",
            {{"device", "0000:01:00.0"}, {"class", "corrected"}}, 2);
  auto r = e.process(a.at(kT0));
  EXPECT_EQ(find(r, "kernel/pcie/0000:00:1d.0", "pcie_aer"), nullptr);
  EXPECT_EQ(sev(r, "kernel/pcie/0000:01:00.0", "pcie_aer"), Severity::kWarning);
  EXPECT_NE(find(r, "kernel/pcie/0000:01:00.0", "pcie_aer")->summary.find("PCIe link degraded"),
            std::string::npos);
  Snap b;
  b.counter("foreshock_pcie_aer_errors_total", {{"device", "0000:00:1c.0"}, {"class", "nonfatal"}},
            1);
  EXPECT_EQ(sev(e.process(b.at(kT0 + 60)), "kernel/pcie/0000:00:1c.0", "pcie_aer"),
            Severity::kCritical);
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
  Snap a;
  a.counter("foreshock_kernel_fs_readonly_total", {{"device", "vdb"}, {"fs", "ext4"}}, 0);
  a.counter("foreshock_kernel_fs_errors_total", {{"device", "vdb"}, {"fs", "ext4"}}, 0);
  e.process(a.at(kT0));
  Snap b;
  b.counter("foreshock_kernel_fs_readonly_total", {{"device", "vdb"}, {"fs", "ext4"}}, 1);
  b.counter("foreshock_kernel_fs_errors_total", {{"device", "vdb"}, {"fs", "ext4"}}, 2);
  auto r = e.process(b.at(kT0 + 60));
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

TEST(KernelRules, MachineChecksWarnWhenCorrectedAndAreCriticalWhenUncorrected) {
  HealthEngine e;
  auto snap = [](double t, double logged, double mc) {
    Snap s;
    s.counter("foreshock_kernel_mce_events_total", {{"kind", "logged"}}, logged);
    s.counter("foreshock_kernel_mce_events_total", {{"kind", "uncorrected"}}, mc);
    return s.at(t);
  };
  EXPECT_EQ(sev(e.process(snap(kT0, 0, 0)), "kernel/cpu", "machine_checks"), Severity::kOk);
  EXPECT_EQ(sev(e.process(snap(kT0 + 60, 1, 0)), "kernel/cpu", "machine_checks"),
            Severity::kWarning);
  EXPECT_EQ(sev(e.process(snap(kT0 + 120, 1, 1)), "kernel/cpu", "machine_checks"),
            Severity::kCritical);
}

TEST(KernelRules, FirmwareReportedErrorsWarnWhenCorrectedAndAreCriticalOtherwise) {
  HealthEngine e;
  auto snap = [](double t, double corrected, double fatal) {
    Snap s;
    s.counter("foreshock_kernel_firmware_errors_total", {{"class", "corrected"}}, corrected);
    s.counter("foreshock_kernel_firmware_errors_total", {{"class", "fatal"}}, fatal);
    return s.at(t);
  };
  EXPECT_EQ(sev(e.process(snap(kT0, 0, 0)), "kernel/firmware", "firmware_errors"), Severity::kOk);
  EXPECT_EQ(sev(e.process(snap(kT0 + 60, 2, 0)), "kernel/firmware", "firmware_errors"),
            Severity::kWarning);
  EXPECT_EQ(sev(e.process(snap(kT0 + 120, 2, 1)), "kernel/firmware", "firmware_errors"),
            Severity::kCritical);
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
