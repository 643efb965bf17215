// Fuzzes the /dev/kmsg path of the kernel collector: the stream splitter, the record parser,
// every matcher (through the classifier, on kernel and user facilities) and the AER sysfs
// parser, with the bounded tally counting what they return.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collectors/kernel/kmsg_parse.h"
#include "collectors/kernel/kmsg_stream.h"
#include "collectors/kernel/sysfs_counters.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  foreshock::KmsgStream stream(4096);
  foreshock::KernelEventTally tally(8);
  auto on_record = [&](std::string_view bytes) {
    auto r = foreshock::parseKmsgRecord(bytes);
    if (r) {
      tally.addRecord(*r);
    } else {
      tally.addMalformed();
    }
  };
  // Split into chunks at arbitrary points, as a FIFO may deliver them.
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  stream.feed(text.substr(0, cut), on_record);
  stream.feed(text.substr(cut), on_record);
  stream.flush(on_record);
  (void)foreshock::classifyKernelMessage(text);
  (void)foreshock::parseAerStats(text);
  return 0;
}
