// Pure parsers for the netlink messages the netdev collector reads: rtnetlink link messages
// (RTM_NEWLINK / RTM_DELLINK, from the RTM_GETLINK dump and from RTNLGRP_LINK events) and the
// ethtool generic-netlink replies (link modes, standard statistics groups, FEC statistics,
// module EEPROM pages), plus the SIOCETHTOOL string/stat buffers of driver-private counters.
//
// Contract: every function takes the bytes of ONE netlink message (header included) or one ioctl
// buffer, never trusts a length field, and returns a typed value or an Error naming what is
// malformed. They do no I/O, keep no state and are safe to call from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace foreshock::netdev {

// struct rtnl_link_stats64 (IFLA_STATS64), field for field. rx_nohandler and
// rx_otherhost_dropped only exist on newer kernels: the has_ flags say whether the kernel sent
// them (an old kernel sends a shorter struct).
struct LinkStats {
  std::uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0;
  std::uint64_t rx_errors = 0, tx_errors = 0, rx_dropped = 0, tx_dropped = 0;
  std::uint64_t multicast = 0, collisions = 0;
  std::uint64_t rx_length_errors = 0, rx_over_errors = 0, rx_crc_errors = 0;
  std::uint64_t rx_frame_errors = 0, rx_fifo_errors = 0, rx_missed_errors = 0;
  std::uint64_t tx_aborted_errors = 0, tx_carrier_errors = 0, tx_fifo_errors = 0;
  std::uint64_t tx_heartbeat_errors = 0, tx_window_errors = 0;
  std::uint64_t rx_compressed = 0, tx_compressed = 0;
  std::uint64_t rx_nohandler = 0, rx_otherhost_dropped = 0;
  bool has_nohandler = false, has_otherhost_dropped = false;
};

// One link as rtnetlink describes it. Optional fields are absent when the kernel did not send
// the attribute (older kernels, or link types without it).
struct LinkMessage {
  bool deleted = false;  // RTM_DELLINK
  std::int32_t ifindex = 0;
  std::uint32_t flags = 0;      // IFF_*
  std::uint16_t link_type = 0;  // ARPHRD_*
  std::string name;
  std::string kind;   // IFLA_INFO_KIND ("veth", "bridge", "bond", "vlan", ...); empty if none
  std::string alias;  // IFLA_IFALIAS
  std::string mac;    // IFLA_ADDRESS as aa:bb:..; empty if none
  std::string permanent_mac;  // IFLA_PERM_ADDRESS
  std::string parent_dev;     // IFLA_PARENT_DEV_NAME (bus address, e.g. 0000:03:00.0)
  std::string parent_bus;     // IFLA_PARENT_DEV_BUS_NAME (e.g. pci)
  std::optional<std::uint32_t> mtu;
  std::optional<std::uint8_t> operstate;  // IF_OPER_* (RFC 2863)
  std::optional<bool> carrier;
  std::optional<std::uint32_t> carrier_changes, carrier_up_count, carrier_down_count;
  std::optional<std::uint32_t> master;  // ifindex of the bond/bridge this link is enslaved to
  std::optional<LinkStats> stats;

  bool adminUp() const;  // IFF_UP
};

// Parses one RTM_NEWLINK/RTM_DELLINK message.
Result<LinkMessage> parseLinkMessage(std::span<const std::uint8_t> msg);

// --- ethtool generic netlink -------------------------------------------------------------

// The device an ethtool reply is about (ETHTOOL_A_*_HEADER).
struct EthtoolDevice {
  std::uint32_t ifindex = 0;
  std::string name;
};

// ETHTOOL_MSG_LINKMODES_GET reply.
struct LinkModes {
  EthtoolDevice dev;
  std::optional<std::uint32_t> speed_mbps;  // absent when SPEED_UNKNOWN (no link)
  std::optional<bool> full_duplex;          // absent when DUPLEX_UNKNOWN
  std::optional<bool> autoneg;
  std::optional<std::uint32_t> lanes;
};
Result<LinkModes> parseLinkModesReply(std::span<const std::uint8_t> msg);

// One RMON frame-size histogram bucket: frames of low..high octets (high 0 = no upper bound).
struct RmonBucket {
  std::uint32_t low = 0, high = 0;
  std::uint64_t frames = 0;
};

// ETHTOOL_MSG_STATS_GET reply: the standard groups the driver filled in. The maps hold the
// kernel's attribute id of each counter (ETHTOOL_A_STATS_ETH_MAC_6_FCS_ERR, ...) to its value;
// counters the driver does not report are absent, not zero.
struct StandardStats {
  EthtoolDevice dev;
  std::map<std::uint32_t, std::uint64_t> phy, mac, ctrl, rmon;
  std::vector<RmonBucket> rmon_rx, rmon_tx;
};
Result<StandardStats> parseStatsReply(std::span<const std::uint8_t> msg);

// The IEEE 802.3 / RFC 2819 name of a standard counter (e.g. group ETHTOOL_STATS_ETH_MAC,
// id 4 -> "FrameCheckSequenceErrors"); empty for an id this build does not know.
std::string standardStatName(std::uint32_t group, std::uint32_t id);

// ETHTOOL_MSG_FEC_GET reply (requested with ETHTOOL_FLAG_STATS). Each counter is the total
// over all lanes (the first element of the kernel's per-lane array).
struct FecStats {
  EthtoolDevice dev;
  std::optional<std::uint32_t> active_mode;  // ETHTOOL_LINK_MODE_FEC_*_BIT
  std::optional<std::uint64_t> corrected_blocks, uncorrectable_blocks, corrected_bits;
};
Result<FecStats> parseFecReply(std::span<const std::uint8_t> msg);

// ETHTOOL_MSG_MODULE_EEPROM_GET reply: the page bytes.
Result<std::vector<std::uint8_t>> parseModuleEepromReply(std::span<const std::uint8_t> msg);

// A netlink error message (NLMSG_ERROR): the errno (positive, 0 for an ACK) and the extended
// ack text when the kernel sent one.
struct NetlinkError {
  int error = 0;
  std::string message;
};
Result<NetlinkError> parseErrorMessage(std::span<const std::uint8_t> msg);

// CTRL_CMD_GETFAMILY reply: the family id.
Result<std::uint16_t> parseFamilyReply(std::span<const std::uint8_t> msg);

// --- SIOCETHTOOL buffers (driver-private ethtool -S counters) ------------------------------

// The data of an ETHTOOL_GSTRINGS reply (`count` names of ETH_GSTRING_LEN bytes, each
// NUL-padded) as strings.
Result<std::vector<std::string>> parseGstrings(std::span<const std::uint8_t> data,
                                               std::uint32_t count);

}  // namespace foreshock::netdev
