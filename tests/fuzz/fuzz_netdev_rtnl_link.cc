// Fuzzes the rtnetlink link message parser (RTM_NEWLINK/RTM_DELLINK from dumps and events) and
// the netlink error/ack parser of the netdev collector.
#include <cstddef>
#include <cstdint>
#include <span>

#include "collectors/netdev/netlink_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
  (void)foreshock::netdev::parseLinkMessage(bytes);
  (void)foreshock::netdev::parseErrorMessage(bytes);
  return 0;
}
