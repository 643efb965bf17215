// Pure decoders for link-layer discovery frames: LLDP (IEEE 802.1AB, ethertype 0x88cc) and,
// as a fallback source, CDP (Cisco, 802.3 length frame with an LLC/SNAP header). Bytes in,
// a typed neighbour (or an Error naming the offending TLV and offset) out. No I/O here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace foreshock {

// One management address TLV (LLDP type 8) or one CDP address.
struct LldpManagementAddress {
  // IANA address family numbers: 1 = IPv4, 2 = IPv6; anything else is kept as hex.
  std::uint8_t family = 0;
  std::string address;  // "10.0.0.1", "fe80::1", or hex for other families
  std::uint8_t interface_subtype = 0;
  std::uint32_t interface_number = 0;
};

struct LldpVlanName {
  std::uint16_t vid = 0;
  std::string name;
};

// 802.3 MAC/PHY configuration/status (OUI 00-12-0f, subtype 1).
struct LldpMacPhy {
  bool autoneg_supported = false;
  bool autoneg_enabled = false;
  std::uint16_t pmd_advertised = 0;
  std::uint16_t mau_type = 0;
};

// 802.3 (subtype 3) or 802.1 (subtype 7) link aggregation.
struct LldpLinkAggregation {
  bool capable = false;
  bool enabled = false;
  std::uint32_t port_id = 0;
};

struct LldpUnknownTlv {
  std::uint8_t type = 0;
  std::uint32_t oui = 0;  // for org-specific TLVs (type 127)
  std::uint8_t subtype = 0;
  std::size_t length = 0;
};

// What one discovery frame says about the neighbour that sent it.
struct LldpNeighbor {
  std::string protocol = "lldp";  // "lldp" or "cdp"
  std::string source_mac;         // "aa:bb:cc:dd:ee:ff" from the Ethernet header
  std::uint8_t chassis_id_subtype = 0;
  std::string chassis_id;  // formatted by subtype (MAC as aa:bb:.., network address as IP)
  std::uint8_t port_id_subtype = 0;
  std::string port_id;
  // Seconds the information stays valid. 0 means the neighbour is shutting down and the
  // entry must be removed at once (802.1AB "shutdown LLDPDU").
  std::uint16_t ttl_seconds = 0;
  std::string port_description;
  std::string system_name;
  std::string system_description;
  std::optional<std::uint16_t> capabilities_supported;
  std::optional<std::uint16_t> capabilities_enabled;
  std::vector<LldpManagementAddress> management_addresses;
  std::optional<std::uint16_t> port_vlan_id;            // 802.1 subtype 1
  std::vector<LldpVlanName> vlan_names;                 // 802.1 subtype 3
  std::optional<LldpMacPhy> mac_phy;                    // 802.3 subtype 1
  std::optional<LldpLinkAggregation> link_aggregation;  // 802.3 subtype 3 / 802.1 subtype 7
  std::optional<std::uint16_t> max_frame_size;          // 802.3 subtype 4
  std::string platform;                                 // CDP platform TLV
  std::vector<LldpUnknownTlv> unknown_tlvs;             // kept for debugging, not exported
};

// Decodes an LLDPDU (the bytes after the Ethernet header). The mandatory TLVs must come
// first and in order (chassis id, port id, TTL); every TLV must fit in the buffer. Bytes
// after the End TLV (Ethernet padding) are ignored; a missing End TLV is tolerated when the
// last TLV ends exactly at the end of the buffer.
Result<LldpNeighbor> decodeLldpdu(std::span<const std::uint8_t> pdu);

// Decodes a CDP packet (the bytes after the LLC/SNAP header): version, TTL, checksum, TLVs.
// Device ID becomes chassis id and system name, Port ID the port id, Software Version the
// system description, Addresses the management addresses.
Result<LldpNeighbor> decodeCdp(std::span<const std::uint8_t> pdu);

// Decodes a whole Ethernet frame as captured from an AF_PACKET socket: an LLDP frame
// (ethertype 0x88cc, optionally behind one 802.1Q tag) or a CDP frame (802.3 length field,
// LLC AA-AA-03, SNAP OUI 00-00-0C, protocol 0x2000). Anything else is an error.
Result<LldpNeighbor> decodeDiscoveryFrame(std::span<const std::uint8_t> frame);

// "bridge,router" style list of the capability bits set in `caps` (802.1AB names).
std::string lldpCapabilityNames(std::uint16_t caps);

}  // namespace foreshock
