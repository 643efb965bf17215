// Fuzzes the ethtool generic-netlink reply parsers (link modes, standard statistics groups,
// FEC statistics, module EEPROM, family resolution) and the ETHTOOL_GSTRINGS buffer parser.
#include <cstddef>
#include <cstdint>
#include <span>

#include "collectors/netdev/netlink_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace foreshock::netdev;
  std::span<const std::uint8_t> bytes(data, size);
  (void)parseLinkModesReply(bytes);
  if (auto st = parseStatsReply(bytes); st.ok()) {
    for (const auto& [id, v] : st->mac) (void)standardStatName(1, id), (void)v;
  }
  (void)parseFecReply(bytes);
  (void)parseModuleEepromReply(bytes);
  (void)parseFamilyReply(bytes);
  if (size > 0) (void)parseGstrings(bytes.subspan(1), data[0]);
  return 0;
}
