// ATA SMART through libatasmart: the skdump --save blob format (replay) and an open SkDisk
// (live device or blob) to a SmartReading.
//
// Blob format (libatasmart's sk_disk_get_blob): a sequence of records, each a 4-byte tag, a
// 4-byte big-endian payload length and the payload. Tags: IDFY (IDENTIFY DEVICE, 512 bytes),
// SMST (SMART RETURN STATUS verdict, 4 bytes), SMDT (SMART READ DATA, 512), SMTH (SMART READ
// THRESHOLDS, 512). validateSkBlob checks that layout before libatasmart sees the bytes.
#pragma once

#include <cstdint>
#include <span>

#include "collectors/smart/smart_types.h"
#include "core/result.h"

extern "C" {
struct SkDisk;
}

namespace foreshock::smart {

struct SkBlobLayout {
  bool has_identify = false;
  bool has_status = false;
  bool has_data = false;
  bool has_thresholds = false;
};

// Pure check of the record layout: known tags only, each at most once, exact payload sizes,
// no trailing bytes, IDENTIFY present. Errors name the offset and the tag.
Result<SkBlobLayout> validateSkBlob(std::span<const std::uint8_t> blob);

// Loads a blob through libatasmart's blob API (sk_disk_open(NULL) + sk_disk_set_blob) and
// reads it like a live disk. Never touches a device.
Result<SmartReading> readAtaBlob(std::span<const std::uint8_t> blob);

// Reads identity, SMART verdict, attributes and the high-level values from an open disk.
// With `read_data` the SMART data is (re)read from the device first (live disks); blob disks
// already hold it. Thread-safety: one SkDisk per thread; distinct disks may be read in parallel.
Result<SmartReading> readSkDisk(SkDisk* d, bool read_data);

}  // namespace foreshock::smart
