// Pure parsers for the kernel log as /dev/kmsg hands it out: one record to a typed KmsgRecord,
// and one kernel message to the hardware-error event it reports (if any). No I/O here.
//
// The record format is the kernel's documented interface (Documentation/ABI/testing/dev-kmsg):
//   "<prefix>,<seq>,<timestamp usec>,<flags>[,more fields];<message>\n"
//   followed by zero or more continuation lines " KEY=value\n" (SUBSYSTEM=, DEVICE=),
// where prefix = facility * 8 + level and non-printable bytes of the message are escaped as
// \xNN by the kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace foreshock {

struct KmsgRecord {
  int facility = 0;  // 0 = kernel; user space writing to /dev/kmsg gets 1 (LOG_USER) or more
  int level = 0;     // 0 emerg .. 7 debug
  std::uint64_t seq = 0;
  std::uint64_t timestamp_usec = 0;  // monotonic since boot
  std::string_view message;          // a view into the parsed bytes (still \xNN-escaped)
  std::string_view subsystem;        // SUBSYSTEM= continuation ("" when absent)
  std::string_view device;           // DEVICE= continuation ("" when absent)
};

// Parses one record (header line plus optional continuation lines). The returned views point
// into `bytes`, which must outlive them. The error says what is malformed (missing ';',
// non-numeric field). Never reads past `bytes`.
Result<KmsgRecord> parseKmsgRecord(std::string_view bytes);

// The classes of hardware trouble the kernel reports in its log.
enum class KernelEventClass : std::uint8_t {
  kBlockIoError,   // a request failed: "I/O error, dev sda, sector ..." (block/blk-core.c)
  kFsError,        // a filesystem detected an error (ext4, XFS, btrfs)
  kFsReadOnly,     // a filesystem was taken out of write service (remount ro, XFS shutdown)
  kMce,            // machine-check / memory-failure events (arch/x86/kernel/cpu/mce)
  kPcieAer,        // a PCIe AER error message received by a root port (drivers/pci/pcie/aer.c)
  kEdac,           // an EDAC memory controller error (drivers/edac/edac_mc.c)
  kAtaLinkReset,   // libata reset a link (drivers/ata/libata-eh.c)
  kAtaException,   // libata error handler exception ("exception Emask ...")
  kAtaLinkDown,    // "SATA link down"
  kNvmeTimeout,    // an NVMe command timed out (drivers/nvme/host/pci.c)
  kNvmeReset,      // an NVMe controller reset was started
  kMdDiskFailure,  // md kicked a member out of an array (drivers/md/raid*.c)
  kFirmwareError,  // an error the firmware reported through APEI/GHES (drivers/acpi/apei)
};
inline constexpr int kKernelEventClassCount = 13;

// One thing one kernel message reports. `device` names the thing it happened to (sda, sda1,
// 0000:01:00.0, mc0, ata1, nvme0, md0); `detail` is a small closed set per class (fs type,
// AER/EDAC severity, MCE kind); `count` is how many errors the one message reports (EDAC
// messages say "3 CE"), else 1.
struct KernelEvent {
  KernelEventClass cls = KernelEventClass::kBlockIoError;
  std::string device;
  std::string detail;
  std::uint64_t count = 1;
};

// Classifies one kernel message. Cheap: every matcher is a prefix or substring test on the
// text (no regex), and a message whose first bytes rule out every class is rejected after a
// few comparisons. Returns nothing for messages that report no hardware error, and two events
// when one message reports two things (an NVMe timeout that resets the controller). Only kernel
// records (facility 0) should be passed: user space can write anything to /dev/kmsg but
// cannot write facility 0, so filtering on it keeps `logger`-style lines from counting.
std::vector<KernelEvent> classifyKernelMessage(std::string_view message);

// The facility filter + classify (what the reader thread runs on every parsed record).
std::vector<KernelEvent> classifyKmsgRecord(const KmsgRecord& record);

}  // namespace foreshock
