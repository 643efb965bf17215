// Fuzzes the LLDP and CDP decoders of the lldp collector (whole frames, bare LLDPDUs and bare
// CDP packets).
#include <cstddef>
#include <cstdint>
#include <span>

#include "collectors/lldp/lldp_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
  (void)foreshock::decodeDiscoveryFrame(bytes);
  (void)foreshock::decodeLldpdu(bytes);
  (void)foreshock::decodeCdp(bytes);
  return 0;
}
