// Health checks of the hardware errors the kernel reports (the `kernel` collector's series):
// disks returning I/O errors, filesystems gone read-only, memory errors (EDAC), machine checks,
// PCIe AER errors, degraded md arrays, NVMe controller resets, ATA link resets.
// Observed from a snapshot's families, recorded in the history under kind "kernel", evaluated
// into findings of category "kernel".
#pragma once

#include <prometheus/metric_family.h>

#include <optional>
#include <string>
#include <vector>

namespace foreshock {

class HistoryStore;
struct Finding;
struct Observations;

// One counter of one kernel-reported component, e.g. component "kernel/disk/sda", signal
// "block_io_errors_total".
struct KernelCounter {
  std::string component, subject, signal;
  double value = 0;
  // Read from sysfs (foreshock_edac_*, foreshock_pcie_aer_*): counts since boot and is exported
  // from the start. Otherwise a kernel-log counter (foreshock_kernel_*), exported only from its
  // first event on, so it was zero before its first point.
  bool since_boot = false;
};

struct KernelMdArray {
  std::string array, array_state;
  double degraded = 0, faulty = 0;
};

struct KernelObservations {
  bool present = false;  // any series of the kernel collector was in the snapshot
  std::optional<bool> kmsg_up;
  std::string kmsg_reason;
  std::vector<KernelCounter> counters;  // sorted by component, then signal
  std::vector<KernelMdArray> md_arrays;
  const KernelCounter* counter(const std::string& component, const std::string& signal) const;
};

// Reads the kernel collector's families; absent families leave the result empty.
KernelObservations observeKernel(const std::vector<prometheus::MetricFamily>& families);
// Records every counter under ("kernel", component, signal).
void recordKernel(HistoryStore& history, const KernelObservations& obs, double t);
// Appends one finding per check per component (ok ones included).
void evaluateKernel(const Observations& obs, const HistoryStore& history,
                    std::vector<Finding>* out);

}  // namespace foreshock
