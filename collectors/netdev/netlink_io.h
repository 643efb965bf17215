// The thin I/O half of the netdev collector: netlink sockets (libmnl) for rtnetlink dumps and
// events and for the ethtool generic-netlink family, and the SIOCETHTOOL ioctls that netlink
// does not cover (driver information, driver-private counters). Every blocking call is bounded
// by the socket's receive timeout. Parsing is delegated to netlink_parse.h.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "collectors/netdev/netdev_model.h"
#include "collectors/netdev/netlink_parse.h"
#include "core/clock.h"
#include "core/result.h"

namespace foreshock::netdev {

using MessageFn = std::function<void(std::span<const std::uint8_t> msg)>;

// One netlink socket. Thread-safety: not thread-safe; one owner thread at a time. The socket
// belongs to the network namespace of the thread that opened it, for its whole life.
class NetlinkSocket {
 public:
  // bus: NETLINK_ROUTE or NETLINK_GENERIC; groups: multicast groups to join (RTNLGRP_*), 0 for
  // none; timeout bounds every receive.
  static Result<std::unique_ptr<NetlinkSocket>> open(int bus, std::vector<unsigned> groups,
                                                     Duration timeout, int rcvbuf = 0);
  ~NetlinkSocket();
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  // Sends a request built in `req` (sequence number and port filled in here) and passes every
  // reply message to on_msg, until NLMSG_DONE for a dump or the ACK of a request. An error
  // reply returns an Error with the errno text and the kernel's extended-ack message;
  // `errno_out` (optional) receives the positive errno. `interrupted` is set when a dump
  // message carried NLM_F_DUMP_INTR (the dump was inconsistent and should be repeated).
  Status transact(nlmsghdr* req, const MessageFn& on_msg, bool* interrupted = nullptr,
                  int* errno_out = nullptr);

  // Receives one datagram of unsolicited messages (event sockets) into on_msg. Returns the
  // errno of a failed receive (ENOBUFS after an overrun, EAGAIN after the timeout) or 0.
  int receiveEvents(const MessageFn& on_msg);

  int fd() const { return fd_; }

 private:
  explicit NetlinkSocket(int fd, std::uint32_t port) : fd_(fd), port_(port) {}
  int fd_;
  std::uint32_t port_;
  std::uint32_t seq_ = 1;
  std::vector<std::uint8_t> buf_;
};

// Repeats a dump up to `attempts` times while the kernel flags it NLM_F_DUMP_INTR; `reset` is
// called before each repeat so partial results are discarded. `retries` counts repeats.
// `transact` is NetlinkSocket::transact (a parameter so the retry logic is unit-tested).
using TransactFn = std::function<Status(nlmsghdr* req, const MessageFn& on_msg, bool* interrupted)>;
Status dumpConsistent(const TransactFn& transact, const std::function<void(nlmsghdr*)>& build,
                      const MessageFn& on_msg, const std::function<void()>& reset, int attempts,
                      std::uint64_t* retries);

// One RTM_GETLINK dump with IFLA_STATS64 (and the ext mask that keeps VF info out).
Result<std::vector<LinkMessage>> dumpLinks(NetlinkSocket& rtnl, std::uint64_t* retries,
                                           std::vector<std::string>* parse_errors);

// The ethtool generic-netlink family. Thread-safety: as NetlinkSocket (one owner thread).
class EthtoolClient {
 public:
  // Opens a generic-netlink socket and resolves the "ethtool" family (CTRL_CMD_GETFAMILY).
  static Result<std::unique_ptr<EthtoolClient>> open(Duration timeout);

  // Dumps for every device in the namespace that supports the operation (devices that do not
  // are skipped by the kernel). Results keyed by ifindex.
  Result<std::map<std::int32_t, LinkModes>> dumpLinkModes(std::vector<std::string>* errors);
  Result<std::map<std::int32_t, StandardStats>> dumpStats(std::vector<std::string>* errors);
  Result<std::map<std::int32_t, FecStats>> dumpFec(std::vector<std::string>* errors);

  // ETHTOOL_MSG_MODULE_EEPROM_GET of one page (offset 0-127 lower, 128-255 upper). errno_out
  // receives the errno of a failure (EOPNOTSUPP: no module support on this device).
  Result<std::vector<std::uint8_t>> readModulePage(std::int32_t ifindex, std::uint8_t i2c_address,
                                                   std::uint8_t page, std::uint32_t offset,
                                                   std::uint32_t length, int* errno_out);

 private:
  EthtoolClient(std::unique_ptr<NetlinkSocket> sock, std::uint16_t family)
      : sock_(std::move(sock)), family_(family) {}
  nlmsghdr* begin(std::uint8_t cmd, std::uint16_t header_attr, std::int32_t ifindex,
                  std::uint32_t flags, bool dump);
  std::unique_ptr<NetlinkSocket> sock_;
  std::uint16_t family_;
  std::vector<std::uint8_t> req_;
};

// SIOCETHTOOL on an AF_INET datagram socket (of the namespace it was opened in).
// Thread-safety: the functions are reentrant; the fd may be shared.
int openIoctlSocket();
Result<DriverInfo> ethtoolDriverInfo(int fd, const std::string& ifname);
// Speed, duplex and autonegotiation through the legacy ETHTOOL_GSET ioctl: the fallback for
// kernels without the ethtool netlink family (before 5.6). Fills LinkModes like the netlink
// reply (speed/duplex absent when unknown).
Result<LinkModes> ethtoolLinkSettings(int fd, const std::string& ifname);
Result<std::vector<std::string>> ethtoolStatNames(int fd, const std::string& ifname);
Result<std::vector<std::uint64_t>> ethtoolStatValues(int fd, const std::string& ifname,
                                                     std::size_t count);

// Reads and decodes a pluggable module through EthtoolClient::readModulePage (SFF-8472 or
// SFF-8636 by the identifier byte). errno_out as readModulePage.
Result<ModuleDiagnostics> readModule(EthtoolClient& client, std::int32_t ifindex, int* errno_out);

}  // namespace foreshock::netdev
