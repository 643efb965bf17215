// Fuzzes the prober's reply parsers: ICMP echo replies (IPv4 with and without the IP header,
// IPv6), echo requests quoted by ICMP errors, neighbor advertisements, and ARP.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "collectors/probe/probe_packets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
  (void)foreshock::parseEchoReply(AF_INET, bytes, true);
  (void)foreshock::parseEchoReply(AF_INET, bytes, false);
  (void)foreshock::parseEchoReply(AF_INET6, bytes, false);
  (void)foreshock::parseQuotedEchoRequest(AF_INET, bytes);
  (void)foreshock::parseQuotedEchoRequest(AF_INET6, bytes);
  (void)foreshock::parseNeighborAdvert(bytes);
  (void)foreshock::parseArp(bytes);
  return 0;
}
