// NVMe admin data decoders (NVM Express Base Specification 2.0, sections 5.16.1.3 and 5.17.2.1):
// the SMART / Health Information log page (log identifier 02h, 512 bytes) and the model,
// serial and firmware strings of the Identify Controller data structure (CNS 01h, 4096 bytes).
// Pure: bytes in, typed result out; the ioctl that fetches them is in live_source.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "collectors/smart/smart_types.h"
#include "core/result.h"

namespace foreshock::smart {

inline constexpr std::size_t kNvmeSmartLogSize = 512;
inline constexpr std::size_t kNvmeIdentifySize = 4096;

// Critical warning bits (byte 0 of the log page), in bit order, as label values.
inline constexpr std::array<const char*, 6> kNvmeCriticalWarningBits = {
    "available_spare",    // bit 0: available spare below threshold
    "temperature",        // bit 1: temperature above over- or below under-temperature threshold
    "reliability",        // bit 2: NVM subsystem reliability degraded (media/internal errors)
    "read_only",          // bit 3: media placed in read-only mode
    "volatile_backup",    // bit 4: volatile memory backup device failed
    "persistent_memory",  // bit 5: persistent memory region read-only or unreliable
};

// Decodes a log page 02h. The buffer must hold at least 512 bytes (longer is accepted and the
// rest ignored, as some tools save 4 KiB transfers); errors name the size found.
Result<NvmeHealth> parseNvmeSmartLog(std::span<const std::uint8_t> page);

// Encodes `h` in the spec's layout (the inverse of parseNvmeSmartLog, for tests and tools).
std::array<std::uint8_t, kNvmeSmartLogSize> encodeNvmeSmartLog(const NvmeHealth& h);

struct NvmeIdentity {
  std::string model;     // MN, bytes 24..63
  std::string serial;    // SN, bytes 4..23
  std::string firmware;  // FR, bytes 64..71
};
Result<NvmeIdentity> parseNvmeIdentifyController(std::span<const std::uint8_t> data);

// The reading the native NVMe backend produces from an identify + health log.
SmartReading nvmeReading(const NvmeIdentity& id, const NvmeHealth& h);

}  // namespace foreshock::smart
