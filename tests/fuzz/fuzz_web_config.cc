// Fuzzes the parsers of untrusted web input: the Authorization header of every request and the
// exporter-toolkit web config file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "exporters/prometheus/web_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)foreshock::parseBasicAuthorization(text);
  (void)foreshock::parseWebConfig(text, "fuzz.yml", "/etc/foreshock");
  return 0;
}
