// Fuzzes the smart collector's JSON reader and the smartctl --json report parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collectors/smart/json_reader.h"
#include "collectors/smart/smartctl_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)foreshock::smart::parseJson(text);
  (void)foreshock::smart::parseSmartctlJson(text);
  return 0;
}
