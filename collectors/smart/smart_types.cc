#include "collectors/smart/smart_types.h"

#include <string_view>

namespace foreshock::smart {

const char* backendName(Backend b) {
  switch (b) {
    case Backend::kAta: return "ata";
    case Backend::kNvme: return "nvme";
    case Backend::kSmartctl: return "smartctl";
  }
  return "unknown";
}

const char* powerStateName(PowerState s) {
  switch (s) {
    case PowerState::kActive: return "active";
    case PowerState::kIdle: return "idle";
    case PowerState::kStandby: return "standby";
    case PowerState::kSleep: return "sleep";
    case PowerState::kUnknown: return "unknown";
  }
  return "unknown";
}

void deriveAtaCounters(SmartReading& r) {
  for (const auto& a : r.attributes) {
    switch (a.id) {
      case 5: r.reallocated_sectors = a.raw; break;
      case 187: r.reported_uncorrectable = a.raw; break;
      case 197: r.pending_sectors = a.raw; break;
      case 198: r.offline_uncorrectable = a.raw; break;
      case 199: r.crc_errors = a.raw; break;
      default: break;
    }
  }
}

bool isPackedRaw(std::string_view model, std::uint8_t id) {
  if (id != 1 && id != 7 && id != 188 && id != 195) return false;
  // Seagate ATA model numbers are "ST" followed by the capacity digits (ST4000DM000,
  // ST9100821AS); some tools prefix the vendor name.
  if (model.starts_with("Seagate") || model.starts_with("SEAGATE")) return true;
  return model.size() > 2 && model[0] == 'S' && model[1] == 'T' && model[2] >= '0' &&
         model[2] <= '9';
}

}  // namespace foreshock::smart
