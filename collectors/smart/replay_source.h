// The replay DeviceSource: reads saved SMART data instead of devices, for tests and support
// ("send me your dump"). Every file under replay_dir (recursively, symlinked folders
// followed) is one disk:
//   - an skdump --save blob (starts with the IDFY record) -> libatasmart's blob API;
//   - smartctl --json output (*.json with a "smartctl" object and a "device" object);
//   - a raw NVMe SMART/Health log page 02h (*.nvme, 512 bytes), optionally with the 4096-byte
//     Identify Controller data beside it as <same name>.nvme-id.
// Other files (skdump text, smartctl --scan output, nvme-cli JSON) are not disks and are
// skipped with one debug log line. The device label is the file's path relative to
// replay_dir, '/' replaced by '_', without the .json/.nvme extension.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "collectors/smart/device_source.h"

namespace foreshock::smart {

// Thread-safety: discover() from one thread; readSmart() concurrently for different disks
// (each call reads its own file).
std::shared_ptr<DeviceSource> makeReplaySource(std::filesystem::path dir, std::string component);

}  // namespace foreshock::smart
