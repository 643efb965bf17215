// Readers of the kernel's own hardware-error counters in sysfs: PCIe AER statistics, EDAC
// memory-controller error counts and md RAID array state. Each takes the directory to walk
// (from HostPaths), so tests point them at small trees built in a temp dir.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace foreshock {

// One aer_dev_{correctable,fatal,nonfatal} file (Documentation/ABI/testing/
// sysfs-bus-pci-devices-aer_stats): one "<ErrorName> <count>" line per error type and a
// TOTAL_ERR_{COR,FATAL,NONFATAL} line. The error names the line that is malformed.
struct AerStats {
  std::vector<std::pair<std::string, std::uint64_t>> types;  // in file order, TOTAL_ excluded
  std::optional<std::uint64_t> total;
};
Result<AerStats> parseAerStats(std::string_view text);

struct AerDevice {
  std::string address;  // 0000:00:1c.0
  // severity ("corrected", "fatal", "nonfatal") -> stats; a file that is absent is left out.
  std::vector<std::pair<std::string, AerStats>> severities;
  std::vector<std::string> errors;  // unreadable or malformed files, with the path
};
// Walks <sysfs>/bus/pci/devices; only devices with at least one aer_dev_* file are returned,
// sorted by address.
std::vector<AerDevice> readAerDevices(const std::filesystem::path& pci_devices);

// <sysfs>/devices/system/edac/mc/mc<N> (Documentation/ABI/testing/sysfs-devices-edac):
// ce_count, ue_count, ce_noinfo_count, ue_noinfo_count, mc_name, and per DIMM (kernels 3.6+)
// dimm<N>/{dimm_label,dimm_ce_count,dimm_ue_count}; without dimm<N>, the legacy
// csrow<N>/ch<M>_{ce_count,dimm_label} per channel.
struct EdacDimm {
  std::string name;   // dimm0, or csrow0_ch1 in the legacy csrow layout
  std::string label;  // dimm_label, e.g. "CPU_SrcID#0_Ha#0_Chan#0_DIMM#0"
  std::optional<std::uint64_t> ce, ue;
};
struct EdacController {
  std::string name;     // mc0
  std::string mc_name;  // the driver's name for it (e.g. "Skylake Socket#0 IMC#0")
  std::optional<std::uint64_t> ce, ue, ce_noinfo, ue_noinfo;
  std::vector<EdacDimm> dimms;  // sorted by number
};
// Sorted by controller number; an empty vector when there is no EDAC driver loaded.
std::vector<EdacController> readEdacControllers(const std::filesystem::path& edac_mc);

// <sysfs>/block/md<N>/md (Documentation/admin-guide/md.rst "md devices in sysfs"): level,
// raid_disks, degraded (missing member count; redundant levels only), array_state,
// sync_action, and dev-*/state of every member ("in_sync", "faulty", "spare", comma lists).
struct MdArray {
  std::string name;  // md0
  std::string level, array_state, sync_action;
  std::optional<std::uint64_t> raid_disks, degraded;
  std::uint64_t members_in_sync = 0, members_faulty = 0, members_spare = 0, members_other = 0;
};
std::vector<MdArray> readMdArrays(const std::filesystem::path& sys_block);

}  // namespace foreshock
