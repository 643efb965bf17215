// Fuzzes the /proc/<pid>/stat parser of the self collector.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collectors/self/self_collector.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)foreshock::parseProcStat(text);
  (void)foreshock::parseBootTime(text);
  (void)foreshock::parseMaxOpenFiles(text);
  return 0;
}
