// Fuzzes the Prometheus text exposition parser used by `foreshock check --from-metrics`, and
// the health engine's reading of whatever families it yields.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporters/prometheus/exposition_parse.h"
#include "health/engine.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = foreshock::parseExposition(text);
  if (parsed) {
    foreshock::HealthEngine engine;
    (void)engine.process(foreshock::observe(parsed->families, 1'700'000'000));
  }
  return 0;
}
