// Fuzzes the skdump --save blob reader: the layout check, then (for blobs it accepts)
// libatasmart's blob API and the reading built from it.
#include <cstddef>
#include <cstdint>
#include <span>

#include "collectors/smart/ata_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> in(data, size);
  (void)foreshock::smart::validateSkBlob(in);
  (void)foreshock::smart::readAtaBlob(in);
  return 0;
}
