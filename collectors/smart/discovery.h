// Disk discovery from <sysfs>/block: whole disks only, with the identity sysfs offers (model,
// serial, firmware, WWN, capacity, rotational, transport, runtime-PM state). Cheap (a few small
// attribute reads per disk), so it runs every cycle and sees hot-plugged and removed disks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collectors/smart/smart_types.h"
#include "core/host_paths.h"

namespace foreshock::smart {

// False for block devices that are never SMART-capable disks: loop, ram, zram, device-mapper
// (dm-), md RAID, optical (sr), floppy (fd), network block devices (nbd), and the hidden
// per-path nodes of NVMe multipath (nvme0c1n1).
bool isCandidateDiskName(std::string_view name);

// Transport from the resolved sysfs device path (".../ata1/host0/...", ".../usb2/...").
std::string transportFromDevicePath(std::string_view resolved, std::string_view name);

// The serial number in a SCSI VPD page 80h (Unit Serial Number): 4-byte header, then ASCII.
std::string serialFromVpdPage80(std::string_view page);

// The backend a disk uses by default: NVMe namespaces the native ioctl, ATA/SATA (and USB
// bridges, which libatasmart drives through SAT) libatasmart, everything else smartctl.
Backend defaultBackend(std::string_view name, std::string_view transport);

// Lists whole disks under paths.sys("block"), sorted by name. Node paths use paths.dev().
// A disk whose attributes cannot be read still appears (with empty fields): absence of
// identity is never a reason to drop a disk.
std::vector<DiskIdentity> discoverDisks(const HostPaths& paths);

// Reads the identity of one block device directory (<sysfs>/block/<name>).
DiskIdentity readDiskIdentity(const HostPaths& paths, const std::string& name);

}  // namespace foreshock::smart
