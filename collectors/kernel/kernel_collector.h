// The `kernel` collector: hardware errors as the kernel itself reports them.
// - The kernel log, read as a stream from <devfs>/kmsg by a background thread: block I/O
//   errors, filesystem errors and read-only remounts, machine checks, PCIe AER, EDAC, ATA link
//   resets, NVMe timeouts and resets, md member failures, counted per device and class.
// - The kernel's counters in sysfs, read at every collect(): PCIe AER statistics per device,
//   EDAC memory-controller error counts, md RAID array state.
// collect() copies the reader's tally and reads the sysfs counters; it never blocks on kmsg.
#pragma once

#include <filesystem>
#include <string>

#include "collectors/collector.h"

namespace foreshock {

// Why a kmsg open failed, as the bounded `reason` label and a sentence naming what to change.
struct KmsgOpenFailure {
  std::string reason;   // "permission_denied", "missing", "open_error"
  std::string message;  // names the path, the errno text and the capability or sysctl
};
KmsgOpenFailure describeKmsgOpenFailure(const std::filesystem::path& path, int err);

CollectorInfo kernelCollectorInfo();

}  // namespace foreshock
