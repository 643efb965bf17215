// Fuzzes the SFF-8472 and SFF-8636 module EEPROM decoders. The input is split into the pages
// the collector reads: the first byte chooses where the first page ends.
#include <cstddef>
#include <cstdint>
#include <span>

#include "collectors/netdev/sff.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace foreshock::netdev;
  if (size < 1) return 0;
  std::span<const std::uint8_t> rest(data + 1, size - 1);
  const std::size_t cut = std::min<std::size_t>(rest.size(), std::size_t{data[0]} + 1);
  auto first = rest.first(cut);
  auto second = rest.subspan(cut);
  (void)decodeSff8472(first, second);
  const std::size_t cut2 = second.size() / 2;
  (void)decodeSff8636(first, second.first(cut2), second.subspan(cut2));
  (void)sff8636FlatMemory(first);
  return 0;
}
