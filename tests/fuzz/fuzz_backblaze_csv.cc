// Fuzzes the Backblaze CSV parser of `foreshock replay` and the replay of what it accepts.
// Seeds (corpus/backblaze_csv/) are a few rows of tests/fixtures/data/backblaze/ (Backblaze Drive
// Stats; see SOURCES.md there for the attribution).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/file_util.h"
#include "health/backblaze.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  foreshock::BackblazeData parsed;
  foreshock::BackblazeParser parser("fuzz.csv", &parsed);
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!parser.line(line)) return 0;
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  if (parsed.rows.size() < 2000) (void)foreshock::replay(parsed, {});
  return 0;
}
