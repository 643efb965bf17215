#include "collectors/netdev/netlink_io.h"

#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace foreshock::netdev {

namespace {

constexpr std::size_t kRecvBuffer = 64 * 1024;

std::string errnoText(int e) {
  return std::string(std::strerror(e));
}

}  // namespace

Result<std::unique_ptr<NetlinkSocket>> NetlinkSocket::open(int bus, std::vector<unsigned> groups,
                                                           Duration timeout, int rcvbuf) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, bus);
  if (fd < 0) return makeError("netlink socket: " + errnoText(errno));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  int one = 1;
  // Extended acks give the kernel's own explanation of a rejected request; capped acks keep the
  // request out of the error reply. Both are optional (older kernels ignore them).
  ::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  ::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    int e = errno;
    ::close(fd);
    return makeError("netlink bind: " + errnoText(e));
  }
  for (unsigned g : groups) {
    if (::setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0) {
      int e = errno;
      ::close(fd);
      return makeError("netlink join group " + std::to_string(g) + ": " + errnoText(e));
    }
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto s = std::unique_ptr<NetlinkSocket>(new NetlinkSocket(fd, addr.nl_pid));
  s->buf_.resize(kRecvBuffer);
  return s;
}

NetlinkSocket::~NetlinkSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Status NetlinkSocket::transact(nlmsghdr* req, const MessageFn& on_msg, bool* interrupted,
                               int* errno_out) {
  const bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  if (!dump) req->nlmsg_flags |= NLM_F_ACK;
  req->nlmsg_seq = seq_++;
  req->nlmsg_pid = 0;
  if (errno_out != nullptr) *errno_out = 0;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_, req, req->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) <
      0) {
    if (errno_out != nullptr) *errno_out = errno;
    return makeError("netlink send: " + errnoText(errno));
  }
  for (;;) {
    ssize_t n = ::recv(fd_, buf_.data(), buf_.size(), 0);
    if (n < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (errno_out != nullptr) *errno_out = e;
      if (e == EAGAIN || e == EWOULDBLOCK) return makeError("netlink reply timed out");
      return makeError("netlink receive: " + errnoText(e));
    }
    int len = static_cast<int>(n);
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf_.data());
    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_seq != req->nlmsg_seq || nlh->nlmsg_pid != port_) continue;  // stale reply
      if (interrupted != nullptr && (nlh->nlmsg_flags & NLM_F_DUMP_INTR) != 0) *interrupted = true;
      std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(nlh),
                                          nlh->nlmsg_len);
      if (nlh->nlmsg_type == NLMSG_DONE) {
        // A dump that failed part-way reports its errno in the DONE payload.
        if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int)) {
          int err;
          std::memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
          if (err < 0) {
            if (errno_out != nullptr) *errno_out = -err;
            return makeError("netlink dump failed: " + errnoText(-err));
          }
        }
        return Status::Ok();
      }
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        auto e = parseErrorMessage(bytes);
        if (!e) return e.error();
        if (e->error == 0) return Status::Ok();  // the ACK
        if (errno_out != nullptr) *errno_out = e->error;
        return makeError(errnoText(e->error) + (e->message.empty() ? "" : " (" + e->message + ")"));
      }
      if (nlh->nlmsg_type == NLMSG_NOOP || nlh->nlmsg_type == NLMSG_OVERRUN) continue;
      on_msg(bytes);
    }
  }
}

int NetlinkSocket::receiveEvents(const MessageFn& on_msg) {
  ssize_t n = ::recv(fd_, buf_.data(), buf_.size(), 0);
  if (n < 0) return errno;
  int len = static_cast<int>(n);
  auto* nlh = reinterpret_cast<nlmsghdr*>(buf_.data());
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
    if (nlh->nlmsg_type < NLMSG_MIN_TYPE) continue;
    on_msg(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(nlh), nlh->nlmsg_len));
  }
  return 0;
}

Status dumpConsistent(const TransactFn& transact, const std::function<void(nlmsghdr*)>& build,
                      const MessageFn& on_msg, const std::function<void()>& reset, int attempts,
                      std::uint64_t* retries) {
  alignas(nlmsghdr) std::uint8_t req[512];
  for (int i = 0; i < attempts; ++i) {
    std::memset(req, 0, sizeof(req));
    auto* nlh = reinterpret_cast<nlmsghdr*>(req);
    build(nlh);
    bool interrupted = false;
    if (auto st = transact(nlh, on_msg, &interrupted); !st) return st;
    if (!interrupted) return Status::Ok();
    // The link list changed during the dump (NLM_F_DUMP_INTR): the result may be
    // inconsistent, so it is discarded and the dump repeated.
    if (retries != nullptr) ++*retries;
    if (i + 1 < attempts) reset();
  }
  return Status::Ok();  // the last attempt's (possibly inconsistent) result is kept
}

Result<std::vector<LinkMessage>> dumpLinks(NetlinkSocket& rtnl, std::uint64_t* retries,
                                           std::vector<std::string>* parse_errors) {
  std::vector<LinkMessage> links;
  auto build = [](nlmsghdr* nlh) {
    nlh->nlmsg_len = NLMSG_HDRLEN;
    nlh->nlmsg_type = RTM_GETLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifm->ifi_family = AF_UNSPEC;
    // No IFLA_EXT_MASK: without RTEXT_FILTER_VF the kernel leaves out the per-VF records, so
    // one message per link stays small even on SR-IOV hosts.
  };
  auto on_msg = [&](std::span<const std::uint8_t> msg) {
    auto link = parseLinkMessage(msg);
    if (link) {
      links.push_back(std::move(*link));
    } else if (parse_errors != nullptr) {
      parse_errors->push_back(link.error().message);
    }
  };
  auto transact = [&rtnl](nlmsghdr* req, const MessageFn& fn, bool* intr) {
    return rtnl.transact(req, fn, intr);
  };
  auto st = dumpConsistent(
      transact, build, on_msg, [&] { links.clear(); }, 3, retries);
  if (!st) return makeError("RTM_GETLINK dump: " + st.error().message);
  return links;
}

// --- ethtool generic netlink ----------------------------------------------------------------

Result<std::unique_ptr<EthtoolClient>> EthtoolClient::open(Duration timeout) {
  auto sock = NetlinkSocket::open(NETLINK_GENERIC, {}, timeout);
  if (!sock) return sock.error();
  alignas(nlmsghdr) std::uint8_t req[256] = {};
  auto* nlh = mnl_nlmsg_put_header(req);
  nlh->nlmsg_type = GENL_ID_CTRL;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
  g->cmd = CTRL_CMD_GETFAMILY;
  g->version = 1;
  mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, ETHTOOL_GENL_NAME);
  std::optional<std::uint16_t> family;
  std::string parse_error;
  auto st = (*sock)->transact(nlh, [&](std::span<const std::uint8_t> msg) {
    auto f = parseFamilyReply(msg);
    if (f) {
      family = *f;
    } else {
      parse_error = f.error().message;
    }
  });
  if (!st) return makeError("resolving the ethtool netlink family: " + st.error().message);
  if (!family) return makeError("resolving the ethtool netlink family: " + parse_error);
  return std::unique_ptr<EthtoolClient>(new EthtoolClient(std::move(*sock), *family));
}

nlmsghdr* EthtoolClient::begin(std::uint8_t cmd, std::uint16_t header_attr, std::int32_t ifindex,
                               std::uint32_t flags, bool dump) {
  req_.assign(1024, 0);
  auto* nlh = mnl_nlmsg_put_header(req_.data());
  nlh->nlmsg_type = family_;
  nlh->nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
  auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
  g->cmd = cmd;
  g->version = ETHTOOL_GENL_VERSION;
  nlattr* hdr = mnl_attr_nest_start(nlh, header_attr);
  if (ifindex > 0)
    mnl_attr_put_u32(nlh, ETHTOOL_A_HEADER_DEV_INDEX, static_cast<std::uint32_t>(ifindex));
  mnl_attr_put_u32(nlh, ETHTOOL_A_HEADER_FLAGS, flags);
  mnl_attr_nest_end(nlh, hdr);
  return nlh;
}

namespace {

template <class T, class Parse>
Result<std::map<std::int32_t, T>> runDump(NetlinkSocket& sock, nlmsghdr* req, Parse parse,
                                          const char* what, std::vector<std::string>* errors) {
  std::map<std::int32_t, T> out;
  auto st = sock.transact(req, [&](std::span<const std::uint8_t> msg) {
    auto r = parse(msg);
    if (r) {
      out[static_cast<std::int32_t>(r->dev.ifindex)] = std::move(*r);
    } else if (errors != nullptr) {
      errors->push_back(r.error().message);
    }
  });
  if (!st) return makeError(std::string(what) + ": " + st.error().message);
  return out;
}

}  // namespace

Result<std::map<std::int32_t, LinkModes>> EthtoolClient::dumpLinkModes(
    std::vector<std::string>* errors) {
  auto* nlh = begin(ETHTOOL_MSG_LINKMODES_GET, ETHTOOL_A_LINKMODES_HEADER, 0,
                    ETHTOOL_FLAG_COMPACT_BITSETS, true);
  return runDump<LinkModes>(*sock_, nlh, parseLinkModesReply, "ethtool link modes dump", errors);
}

Result<std::map<std::int32_t, StandardStats>> EthtoolClient::dumpStats(
    std::vector<std::string>* errors) {
  auto* nlh =
      begin(ETHTOOL_MSG_STATS_GET, ETHTOOL_A_STATS_HEADER, 0, ETHTOOL_FLAG_COMPACT_BITSETS, true);
  // Ask for every standard group this build knows, as a compact bitset without a mask.
  nlattr* groups = mnl_attr_nest_start(nlh, ETHTOOL_A_STATS_GROUPS);
  mnl_attr_put(nlh, ETHTOOL_A_BITSET_NOMASK, 0, nullptr);
  mnl_attr_put_u32(nlh, ETHTOOL_A_BITSET_SIZE, __ETHTOOL_STATS_CNT);
  std::uint32_t bits = (1u << __ETHTOOL_STATS_CNT) - 1;
  mnl_attr_put(nlh, ETHTOOL_A_BITSET_VALUE, sizeof(bits), &bits);
  mnl_attr_nest_end(nlh, groups);
  return runDump<StandardStats>(*sock_, nlh, parseStatsReply, "ethtool stats dump", errors);
}

Result<std::map<std::int32_t, FecStats>> EthtoolClient::dumpFec(std::vector<std::string>* errors) {
  auto* nlh = begin(ETHTOOL_MSG_FEC_GET, ETHTOOL_A_FEC_HEADER, 0,
                    ETHTOOL_FLAG_COMPACT_BITSETS | ETHTOOL_FLAG_STATS, true);
  return runDump<FecStats>(*sock_, nlh, parseFecReply, "ethtool FEC dump", errors);
}

Result<std::vector<std::uint8_t>> EthtoolClient::readModulePage(
    std::int32_t ifindex, std::uint8_t i2c_address, std::uint8_t page, std::uint32_t offset,
    std::uint32_t length, int* errno_out) {
  auto* nlh =
      begin(ETHTOOL_MSG_MODULE_EEPROM_GET, ETHTOOL_A_MODULE_EEPROM_HEADER, ifindex, 0, false);
  mnl_attr_put_u32(nlh, ETHTOOL_A_MODULE_EEPROM_OFFSET, offset);
  mnl_attr_put_u32(nlh, ETHTOOL_A_MODULE_EEPROM_LENGTH, length);
  mnl_attr_put_u8(nlh, ETHTOOL_A_MODULE_EEPROM_PAGE, page);
  mnl_attr_put_u8(nlh, ETHTOOL_A_MODULE_EEPROM_BANK, 0);
  mnl_attr_put_u8(nlh, ETHTOOL_A_MODULE_EEPROM_I2C_ADDRESS, i2c_address);
  std::optional<Result<std::vector<std::uint8_t>>> data;
  auto st = sock_->transact(
      nlh, [&](std::span<const std::uint8_t> msg) { data = parseModuleEepromReply(msg); }, nullptr,
      errno_out);
  if (!st) return st.error();
  if (!data) return makeError("module EEPROM request got no reply");
  if (!*data) return data->error();
  if (data->value().size() < length) {
    return makeError("module EEPROM page " + std::to_string(page) + " returned " +
                     std::to_string(data->value().size()) + " of " + std::to_string(length) +
                     " bytes");
  }
  return std::move(*data);
}

Result<ModuleDiagnostics> readModule(EthtoolClient& client, std::int32_t ifindex, int* errno_out) {
  constexpr std::uint8_t kA0 = 0x50, kA2 = 0x51;
  auto lower = client.readModulePage(ifindex, kA0, 0, 0, 128, errno_out);
  if (!lower) return lower.error();
  const std::uint8_t id = (*lower)[0];
  if (isSff8472Identifier(id)) {
    std::vector<std::uint8_t> a2;
    // Byte 92 bit 6: digital diagnostics implemented; only then does A2h exist.
    if (((*lower)[92] & 0x40) != 0) {
      auto page = client.readModulePage(ifindex, kA2, 0, 0, 128, errno_out);
      if (!page) return makeError("SFP diagnostics page A2h: " + page.error().message);
      a2 = std::move(*page);
    }
    return decodeSff8472(*lower, a2);
  }
  if (isSff8636Identifier(id)) {
    auto upper00 = client.readModulePage(ifindex, kA0, 0, 128, 128, errno_out);
    if (!upper00) return makeError("QSFP upper page 00h: " + upper00.error().message);
    std::vector<std::uint8_t> upper03;
    if (!sff8636FlatMemory(*lower)) {
      auto page = client.readModulePage(ifindex, kA0, 3, 128, 128, errno_out);
      if (!page) return makeError("QSFP threshold page 03h: " + page.error().message);
      upper03 = std::move(*page);
    }
    return decodeSff8636(*lower, *upper00, upper03);
  }
  return makeError("unsupported module type " + moduleIdentifierName(id));
}

// --- SIOCETHTOOL -----------------------------------------------------------------------------

int openIoctlSocket() {
  return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

namespace {

int ethtoolIoctl(int fd, const std::string& ifname, void* data) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = static_cast<char*>(data);
  return ::ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? errno : 0;
}

std::string cstr(const char* p, std::size_t n) {
  return std::string(p, strnlen(p, n));
}

}  // namespace

Result<DriverInfo> ethtoolDriverInfo(int fd, const std::string& ifname) {
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  if (int e = ethtoolIoctl(fd, ifname, &info); e != 0) {
    return makeError(ifname + ": ETHTOOL_GDRVINFO: " + errnoText(e));
  }
  DriverInfo d;
  d.driver = cstr(info.driver, sizeof(info.driver));
  d.version = cstr(info.version, sizeof(info.version));
  d.firmware = cstr(info.fw_version, sizeof(info.fw_version));
  d.bus_info = cstr(info.bus_info, sizeof(info.bus_info));
  d.n_stats = info.n_stats;
  return d;
}

Result<LinkModes> ethtoolLinkSettings(int fd, const std::string& ifname) {
  ethtool_cmd cmd{};
  cmd.cmd = ETHTOOL_GSET;
  if (int e = ethtoolIoctl(fd, ifname, &cmd); e != 0) {
    return makeError(ifname + ": ETHTOOL_GSET: " + errnoText(e));
  }
  LinkModes lm;
  lm.dev.name = ifname;
  const std::uint32_t speed = ethtool_cmd_speed(&cmd);
  if (speed != 0 && speed != static_cast<std::uint32_t>(SPEED_UNKNOWN)) lm.speed_mbps = speed;
  if (cmd.duplex == DUPLEX_FULL || cmd.duplex == DUPLEX_HALF)
    lm.full_duplex = cmd.duplex == DUPLEX_FULL;
  lm.autoneg = cmd.autoneg == AUTONEG_ENABLE;
  return lm;
}

Result<std::vector<std::string>> ethtoolStatNames(int fd, const std::string& ifname) {
  // How many ETH_SS_STATS strings (ETHTOOL_GSSET_INFO with one bit set returns one count,
  // written right after the fixed header).
  alignas(ethtool_sset_info)
      std::uint8_t sset_buf[sizeof(ethtool_sset_info) + sizeof(std::uint32_t)] = {};
  auto* sset = reinterpret_cast<ethtool_sset_info*>(sset_buf);
  sset->cmd = ETHTOOL_GSSET_INFO;
  sset->sset_mask = 1ULL << ETH_SS_STATS;
  if (int e = ethtoolIoctl(fd, ifname, sset); e != 0) {
    return makeError(ifname + ": ETHTOOL_GSSET_INFO: " + errnoText(e));
  }
  if (sset->sset_mask == 0) return std::vector<std::string>{};
  std::uint32_t count;
  std::memcpy(&count, sset_buf + sizeof(ethtool_sset_info), sizeof(count));
  if (count > 65536)
    return makeError(ifname + ": driver reports " + std::to_string(count) + " stats");
  std::vector<std::uint8_t> buf(sizeof(ethtool_gstrings) + std::size_t{count} * ETH_GSTRING_LEN);
  auto* gs = reinterpret_cast<ethtool_gstrings*>(buf.data());
  gs->cmd = ETHTOOL_GSTRINGS;
  gs->string_set = ETH_SS_STATS;
  gs->len = count;
  if (int e = ethtoolIoctl(fd, ifname, gs); e != 0) {
    return makeError(ifname + ": ETHTOOL_GSTRINGS: " + errnoText(e));
  }
  return parseGstrings(std::span<const std::uint8_t>(buf).subspan(sizeof(ethtool_gstrings)),
                       std::min(gs->len, count));
}

Result<std::vector<std::uint64_t>> ethtoolStatValues(int fd, const std::string& ifname,
                                                     std::size_t count) {
  std::vector<std::uint8_t> buf(sizeof(ethtool_stats) + count * sizeof(std::uint64_t));
  auto* st = reinterpret_cast<ethtool_stats*>(buf.data());
  st->cmd = ETHTOOL_GSTATS;
  st->n_stats = static_cast<std::uint32_t>(count);
  if (int e = ethtoolIoctl(fd, ifname, st); e != 0) {
    return makeError(ifname + ": ETHTOOL_GSTATS: " + errnoText(e));
  }
  std::size_t n = std::min<std::size_t>(st->n_stats, count);
  std::vector<std::uint64_t> out(n);
  std::memcpy(out.data(), buf.data() + sizeof(ethtool_stats), n * sizeof(std::uint64_t));
  return out;
}

}  // namespace foreshock::netdev
