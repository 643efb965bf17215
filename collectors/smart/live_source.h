// The live DeviceSource: disks from <sysfs>/block (plus disks listed in the config), read
// through libatasmart (ATA), the NVMe admin ioctl (NVMe) or smartctl --json (everything else).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collectors/smart/device_source.h"
#include "core/clock.h"
#include "core/host_paths.h"

namespace foreshock::smart {

// A config `devices` entry: overrides the backend of a discovered disk, or adds a disk that
// sysfs does not show (RAID passthrough: node /dev/sda with smartctl type megaraid,N).
struct DeviceOverride {
  std::string device;         // label; matches a discovered kernel name or adds a new disk
  std::string backend;        // auto, ata, nvme, smartctl
  std::string smartctl_type;  // smartctl -d value
  std::string node;           // device node (relative to devfs, or absolute); default: device
};

struct LiveOptions {
  std::string smartctl_path = "smartctl";
  Duration smartctl_timeout = std::chrono::seconds(30);
  Duration nvme_timeout = std::chrono::seconds(10);
  std::vector<DeviceOverride> devices;
};

// Maps an errno from opening/commanding a device to a reason label and, for privilege errors,
// the capability the agent lacks.
struct ErrnoReason {
  std::string reason;
  std::string capability;
};
ErrnoReason reasonForErrno(int err, Backend backend);

// Thread-safety: discover() from one thread; checkPower()/readSmart() concurrently for different
// disks (each call opens its own file descriptor / libatasmart handle / child process).
std::shared_ptr<DeviceSource> makeLiveSource(HostPaths paths, LiveOptions options);

}  // namespace foreshock::smart
