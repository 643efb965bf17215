// Fuzzes the history state-file parser. The input is parsed as a whole file and, so that
// mutations reach past the checksum, also as a payload wrapped in a valid envelope.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "health/history.h"

namespace {
void put(std::string& s, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)foreshock::HistoryStore::parse(in);
  std::string file("FSHIST\n\0", 8);
  put(file, 1, 4);
  put(file, size, 8);
  file.append(in);
  put(file, crc32(0L, data, static_cast<uInt>(size)), 4);
  auto parsed = foreshock::HistoryStore::parse(file);
  if (parsed) {
    // A parsed store must serialise and parse back.
    auto again = foreshock::HistoryStore::parse(parsed->serialize());
    if (!again) __builtin_trap();
    (void)again->pointCount();
  }
  return 0;
}
