// Where the smart collector's disks and readings come from: live devices (sysfs discovery plus
// libatasmart / NVMe ioctl / smartctl) or a replay directory. The engine (smart_engine.h) only
// talks to this interface, so unit tests drive it with a fake and can prove which commands a
// disk was sent.
#pragma once

#include <string>
#include <vector>

#include "collectors/smart/smart_types.h"

namespace foreshock::smart {

// How far a disk may be asleep before a read is skipped (smartd's -n, smartctl's --nocheck):
// kNever always reads; kSleep skips disks in SLEEP; kStandby skips SLEEP and STANDBY.
enum class PowerCheckMode { kNever, kSleep, kStandby };

// True when a disk in `state` must not be read under `mode`.
bool mustSkip(PowerCheckMode mode, PowerState state);

struct ReadOutcome {
  enum class Kind {
    kReading,  // `reading` holds fresh data
    kSkipped,  // the backend found the disk asleep and sent no SMART command
    kFailed    // `reason` (a label value) and `message` say why
  };
  Kind kind = Kind::kFailed;
  SmartReading reading;
  PowerState power = PowerState::kUnknown;
  std::string reason;              // e.g. permission_denied, open_failed, not_smart_capable
  std::string message;             // human text naming the device
  std::string missing_capability;  // e.g. CAP_SYS_RAWIO when the failure is a privilege
};

// Contract:
// - discover() lists the disks present now (whole disks only), sorted by device name.
// - checkPower() finds the power state WITHOUT waking the disk: it may send ATA CHECK POWER
//   MODE or read runtime-PM state, never a SMART command. kUnknown when it cannot tell.
// - readSmart() sends the SMART commands. With mode != kNever a backend that checks power
//   itself (smartctl --nocheck) must return kSkipped instead of waking the disk.
// - Errors are outcomes, never exceptions; every blocking call has its own bound.
// Thread-safety: checkPower() and readSmart() are called concurrently for different disks (never
// for the same disk at once); discover() is called from the collector thread only.
class DeviceSource {
 public:
  virtual ~DeviceSource() = default;
  virtual std::vector<DiskIdentity> discover() = 0;
  virtual PowerState checkPower(const DiskIdentity& disk) = 0;
  virtual ReadOutcome readSmart(const DiskIdentity& disk, PowerCheckMode mode) = 0;
};

}  // namespace foreshock::smart
