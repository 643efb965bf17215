#include "collectors/netdev/netlink_parse.h"

#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstddef>
#include <cstring>

namespace foreshock::netdev {

namespace {

// A netlink message copied to 4-byte aligned storage when needed (libmnl reads headers through
// struct pointers), with its declared length checked against the bytes actually present.
class Message {
 public:
  static Result<Message> make(std::span<const std::uint8_t> bytes, std::size_t family_header,
                              const char* what) {
    Message m;
    if (bytes.size() < NLMSG_HDRLEN) {
      return makeError(std::string(what) + ": message of " + std::to_string(bytes.size()) +
                       " bytes is shorter than a netlink header");
    }
    const std::uint8_t* base = bytes.data();
    if (reinterpret_cast<std::uintptr_t>(base) % alignof(nlmsghdr) != 0) {
      m.storage_.resize((bytes.size() + 3) / 4);
      std::memcpy(m.storage_.data(), bytes.data(), bytes.size());
      base = reinterpret_cast<const std::uint8_t*>(m.storage_.data());
    }
    m.nlh_ = reinterpret_cast<const nlmsghdr*>(base);
    if (m.nlh_->nlmsg_len < NLMSG_HDRLEN || m.nlh_->nlmsg_len > bytes.size()) {
      return makeError(std::string(what) + ": netlink length " + std::to_string(m.nlh_->nlmsg_len) +
                       " does not fit the " + std::to_string(bytes.size()) + " bytes received");
    }
    if (m.nlh_->nlmsg_len < NLMSG_HDRLEN + MNL_ALIGN(family_header)) {
      return makeError(std::string(what) + ": message too short for its family header");
    }
    m.offset_ = MNL_ALIGN(family_header);
    return m;
  }
  const nlmsghdr* nlh() const { return nlh_; }
  std::size_t offset() const { return offset_; }

 private:
  std::vector<std::uint32_t> storage_;
  const nlmsghdr* nlh_ = nullptr;
  std::size_t offset_ = 0;
};

// Range over the attributes of a message or a nest. libmnl's mnl_attr_for_each macros rely on
// C's implicit void* conversion, so this is the C++ spelling of the same bounds-checked walk
// (mnl_attr_ok rejects an attribute whose length runs past the end).
class AttrRange {
 public:
  class Iter {
   public:
    Iter(const nlattr* a, const char* tail) : a_(a), tail_(tail) { check(); }
    const nlattr* operator*() const { return a_; }
    Iter& operator++() {
      a_ = mnl_attr_next(a_);
      check();
      return *this;
    }
    bool operator!=(const Iter& o) const { return a_ != o.a_; }

   private:
    void check() {
      if (a_ != nullptr &&
          !mnl_attr_ok(a_, static_cast<int>(tail_ - reinterpret_cast<const char*>(a_)))) {
        a_ = nullptr;
      }
    }
    const nlattr* a_;
    const char* tail_;
  };
  AttrRange(const void* start, const void* tail)
      : start_(static_cast<const nlattr*>(start)), tail_(static_cast<const char*>(tail)) {}
  Iter begin() const {
    if (reinterpret_cast<const char*>(start_) > tail_) return end();
    return Iter(start_, tail_);
  }
  Iter end() const { return Iter(nullptr, tail_); }

 private:
  const nlattr* start_;
  const char* tail_;
};

AttrRange attrs(const nlmsghdr* nlh, std::size_t offset) {
  // The end is nlmsg_len itself, not libmnl's payload tail (which rounds nlmsg_len up to 4 and
  // so may lie past the bytes actually received).
  return AttrRange(mnl_nlmsg_get_payload_offset(nlh, offset),
                   reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len);
}
AttrRange nested(const nlattr* nest) {
  return AttrRange(
      mnl_attr_get_payload(nest),
      static_cast<const char*>(mnl_attr_get_payload(nest)) + mnl_attr_get_payload_len(nest));
}

std::size_t payloadLen(const nlattr* a) {
  return mnl_attr_get_payload_len(a);
}

std::optional<std::uint32_t> u32(const nlattr* a) {
  if (payloadLen(a) < 4) return std::nullopt;
  std::uint32_t v;
  std::memcpy(&v, mnl_attr_get_payload(a), 4);
  return v;
}
std::optional<std::uint8_t> u8(const nlattr* a) {
  if (payloadLen(a) < 1) return std::nullopt;
  return *static_cast<const std::uint8_t*>(mnl_attr_get_payload(a));
}
std::optional<std::uint64_t> u64(const nlattr* a) {
  if (payloadLen(a) < 8) return std::nullopt;
  std::uint64_t v;
  std::memcpy(&v, mnl_attr_get_payload(a), 8);
  return v;
}
std::string str(const nlattr* a) {
  const char* p = static_cast<const char*>(mnl_attr_get_payload(a));
  return std::string(p, strnlen(p, payloadLen(a)));
}
std::string hwaddr(const nlattr* a) {
  static const char* kHex = "0123456789abcdef";
  const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(a));
  std::size_t n = payloadLen(a);
  std::string out;
  out.reserve(n * 3);
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) out.push_back(':');
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 0xf]);
  }
  return out;
}

Status parseHeaderNest(const nlattr* nest, EthtoolDevice& dev) {
  for (const nlattr* a : nested(nest)) {
    switch (mnl_attr_get_type(a)) {
      case ETHTOOL_A_HEADER_DEV_INDEX:
        if (auto v = u32(a)) dev.ifindex = *v;
        break;
      case ETHTOOL_A_HEADER_DEV_NAME: dev.name = str(a); break;
      default: break;
    }
  }
  if (dev.ifindex == 0) return makeError("ethtool reply header has no device index");
  return Status::Ok();
}

Result<Message> genlMessage(std::span<const std::uint8_t> bytes, const char* what) {
  return Message::make(bytes, sizeof(genlmsghdr), what);
}

}  // namespace

bool LinkMessage::adminUp() const {
  return (flags & IFF_UP) != 0;
}

Result<LinkMessage> parseLinkMessage(std::span<const std::uint8_t> bytes) {
  auto msg = Message::make(bytes, sizeof(ifinfomsg), "rtnetlink link message");
  if (!msg) return msg.error();
  const nlmsghdr* nlh = msg->nlh();
  if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) {
    return makeError("rtnetlink link message: unexpected type " + std::to_string(nlh->nlmsg_type));
  }
  LinkMessage link;
  link.deleted = nlh->nlmsg_type == RTM_DELLINK;
  ifinfomsg ifi;
  std::memcpy(&ifi, mnl_nlmsg_get_payload(nlh), sizeof(ifi));
  link.ifindex = ifi.ifi_index;
  link.flags = ifi.ifi_flags;
  link.link_type = ifi.ifi_type;
  if (link.ifindex <= 0) return makeError("rtnetlink link message: invalid ifindex");

  for (const nlattr* a : attrs(nlh, msg->offset())) {
    switch (mnl_attr_get_type(a)) {
      case IFLA_IFNAME: link.name = str(a); break;
      case IFLA_IFALIAS: link.alias = str(a); break;
      case IFLA_ADDRESS: link.mac = hwaddr(a); break;
      case IFLA_PERM_ADDRESS: link.permanent_mac = hwaddr(a); break;
      case IFLA_PARENT_DEV_NAME: link.parent_dev = str(a); break;
      case IFLA_PARENT_DEV_BUS_NAME: link.parent_bus = str(a); break;
      case IFLA_MTU: link.mtu = u32(a); break;
      case IFLA_OPERSTATE: link.operstate = u8(a); break;
      case IFLA_CARRIER:
        if (auto v = u8(a)) link.carrier = *v != 0;
        break;
      case IFLA_CARRIER_CHANGES: link.carrier_changes = u32(a); break;
      case IFLA_CARRIER_UP_COUNT: link.carrier_up_count = u32(a); break;
      case IFLA_CARRIER_DOWN_COUNT: link.carrier_down_count = u32(a); break;
      case IFLA_MASTER: link.master = u32(a); break;
      case IFLA_LINKINFO: {
        for (const nlattr* li : nested(a)) {
          if (mnl_attr_get_type(li) == IFLA_INFO_KIND) link.kind = str(li);
        }
        break;
      }
      case IFLA_STATS64: {
        // Copy what the kernel sent into a zeroed struct: an older kernel sends a shorter one.
        rtnl_link_stats64 s;
        std::memset(&s, 0, sizeof(s));
        std::size_t n = std::min<std::size_t>(payloadLen(a), sizeof(s));
        if (n < offsetof(rtnl_link_stats64, rx_compressed)) {
          return makeError("rtnetlink link message for " +
                           (link.name.empty() ? std::to_string(link.ifindex) : link.name) +
                           ": IFLA_STATS64 of " + std::to_string(payloadLen(a)) +
                           " bytes is too short");
        }
        std::memcpy(&s, mnl_attr_get_payload(a), n);
        LinkStats st;
        st.rx_packets = s.rx_packets;
        st.tx_packets = s.tx_packets;
        st.rx_bytes = s.rx_bytes;
        st.tx_bytes = s.tx_bytes;
        st.rx_errors = s.rx_errors;
        st.tx_errors = s.tx_errors;
        st.rx_dropped = s.rx_dropped;
        st.tx_dropped = s.tx_dropped;
        st.multicast = s.multicast;
        st.collisions = s.collisions;
        st.rx_length_errors = s.rx_length_errors;
        st.rx_over_errors = s.rx_over_errors;
        st.rx_crc_errors = s.rx_crc_errors;
        st.rx_frame_errors = s.rx_frame_errors;
        st.rx_fifo_errors = s.rx_fifo_errors;
        st.rx_missed_errors = s.rx_missed_errors;
        st.tx_aborted_errors = s.tx_aborted_errors;
        st.tx_carrier_errors = s.tx_carrier_errors;
        st.tx_fifo_errors = s.tx_fifo_errors;
        st.tx_heartbeat_errors = s.tx_heartbeat_errors;
        st.tx_window_errors = s.tx_window_errors;
        st.rx_compressed = s.rx_compressed;
        st.tx_compressed = s.tx_compressed;
        st.rx_nohandler = s.rx_nohandler;
        st.rx_otherhost_dropped = s.rx_otherhost_dropped;
        st.has_nohandler = n >= offsetof(rtnl_link_stats64, rx_nohandler) + 8;
        st.has_otherhost_dropped = n >= offsetof(rtnl_link_stats64, rx_otherhost_dropped) + 8;
        link.stats = st;
        break;
      }
      default: break;
    }
  }
  if (link.name.empty()) {
    return makeError("rtnetlink link message for ifindex " + std::to_string(link.ifindex) +
                     " has no IFLA_IFNAME");
  }
  return link;
}

Result<LinkModes> parseLinkModesReply(std::span<const std::uint8_t> bytes) {
  auto msg = genlMessage(bytes, "ethtool link modes reply");
  if (!msg) return msg.error();
  LinkModes lm;
  bool have_header = false;
  for (const nlattr* a : attrs(msg->nlh(), msg->offset())) {
    switch (mnl_attr_get_type(a)) {
      case ETHTOOL_A_LINKMODES_HEADER:
        if (auto st = parseHeaderNest(a, lm.dev); !st) return st.error();
        have_header = true;
        break;
      case ETHTOOL_A_LINKMODES_SPEED:
        if (auto v = u32(a); v && *v != static_cast<std::uint32_t>(SPEED_UNKNOWN) && *v != 0) {
          lm.speed_mbps = *v;
        }
        break;
      case ETHTOOL_A_LINKMODES_DUPLEX:
        if (auto v = u8(a); v && (*v == DUPLEX_FULL || *v == DUPLEX_HALF)) {
          lm.full_duplex = *v == DUPLEX_FULL;
        }
        break;
      case ETHTOOL_A_LINKMODES_AUTONEG:
        if (auto v = u8(a)) lm.autoneg = *v == AUTONEG_ENABLE;
        break;
      case ETHTOOL_A_LINKMODES_LANES:
        if (auto v = u32(a); v && *v != 0) lm.lanes = *v;
        break;
      default: break;
    }
  }
  if (!have_header) return makeError("ethtool link modes reply has no header");
  return lm;
}

namespace {

Status parseStatsGroup(const nlattr* grp, StandardStats& out) {
  std::optional<std::uint32_t> id;
  std::map<std::uint32_t, std::uint64_t> values;
  std::vector<RmonBucket> rx, tx;
  for (const nlattr* a : nested(grp)) {
    switch (mnl_attr_get_type(a)) {
      case ETHTOOL_A_STATS_GRP_ID: id = u32(a); break;
      case ETHTOOL_A_STATS_GRP_STAT: {
        // One counter per nest; the inner attribute type is the counter id (ids start at 0,
        // which is why the kernel wraps each one in its own nest).
        for (const nlattr* s : nested(a)) {
          auto v = u64(s);
          if (!v) return makeError("ethtool stats reply: counter with a short payload");
          values[mnl_attr_get_type(s)] = *v;
        }
        break;
      }
      case ETHTOOL_A_STATS_GRP_HIST_RX:
      case ETHTOOL_A_STATS_GRP_HIST_TX: {
        RmonBucket b;
        bool have_val = false;
        for (const nlattr* h : nested(a)) {
          switch (mnl_attr_get_type(h)) {
            case ETHTOOL_A_STATS_GRP_HIST_BKT_LOW: b.low = u32(h).value_or(0); break;
            case ETHTOOL_A_STATS_GRP_HIST_BKT_HI: b.high = u32(h).value_or(0); break;
            case ETHTOOL_A_STATS_GRP_HIST_VAL:
              if (auto v = u64(h)) {
                b.frames = *v;
                have_val = true;
              }
              break;
            default: break;
          }
        }
        if (!have_val) return makeError("ethtool stats reply: histogram bucket without a value");
        (mnl_attr_get_type(a) == ETHTOOL_A_STATS_GRP_HIST_RX ? rx : tx).push_back(b);
        break;
      }
      default: break;
    }
  }
  if (!id) return makeError("ethtool stats reply: statistics group without an id");
  switch (*id) {
    case ETHTOOL_STATS_ETH_PHY: out.phy.merge(values); break;
    case ETHTOOL_STATS_ETH_MAC: out.mac.merge(values); break;
    case ETHTOOL_STATS_ETH_CTRL: out.ctrl.merge(values); break;
    case ETHTOOL_STATS_RMON:
      out.rmon.merge(values);
      out.rmon_rx.insert(out.rmon_rx.end(), rx.begin(), rx.end());
      out.rmon_tx.insert(out.rmon_tx.end(), tx.begin(), tx.end());
      break;
    default: break;  // a group newer than this build: ignored
  }
  return Status::Ok();
}

}  // namespace

Result<StandardStats> parseStatsReply(std::span<const std::uint8_t> bytes) {
  auto msg = genlMessage(bytes, "ethtool stats reply");
  if (!msg) return msg.error();
  StandardStats st;
  bool have_header = false;
  for (const nlattr* a : attrs(msg->nlh(), msg->offset())) {
    switch (mnl_attr_get_type(a)) {
      case ETHTOOL_A_STATS_HEADER:
        if (auto s = parseHeaderNest(a, st.dev); !s) return s.error();
        have_header = true;
        break;
      case ETHTOOL_A_STATS_GRP:
        if (auto s = parseStatsGroup(a, st); !s) {
          return makeError(s.error().message +
                           (st.dev.name.empty() ? "" : " (" + st.dev.name + ")"));
        }
        break;
      default: break;
    }
  }
  if (!have_header) return makeError("ethtool stats reply has no header");
  return st;
}

std::string standardStatName(std::uint32_t group, std::uint32_t id) {
  // IEEE 802.3 clause 30 attribute names (without the leading 'a') and RFC 2819 names, in the
  // order of the kernel's ETHTOOL_A_STATS_* enums.
  static const char* const kPhy[] = {"SymbolErrorDuringCarrier"};
  static const char* const kMac[] = {"FramesTransmittedOK",
                                     "SingleCollisionFrames",
                                     "MultipleCollisionFrames",
                                     "FramesReceivedOK",
                                     "FrameCheckSequenceErrors",
                                     "AlignmentErrors",
                                     "OctetsTransmittedOK",
                                     "FramesWithDeferredXmissions",
                                     "LateCollisions",
                                     "FramesAbortedDueToXSColls",
                                     "FramesLostDueToIntMACXmitError",
                                     "CarrierSenseErrors",
                                     "OctetsReceivedOK",
                                     "FramesLostDueToIntMACRcvError",
                                     "MulticastFramesXmittedOK",
                                     "BroadcastFramesXmittedOK",
                                     "FramesWithExcessiveDeferral",
                                     "MulticastFramesReceivedOK",
                                     "BroadcastFramesReceivedOK",
                                     "InRangeLengthErrors",
                                     "OutOfRangeLengthField",
                                     "FrameTooLongErrors"};
  static const char* const kCtrl[] = {"MACControlFramesTransmitted", "MACControlFramesReceived",
                                      "UnsupportedOpcodesReceived"};
  static const char* const kRmon[] = {"etherStatsUndersizePkts", "etherStatsOversizePkts",
                                      "etherStatsFragments", "etherStatsJabbers"};
  auto pick = [id](const char* const* names, std::size_t n) -> std::string {
    return id < n ? names[id] : "";
  };
  switch (group) {
    case ETHTOOL_STATS_ETH_PHY: return pick(kPhy, std::size(kPhy));
    case ETHTOOL_STATS_ETH_MAC: return pick(kMac, std::size(kMac));
    case ETHTOOL_STATS_ETH_CTRL: return pick(kCtrl, std::size(kCtrl));
    case ETHTOOL_STATS_RMON: return pick(kRmon, std::size(kRmon));
    default: return "";
  }
}

Result<FecStats> parseFecReply(std::span<const std::uint8_t> bytes) {
  auto msg = genlMessage(bytes, "ethtool FEC reply");
  if (!msg) return msg.error();
  FecStats fec;
  bool have_header = false;
  for (const nlattr* a : attrs(msg->nlh(), msg->offset())) {
    switch (mnl_attr_get_type(a)) {
      case ETHTOOL_A_FEC_HEADER:
        if (auto s = parseHeaderNest(a, fec.dev); !s) return s.error();
        have_header = true;
        break;
      case ETHTOOL_A_FEC_ACTIVE: fec.active_mode = u32(a); break;
      case ETHTOOL_A_FEC_STATS: {
        // Each counter is an array of u64: the total, then one value per lane.
        for (const nlattr* s : nested(a)) {
          auto total = u64(s);
          switch (mnl_attr_get_type(s)) {
            case ETHTOOL_A_FEC_STAT_CORRECTED: fec.corrected_blocks = total; break;
            case ETHTOOL_A_FEC_STAT_UNCORR: fec.uncorrectable_blocks = total; break;
            case ETHTOOL_A_FEC_STAT_CORR_BITS: fec.corrected_bits = total; break;
            default: break;
          }
        }
        break;
      }
      default: break;
    }
  }
  if (!have_header) return makeError("ethtool FEC reply has no header");
  return fec;
}

Result<std::vector<std::uint8_t>> parseModuleEepromReply(std::span<const std::uint8_t> bytes) {
  auto msg = genlMessage(bytes, "ethtool module EEPROM reply");
  if (!msg) return msg.error();
  for (const nlattr* a : attrs(msg->nlh(), msg->offset())) {
    if (mnl_attr_get_type(a) == ETHTOOL_A_MODULE_EEPROM_DATA) {
      const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(a));
      return std::vector<std::uint8_t>(p, p + payloadLen(a));
    }
  }
  return makeError("ethtool module EEPROM reply has no data attribute");
}

Result<NetlinkError> parseErrorMessage(std::span<const std::uint8_t> bytes) {
  auto msg = Message::make(bytes, sizeof(nlmsgerr), "netlink error message");
  if (!msg) return msg.error();
  const nlmsghdr* nlh = msg->nlh();
  if (nlh->nlmsg_type != NLMSG_ERROR) return makeError("netlink error message: wrong type");
  nlmsgerr err;
  std::memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
  if (err.error > 0 || err.error < -4095) {
    return makeError("netlink error message: invalid error code " + std::to_string(err.error));
  }
  NetlinkError out;
  out.error = -err.error;
  // With NETLINK_EXT_ACK the kernel appends attributes after the echoed request header (or
  // the whole request when NLM_F_CAPPED is not set).
  if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) != 0) {
    std::size_t off = sizeof(nlmsgerr);
    if ((nlh->nlmsg_flags & NLM_F_CAPPED) == 0) off += err.msg.nlmsg_len - sizeof(nlmsghdr);
    off = MNL_ALIGN(off);
    if (off <= nlh->nlmsg_len - NLMSG_HDRLEN) {
      for (const nlattr* a : attrs(nlh, off)) {
        if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG) out.message = str(a);
      }
    }
  }
  return out;
}

Result<std::uint16_t> parseFamilyReply(std::span<const std::uint8_t> bytes) {
  auto msg = genlMessage(bytes, "generic netlink family reply");
  if (!msg) return msg.error();
  for (const nlattr* a : attrs(msg->nlh(), msg->offset())) {
    if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID && payloadLen(a) >= 2) {
      return mnl_attr_get_u16(a);
    }
  }
  return makeError("generic netlink family reply has no family id");
}

Result<std::vector<std::string>> parseGstrings(std::span<const std::uint8_t> data,
                                               std::uint32_t count) {
  if (static_cast<std::uint64_t>(count) * ETH_GSTRING_LEN > data.size()) {
    return makeError("ethtool strings: " + std::to_string(count) + " names need " +
                     std::to_string(static_cast<std::uint64_t>(count) * ETH_GSTRING_LEN) +
                     " bytes, got " + std::to_string(data.size()));
  }
  std::vector<std::string> out;
  out.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const char* p = reinterpret_cast<const char*>(data.data()) + std::size_t{i} * ETH_GSTRING_LEN;
    out.emplace_back(p, strnlen(p, ETH_GSTRING_LEN));
  }
  return out;
}

}  // namespace foreshock::netdev
