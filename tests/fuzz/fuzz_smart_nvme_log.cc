// Fuzzes the NVMe SMART/Health log page and Identify Controller decoders of the smart
// collector, and checks that decode(encode(decode(x))) is stable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "collectors/smart/nvme_log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> in(data, size);
  auto h = foreshock::smart::parseNvmeSmartLog(in);
  if (h.ok()) {
    auto page = foreshock::smart::encodeNvmeSmartLog(*h);
    auto again = foreshock::smart::parseNvmeSmartLog(page);
    if (!again.ok() || again->media_errors != h->media_errors ||
        again->critical_warning != h->critical_warning) {
      std::abort();
    }
    (void)foreshock::smart::nvmeReading({}, *h);
  }
  (void)foreshock::smart::parseNvmeIdentifyController(in);
  return 0;
}
