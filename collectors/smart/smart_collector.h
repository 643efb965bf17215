// The `smart` collector: every disk's SMART health, identity and error counters (ATA through
// libatasmart, NVMe through the native admin ioctl, SCSI/SAS/RAID through smartctl --json),
// never waking a sleeping disk, and never letting a failing disk vanish from the metrics.
#pragma once

#include "collectors/collector.h"

namespace foreshock {

CollectorInfo smartCollectorInfo();

}  // namespace foreshock
