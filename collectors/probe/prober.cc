#include "collectors/probe/prober.h"

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <queue>
#include <random>
#include <unordered_map>

#include "collectors/lldp/neighbor_table.h"
#include "collectors/probe/resolver.h"
#include "collectors/probe/route_netlink.h"
#include "core/file_util.h"
#include "core/log.h"
#include "core/stop_signal.h"

namespace foreshock {

const char* probeKindName(ProbeKind k) {
  switch (k) {
    case ProbeKind::kIcmp: return "icmp";
    case ProbeKind::kTcp: return "tcp";
    case ProbeKind::kArp: return "arp";
    case ProbeKind::kNdp: return "ndp";
  }
  return "icmp";
}

std::optional<ProbeKind> parseProbeKind(std::string_view s) {
  if (s == "icmp") return ProbeKind::kIcmp;
  if (s == "tcp") return ProbeKind::kTcp;
  if (s == "arp") return ProbeKind::kArp;
  if (s == "ndp") return ProbeKind::kNdp;
  return std::nullopt;
}

namespace {

constexpr const char* kComponent = "probe";
constexpr auto kRefreshEvery = std::chrono::seconds(30);
constexpr std::int64_t kDebounceNs = 200'000'000;
constexpr std::uint64_t kPhases = 50;

std::int64_t realtimeNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
std::int64_t monoNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
std::int64_t toNs(Duration d) {
  return static_cast<std::int64_t>(d.count()) * 1'000'000;
}

std::string errnoName(int e) {
  const char* n = ::strerrorname_np(e);
  return n ? n : "E" + std::to_string(e);
}

std::string sendFailureReason(int e) {
  switch (e) {
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL: return "no_route";
    case EPERM:
    case EACCES: return "blocked";
    case ENETDOWN: return "link_down";
    default: return "send_error";
  }
}

socklen_t toSockaddr(const IpAddress& a, std::uint16_t port, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof *ss);
  if (a.isV4()) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    std::memcpy(&s4->sin_addr, a.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* s6 = reinterpret_cast<sockaddr_in6*>(ss);
  s6->sin6_family = AF_INET6;
  s6->sin6_port = htons(port);
  std::memcpy(&s6->sin6_addr, a.bytes.data(), 16);
  s6->sin6_scope_id = a.scope;
  return sizeof(sockaddr_in6);
}

std::optional<IpAddress> fromSockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) return ipFromV4(reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr);
  if (ss.ss_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    return ipFromV6(s6->sin6_addr, s6->sin6_scope_id);
  }
  return std::nullopt;
}

// Kernel receive timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME) of a received message.
std::optional<std::int64_t> kernelTimestamp(msghdr* msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
  }
  return std::nullopt;
}

// One non-blocking recvmsg(flags | MSG_DONTWAIT) into `buf`, with the peer address (the
// sender; from the error queue, the original destination) in `name`, ancillary data in
// `control` (readable through *msg afterwards) and the kernel's receive timestamp
// (SO_TIMESTAMPNS; the wall clock now if the kernel gave none). Returns recvmsg's result.
ssize_t receiveMessage(int fd, void* buf, std::size_t len, void* name, socklen_t name_len,
                       char* control, std::size_t control_len, int flags, msghdr* msg,
                       std::int64_t* rx_ns) {
  *msg = msghdr{};
  iovec iov{buf, len};
  msg->msg_name = name;
  msg->msg_namelen = name_len;
  msg->msg_iov = &iov;
  msg->msg_iovlen = 1;
  msg->msg_control = control;
  msg->msg_controllen = control_len;
  const ssize_t n = ::recvmsg(fd, msg, flags | MSG_DONTWAIT);
  msg->msg_iov = nullptr;  // iov does not outlive this call
  msg->msg_iovlen = 0;
  if (n >= 0) *rx_ns = kernelTimestamp(msg).value_or(realtimeNs());
  return n;
}

// receiveMessage without the caller needing the ancillary data.
ssize_t receiveTimestamped(int fd, void* buf, std::size_t len, void* from, socklen_t from_len,
                           std::int64_t* rx_ns) {
  char control[256];
  msghdr msg;
  return receiveMessage(fd, buf, len, from, from_len, control, sizeof control, 0, &msg, rx_ns);
}

struct TcpAttempt {
  int fd = -1;
  std::int64_t start_mono = 0;
  std::int64_t deadline_mono = 0;
};

struct Target {
  ProbeTargetSpec spec;
  std::uint32_t token = 0;
  std::string interface;
  int ifindex = 0;
  std::optional<IpAddress> source;
  bool on_link = false;
  bool routed = false;
  std::string route_error;
  TargetStats stats;
  std::uint32_t next_seq = 0;
  std::int64_t next_send_mono = 0;
  std::vector<TcpAttempt> attempts;
};

struct IcmpSocket {
  int family = 0;
  int fd = -1;
  bool raw = false;
  std::string error;
};

struct TimedToken {
  std::int64_t at;
  std::uint32_t token;
  std::uint32_t seq = 0;
  bool operator>(const TimedToken& o) const { return at > o.at; }
};
using TimerQueue = std::priority_queue<TimedToken, std::vector<TimedToken>, std::greater<>>;

// (kind, address, port, name + host): a host-name target keeps its identity (and statistics)
// when its address changes.
using TargetKey = std::tuple<int, IpAddress, std::uint16_t, std::string>;
TargetKey targetKey(const ProbeTargetSpec& spec) {
  if (spec.host.empty()) {
    return {static_cast<int>(spec.kind), spec.address, spec.port, spec.name};
  }
  return {static_cast<int>(spec.kind), IpAddress{}, spec.port, spec.name + '\n' + spec.host};
}

int resolveFamily(ProbeKind k) {
  return k == ProbeKind::kArp ? AF_INET : k == ProbeKind::kNdp ? AF_INET6 : AF_UNSPEC;
}

}  // namespace

struct Prober::Impl {
  ProberOptions opts;
  std::atomic<std::uint64_t>* probes_sent = nullptr;
  mutable std::mutex mu;
  std::map<TargetKey, std::unique_ptr<Target>> targets;
  std::unordered_map<std::uint32_t, Target*> by_token;
  IcmpSocket icmp[2];  // [0] IPv4, [1] IPv6
  int arp_fd = -1;
  std::string arp_error;
  int ndp_fd = -1;
  std::string ndp_error;
  RouteNetlink rtnl;
  bool rtnl_ok = false;
  StopSignal stop;  // set by ~Prober; wakes run()'s poll
  std::thread thread;
  std::uint64_t cookie = 0;
  std::uint16_t echo_id = 0;
  std::uint32_t next_token = 1;
  TimerQueue sends;
  TimerQueue deadlines;  // realtime ns
  std::int64_t next_refresh_mono = 0;
  std::uint64_t lldp_generation = ~0ull;   // of the neighbour table and the resolver
  std::unique_ptr<HostResolver> resolver;  // null without host-name targets
  std::atomic<std::size_t> lldp_over_limit{0};
  std::size_t tcp_targets = 0;
  bool refreshed =
      false;  // guarded by mu  // targets of kind tcp (only they have connects in flight)

  ~Impl() {
    for (auto& s : icmp)
      if (s.fd >= 0) ::close(s.fd);
    if (arp_fd >= 0) ::close(arp_fd);
    if (ndp_fd >= 0) ::close(ndp_fd);
    for (auto& [_, t] : targets)
      for (auto& a : t->attempts) ::close(a.fd);
  }

  // --- sockets -------------------------------------------------------------------------

  void openIcmp(IcmpSocket& s) {
    const int family = s.family;
    const int proto =
        family == AF_INET ? static_cast<int>(IPPROTO_ICMP) : static_cast<int>(IPPROTO_ICMPV6);
    const char* fam = family == AF_INET ? "IPv4" : "IPv6";
    int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    const int ping_errno = fd < 0 ? errno : 0;
    bool raw = false;
    int raw_errno = 0;
    if (fd < 0) {
      fd = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
      raw_errno = fd < 0 ? errno : 0;
      raw = fd >= 0;
      if (raw && !attachEchoFilter(fd, family)) {
        const int e = errno;
        ::close(fd);
        fd = -1;
        raw_errno = e;
      }
    }
    if (fd < 0) {
      if (ping_errno == EAFNOSUPPORT || raw_errno == EAFNOSUPPORT) {
        s.error = std::string(fam) + " is not available on this host";
      } else {
        std::string range = "?";
        if (auto r = readAttribute(opts.ping_group_range)) {
          range = *r;
          for (auto& c : range)
            if (c == '\t') c = ' ';
        }
        s.error = std::string("no ICMP socket for ") + fam +
                  " probes: a ping socket was refused (" + std::strerror(ping_errno) +
                  "; net.ipv4.ping_group_range is \"" + range +
                  "\" and this process runs with gid " + std::to_string(::getgid()) +
                  ") and a raw socket was refused (" + std::strerror(raw_errno) +
                  "; it needs CAP_NET_RAW). Enable one of them: widen net.ipv4.ping_group_range "
                  "to include gid " +
                  std::to_string(::getgid()) + " (sysctl -w net.ipv4.ping_group_range=\"" +
                  std::to_string(::getgid()) + " " + std::to_string(::getgid()) +
                  "\"), or grant CAP_NET_RAW "
                  "(AmbientCapabilities=CAP_NET_RAW in the systemd unit)";
      }
      return;
    }
    int one = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    // ICMP errors about our probes (unreachable, TTL exceeded) on the error queue: a probe
    // answered by a router's "host unreachable" is lost at once, with that reason.
    if (family == AF_INET)
      (void)::setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof one);
    else
      (void)::setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof one);
    int rcvbuf = 1 << 20;
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (raw) drain(fd);  // anything queued before the filter was attached
    s.fd = fd;
    s.raw = raw;
    s.error.clear();
    log::info(kComponent, std::string("ICMP ") + fam + " probes use a " +
                              (raw ? "raw socket (CAP_NET_RAW)" : "ping socket"));
  }

  // Raw ICMP sockets see every ICMP packet the host receives: let the kernel pass only echo
  // replies carrying our echo id. IPv4 raw sockets deliver the IP header first (variable
  // length: the BPF MSH instruction loads 4 * IHL into X); IPv6 ones start at the ICMPv6 header.
  bool attachEchoFilter(int fd, int family) {
    std::vector<sock_filter> f;
    if (family == AF_INET) {
      f = {{BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0}, {BPF_LD | BPF_B | BPF_IND, 0, 0, 0},
           {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 0},  // echo reply
           {BPF_LD | BPF_H | BPF_IND, 0, 0, 4},  {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, echo_id},
           {BPF_RET | BPF_K, 0, 0, 0xffff},      {BPF_RET | BPF_K, 0, 0, 0}};
    } else {
      f = {{BPF_LD | BPF_B | BPF_ABS, 0, 0, 0},
           {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 129},  // echo reply
           {BPF_LD | BPF_H | BPF_ABS, 0, 0, 4},
           {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, echo_id},
           {BPF_RET | BPF_K, 0, 0, 0xffff},
           {BPF_RET | BPF_K, 0, 0, 0}};
    }
    sock_fprog prog{static_cast<unsigned short>(f.size()), f.data()};
    return ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == 0;
  }

  void drain(int fd) {
    char buf[2048];
    while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
  }

  void openArp() {
    int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      const int e = errno;
      arp_error = std::string("ARP probes need an AF_PACKET socket: ") + std::strerror(e) +
                  (e == EPERM ? " (grant CAP_NET_RAW)" : "");
      return;
    }
    // Only ARP replies (opcode 2) reach user space.
    static sock_filter f[] = {{BPF_LD | BPF_H | BPF_ABS, 0, 0, 6},
                              {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 2},
                              {BPF_RET | BPF_K, 0, 0, 0xffff},
                              {BPF_RET | BPF_K, 0, 0, 0}};
    sock_fprog prog{4, f};
    int one = 1;
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ARP);
    if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
      arp_error = std::string("ARP socket setup: ") + std::strerror(errno);
      ::close(fd);
      return;
    }
    arp_fd = fd;
    arp_error.clear();
  }

  // A raw ICMPv6 socket (CAP_NET_RAW) for neighbour discovery: only Neighbor Advertisements
  // pass its ICMPv6 filter; hop limit 255 out and checked in (RFC 4861 7.1.2: anything
  // else crossed a router and is not from the link).
  void openNdp() {
    int fd = ::socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (fd < 0) {
      const int e = errno;
      ndp_error = std::string("NDP probes need a raw ICMPv6 socket: ") + std::strerror(e) +
                  (e == EPERM ? " (grant CAP_NET_RAW)" : "");
      return;
    }
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ND_NEIGHBOR_ADVERT, &filter);
    int hops = 255, one = 1;
    if (::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0 ||
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) != 0 ||
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops) != 0 ||
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0 ||
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one) != 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0) {
      ndp_error = std::string("NDP socket setup: ") + std::strerror(errno);
      ::close(fd);
      return;
    }
    drain(fd);  // anything queued before the filter was set
    ndp_fd = fd;
    ndp_error.clear();
  }

  IcmpSocket& icmpFor(const IpAddress& a) { return icmp[a.isV4() ? 0 : 1]; }

  // --- targets -------------------------------------------------------------------------

  std::vector<ProbeTargetSpec> desiredTargets() {
    std::vector<ProbeTargetSpec> out = opts.targets;
    for (auto& spec : out) {
      if (!spec.config_error.empty()) {
        spec.unavailable = "invalid_config";
      } else if (!spec.host.empty() && resolver) {
        auto r = resolver->get({spec.host, resolveFamily(spec.kind)});
        if (r.address) {
          spec.address = *r.address;
        } else {
          spec.unavailable = r.reason;
        }
      }
    }
    auto discovered = [&](const IpAddress& a, ProbeKind k, const std::string& name,
                          const std::string& origin) {
      ProbeTargetSpec s;
      s.name = name;
      s.address = a;
      s.kind = k;
      s.interval = opts.interval;
      s.timeout = opts.timeout;
      s.origin = origin;
      out.push_back(std::move(s));
    };
    if (opts.gateways && rtnl_ok) {
      for (int family : {AF_INET, AF_INET6}) {
        auto gws = rtnl.defaultGateways(family);
        if (!gws) {
          log::warn(kComponent, "reading the default routes: " + gws.error().message);
          continue;
        }
        std::vector<IpAddress> seen;
        for (const auto& g : *gws) {
          if (std::find(seen.begin(), seen.end(), g.gateway) != seen.end()) continue;
          seen.push_back(g.gateway);
          for (auto k : opts.gateway_kinds) {
            if (k == ProbeKind::kArp && !g.gateway.isV4()) continue;  // IPv6 has no ARP
            if (k == ProbeKind::kNdp && g.gateway.isV4()) continue;   // IPv4 has no NDP
            if (k == ProbeKind::kTcp) continue;
            discovered(g.gateway, k, "default-gateway", "gateway");
          }
        }
      }
    }
    std::size_t over_limit = 0;
    if (opts.lldp_management && opts.neighbors) {
      // Without an lldp collector running (disabled by a reload) nothing else ages them out.
      opts.neighbors->expire(std::chrono::steady_clock::now());
      std::vector<IpAddress> taken;
      for (const auto& m : opts.neighbors->managementAddresses()) {
        auto ip = parseIpAddress(m.address.address);
        if (!ip) continue;
        if (isLinkLocal(*ip)) ip->scope = ::if_nametoindex(m.interface.c_str());
        if (std::find(taken.begin(), taken.end(), *ip) != taken.end()) continue;
        if (taken.size() >= opts.max_lldp_targets) {
          ++over_limit;
          continue;
        }
        taken.push_back(*ip);
        discovered(*ip, ProbeKind::kIcmp, "lldp-management", "lldp");
      }
    }
    if (over_limit > 0 && lldp_over_limit.load() == 0) {
      log::warn(kComponent,
                "LLDP neighbours advertise more management addresses than "
                "max_lldp_targets (" +
                    std::to_string(opts.max_lldp_targets) + "); probing the first " +
                    std::to_string(opts.max_lldp_targets) +
                    " (logged again only after the excess is gone)");
    }
    lldp_over_limit = over_limit;
    return out;
  }

  void route(Target& t) {
    t.routed = false;
    if (!rtnl_ok) {
      t.route_error = "rtnetlink unavailable";
      return;
    }
    auto r = rtnl.lookup(t.spec.address);
    if (!r) {
      t.route_error = r.error().message;
      t.interface.clear();
      t.ifindex = 0;
      return;
    }
    t.routed = true;
    t.route_error.clear();
    t.interface = r->interface;
    t.ifindex = r->ifindex;
    t.source = r->source;
    t.on_link = !r->gateway.has_value() && !r->local;
    // A link-local address is on the link its zone names, whatever the route says.
    if (isLinkLocal(t.spec.address) && t.spec.address.scope != 0 && !r->local) {
      t.on_link = true;
      t.ifindex = static_cast<int>(t.spec.address.scope);
      char name[IF_NAMESIZE] = {0};
      if (::if_indextoname(t.spec.address.scope, name) != nullptr) t.interface = name;
    }
  }

  void refreshTargets(std::int64_t now_mono) {
    auto desired = desiredTargets();
    std::lock_guard<std::mutex> lock(mu);
    std::map<TargetKey, std::unique_ptr<Target>> next;
    for (auto& spec : desired) {
      auto key = targetKey(spec);
      if (next.count(key)) continue;
      if (next.size() >= opts.max_targets) {
        log::warn(kComponent, "more than " + std::to_string(opts.max_targets) +
                                  " probe targets; ignoring the rest");
        break;
      }
      auto it = targets.find(key);
      std::unique_ptr<Target> t;
      if (it != targets.end()) {
        t = std::move(it->second);
        targets.erase(it);
        t->spec = spec;
      } else {
        t = std::make_unique<Target>();
        t->spec = spec;
        t->token = next_token++;
        // Spread first probes over one interval so 1,000 targets do not fire together, in
        // kPhases groups so the thread wakes kPhases times per interval, not once per target.
        const auto period = std::max<std::int64_t>(toNs(spec.interval), 1);
        t->next_send_mono =
            now_mono + static_cast<std::int64_t>(t->token * 7919ull % kPhases) * period / kPhases;
        by_token[t->token] = t.get();
        sends.push({t->next_send_mono, t->token});
        log::debug(kComponent, std::string("probing ") + probeKindName(spec.kind) + " " +
                                   formatIpAddress(spec.address) + " (" + spec.name + ")");
      }
      if (t->spec.unavailable.empty()) {
        route(*t);
      } else {
        t->routed = false;
        t->route_error = t->spec.unavailable;
        t->stats.unavailable(t->spec.unavailable);
      }
      next.emplace(key, std::move(t));
    }
    for (auto& [_, t] : targets) {  // the rest are gone
      for (auto& a : t->attempts) ::close(a.fd);
      by_token.erase(t->token);
    }
    targets = std::move(next);
    refreshed = true;
    bool need_arp = false, need_ndp = false;
    tcp_targets = 0;
    for (auto& [_, t] : targets) {
      need_arp |= t->spec.kind == ProbeKind::kArp;
      need_ndp |= t->spec.kind == ProbeKind::kNdp;
      if (t->spec.kind == ProbeKind::kTcp) ++tcp_targets;
    }
    if (need_arp && arp_fd < 0) openArp();
    if (need_ndp && ndp_fd < 0) openNdp();
    for (auto& s : icmp) {
      if (s.fd >= 0) continue;
      bool need = false;
      for (auto& [_, t] : targets)
        need |= t->spec.kind == ProbeKind::kIcmp && t->spec.unavailable.empty() &&
                (t->spec.address.isV4() == (s.family == AF_INET));
      if (!need) continue;
      const std::string before = s.error;
      openIcmp(s);
      if (s.fd < 0 && s.error != before) log::error(kComponent, s.error);
    }
  }

  // --- probing -------------------------------------------------------------------------

  // Sends one ICMP or ARP probe and records it (sent, its deadline) or its send failure.
  void sendDatagram(Target& t, int fd, const std::vector<std::uint8_t>& pkt, const sockaddr* to,
                    socklen_t to_len, std::uint32_t seq) {
    const std::int64_t tx = realtimeNs();
    if (::sendto(fd, pkt.data(), pkt.size(), 0, to, to_len) < 0) {
      t.stats.failed(tx, sendFailureReason(errno));
      return;
    }
    probes_sent->fetch_add(1, std::memory_order_relaxed);
    t.stats.sent(seq, tx, tx + toNs(t.spec.timeout));
    deadlines.push({tx + toNs(t.spec.timeout), t.token, seq});
  }

  // What an ARP or NDP probe needs before it can be sent: its socket, an on-link target of
  // the right family with a source address, and our MAC on the target's interface. Records
  // why the probe cannot run (and returns nullopt) otherwise.
  std::optional<std::array<std::uint8_t, 6>> linkLayerPreamble(Target& t, int fd,
                                                               const std::string& socket_error,
                                                               const char* no_socket, int family,
                                                               std::int64_t now_rt) {
    if (fd < 0) {
      t.stats.unavailable(socket_error.find("CAP_NET_RAW") != std::string::npos ? "no_cap_net_raw"
                                                                                : no_socket);
      return std::nullopt;
    }
    if (t.spec.address.family != family) {
      t.stats.unavailable(family == AF_INET ? "not_ipv4" : "not_ipv6");
      return std::nullopt;
    }
    if (!t.routed || !t.source) {
      t.stats.failed(now_rt, "no_route");
      return std::nullopt;
    }
    if (!t.on_link) {
      t.stats.unavailable("not_on_link");
      return std::nullopt;
    }
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, t.interface.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) {
      t.stats.failed(now_rt, "link_down");
      return std::nullopt;
    }
    std::array<std::uint8_t, 6> mac{};
    std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, 6);
    return mac;
  }

  void sendProbe(Target& t) {
    if (!t.spec.unavailable.empty()) {  // a bad configuration or a name not resolved (yet)
      t.stats.unavailable(t.spec.unavailable);
      return;
    }
    const std::int64_t now_rt = realtimeNs();
    switch (t.spec.kind) {
      case ProbeKind::kIcmp: {
        auto& s = icmpFor(t.spec.address);
        if (s.fd < 0) {
          t.stats.unavailable("no_icmp_socket");
          return;
        }
        const std::uint32_t seq = t.next_seq++;
        auto pkt = buildEchoRequest(t.spec.address.family, s.raw ? echo_id : 0,
                                    static_cast<std::uint16_t>(seq), {cookie, t.token, seq});
        sockaddr_storage ss;
        const socklen_t len = toSockaddr(t.spec.address, 0, &ss);
        sendDatagram(t, s.fd, pkt, reinterpret_cast<sockaddr*>(&ss), len, seq);
        return;
      }
      case ProbeKind::kArp: {
        auto mac = linkLayerPreamble(t, arp_fd, arp_error, "no_arp_socket", AF_INET, now_rt);
        if (!mac) return;
        auto pkt = buildArpRequest(*mac, *t.source, t.spec.address);
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_protocol = htons(ETH_P_ARP);
        to.sll_ifindex = t.ifindex;
        to.sll_halen = 6;
        std::memset(to.sll_addr, 0xff, 6);
        sendDatagram(t, arp_fd, pkt, reinterpret_cast<sockaddr*>(&to), sizeof to, t.next_seq++);
        return;
      }
      case ProbeKind::kNdp: {
        auto mac = linkLayerPreamble(t, ndp_fd, ndp_error, "no_ndp_socket", AF_INET6, now_rt);
        if (!mac) return;
        IpAddress group = solicitedNodeMulticast(t.spec.address);
        group.scope = static_cast<std::uint32_t>(t.ifindex);
        sockaddr_storage ss;
        const socklen_t len = toSockaddr(group, 0, &ss);
        sendDatagram(t, ndp_fd, buildNeighborSolicitation(t.spec.address, *mac),
                     reinterpret_cast<sockaddr*>(&ss), len, t.next_seq++);
        return;
      }
      case ProbeKind::kTcp: {
        sockaddr_storage ss;
        const socklen_t len = toSockaddr(t.spec.address, t.spec.port, &ss);
        int fd = ::socket(t.spec.address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
          t.stats.tcpResult(now_rt, false, 0, 1, 0, errnoName(errno));
          return;
        }
        // Reset instead of FIN/TIME_WAIT: a probe every second must not pile up sockets.
        linger lg{1, 0};
        (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        probes_sent->fetch_add(1, std::memory_order_relaxed);
        const std::int64_t start = monoNs();
        if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
          ::close(fd);
          t.stats.tcpResult(now_rt, true, static_cast<double>(monoNs() - start) / 1e9, 1, 0, "");
          return;
        }
        if (errno != EINPROGRESS) {
          const int e = errno;
          ::close(fd);
          t.stats.tcpResult(now_rt, false, 0, 1, e == ECONNREFUSED ? 0 : 1, errnoName(e));
          return;
        }
        t.attempts.push_back({fd, start, start + toNs(t.spec.timeout)});
        return;
      }
    }
  }

  void finishTcp(Target& t, std::size_t i, bool timed_out) {
    auto a = t.attempts[i];
    t.attempts.erase(t.attempts.begin() + static_cast<std::ptrdiff_t>(i));
    const std::int64_t now_rt = realtimeNs();
    const double secs = static_cast<double>(monoNs() - a.start_mono) / 1e9;
    if (timed_out) {
      ::close(a.fd);
      // Every SYN sent within the timeout was lost.
      int sent = 1;
      while (sent < 7 && (std::pow(2.0, sent) - 1.0) < secs) ++sent;
      t.stats.tcpResult(now_rt, false, secs, sent, sent, "ETIMEDOUT");
      return;
    }
    int err = 0;
    socklen_t elen = sizeof err;
    (void)::getsockopt(a.fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    // The kernel knows how many SYNs it retransmitted (tcpi_total_retrans) and the RTT of the
    // SYN that was answered (tcpi_rtt), so a far peer whose slow answers made the kernel resend
    // SYNs is not mistaken for loss. The timing signature (completion right after an RTO
    // instant) is the fallback when TCP_INFO has no RTT sample (e.g. a refused connect).
    int retrans = 0;
    tcp_info info{};
    socklen_t ilen = sizeof info;
    const bool have_info =
        ::getsockopt(a.fd, IPPROTO_TCP, TCP_INFO, &info, &ilen) == 0 &&
        ilen >= offsetof(tcp_info, tcpi_total_retrans) + sizeof info.tcpi_total_retrans;
    if (have_info && info.tcpi_total_retrans == 0) {
      retrans = 0;  // one SYN, one answer
    } else if (have_info && err == 0 && info.tcpi_rtt > 0) {
      retrans =
          lostSynsBefore(secs - static_cast<double>(info.tcpi_rtt) / 1e6, info.tcpi_total_retrans);
    } else {
      retrans = synRetransmissionsFor(secs);
    }
    ::close(a.fd);
    if (err == 0) {
      t.stats.tcpResult(now_rt, true, secs, 1 + retrans, retrans, "");
    } else if (err == ECONNREFUSED) {
      t.stats.tcpResult(now_rt, false, secs, 1 + retrans, retrans, errnoName(err));
    } else {
      t.stats.tcpResult(now_rt, false, secs, 1 + retrans, 1 + retrans, errnoName(err));
    }
  }

  void receiveIcmp(IcmpSocket& s) {
    std::uint8_t buf[1500];
    for (int i = 0; i < 512; ++i) {
      sockaddr_storage from{};
      std::int64_t rx = 0;
      const ssize_t n = receiveTimestamped(s.fd, buf, sizeof buf, &from, sizeof from, &rx);
      if (n < 0) return;
      auto r =
          parseEchoReply(s.family, std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)),
                         s.raw && s.family == AF_INET);
      if (!r || !r->cookie || r->cookie->cookie != cookie) continue;
      auto it = by_token.find(r->cookie->token);
      if (it == by_token.end()) continue;
      Target& t = *it->second;
      auto src = fromSockaddr(from);
      if (!src || !(*src == t.spec.address)) continue;  // someone else answered for it
      t.stats.reply(r->cookie->sequence, rx);
    }
  }

  // ICMP errors quoting our echo requests, from the socket's error queue (IP_RECVERR /
  // IPV6_RECVERR; the ping and raw paths alike). The queue's msg_name is the probe's
  // destination; the quoted request carries its sequence number and, when the router quoted
  // enough of it, our cookie.
  void receiveIcmpErrors(IcmpSocket& s) {
    std::uint8_t buf[1500];
    char control[512];
    for (int i = 0; i < 512; ++i) {
      sockaddr_storage dst{};
      msghdr msg;
      std::int64_t rx = 0;
      const ssize_t n = receiveMessage(s.fd, buf, sizeof buf, &dst, sizeof dst, control,
                                       sizeof control, MSG_ERRQUEUE, &msg, &rx);
      if (n < 0) return;
      sock_extended_err ee{};
      bool have = false;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
            (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
          std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
          have = true;
        }
      }
      if (!have || (ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6))
        continue;
      auto q = parseQuotedEchoRequest(
          s.family, std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
      auto dest = fromSockaddr(dst);
      if (!q || !dest) continue;
      const std::string reason = icmpErrorReason(s.family, ee.ee_type, ee.ee_code);
      if (q->cookie) {
        if (q->cookie->cookie != cookie) continue;
        auto it = by_token.find(q->cookie->token);
        if (it == by_token.end() || !(it->second->spec.address == *dest)) continue;
        it->second->stats.icmpError(q->cookie->sequence, rx, reason);
        continue;
      }
      if (s.raw && q->id != echo_id) continue;  // another program's ping
      for (auto& [_, t] : targets) {
        if (t->spec.kind != ProbeKind::kIcmp || !(t->spec.address == *dest)) continue;
        if (auto seq = t->stats.outstandingSeq16(q->seq)) {
          t->stats.icmpError(*seq, rx, reason);
          break;
        }
      }
    }
  }

  // Neighbor Advertisements: solicited ones, with hop limit 255, for a target on the link
  // they arrived on, answer that target's newest solicitation (NDP has no sequence number).
  void receiveNdp() {
    std::uint8_t buf[1500];
    char control[256];
    for (int i = 0; i < 256; ++i) {
      sockaddr_in6 from{};
      msghdr msg;
      std::int64_t rx = 0;
      const ssize_t n = receiveMessage(ndp_fd, buf, sizeof buf, &from, sizeof from, control,
                                       sizeof control, 0, &msg, &rx);
      if (n < 0) return;
      int ifindex = 0, hop_limit = -1;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != IPPROTO_IPV6) continue;
        if (c->cmsg_type == IPV6_PKTINFO) {
          in6_pktinfo pi{};
          std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
          ifindex = static_cast<int>(pi.ipi6_ifindex);
        } else if (c->cmsg_type == IPV6_HOPLIMIT) {
          std::memcpy(&hop_limit, CMSG_DATA(c), sizeof hop_limit);
        }
      }
      if (hop_limit != 255) continue;
      auto a = parseNeighborAdvert(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
      if (!a || !a->solicited) continue;
      for (auto& [_, t] : targets) {
        if (t->spec.kind == ProbeKind::kNdp && t->spec.address == a->target &&
            t->ifindex == ifindex) {
          t->stats.replyToNewest(rx);
        }
      }
    }
  }

  void receiveArp() {
    std::uint8_t buf[256];
    for (int i = 0; i < 256; ++i) {
      sockaddr_ll from{};
      std::int64_t rx = 0;
      const ssize_t n = receiveTimestamped(arp_fd, buf, sizeof buf, &from, sizeof from, &rx);
      if (n < 0) return;
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      auto a = parseArp(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
      if (!a || a->op != 2) continue;
      for (auto& [_, t] : targets) {
        if (t->spec.kind == ProbeKind::kArp && t->spec.address == a->sender_ip &&
            t->ifindex == from.sll_ifindex) {
          t->stats.replyToNewest(rx);
        }
      }
    }
  }

  // --- the loop ------------------------------------------------------------------------

  void run() {
    ::pthread_setname_np(::pthread_self(), "fs-prober");  // bench/ finds the thread by name
    if (auto st = rtnl.open(); !st) {
      log::error(kComponent, st.error().message + "; gateways cannot be discovered");
    } else {
      rtnl_ok = true;
    }
    std::int64_t refresh_at = monoNs();
    while (!stop.stopped()) {
      std::int64_t now = monoNs();
      const std::uint64_t generation = (opts.neighbors ? opts.neighbors->generation() : 0) +
                                       (resolver ? resolver->generation() << 32 : 0);
      if (now >= refresh_at || generation != lldp_generation) {
        lldp_generation = generation;
        refreshTargets(now);
        refresh_at = now + toNs(kRefreshEvery);
      }
      std::vector<pollfd> fds;
      std::vector<std::pair<Target*, int>> tcp_index;  // (target, attempt fd)
      std::int64_t wake = refresh_at;
      {
        std::lock_guard<std::mutex> lock(mu);
        now = monoNs();
        while (!sends.empty() && sends.top().at <= now) {
          auto tt = sends.top();
          sends.pop();
          auto it = by_token.find(tt.token);
          if (it == by_token.end()) continue;
          Target& t = *it->second;
          if (t.next_send_mono != tt.at) continue;  // stale entry
          sendProbe(t);
          const auto period = std::max<std::int64_t>(toNs(t.spec.interval), 1'000'000);
          t.next_send_mono += period;
          if (t.next_send_mono <= now) t.next_send_mono = now + period;  // fell behind: skip
          sends.push({t.next_send_mono, t.token});
        }
        const std::int64_t now_rt = realtimeNs();
        while (!deadlines.empty() && deadlines.top().at <= now_rt) {
          const auto d = deadlines.top();
          deadlines.pop();
          auto it = by_token.find(d.token);
          if (it != by_token.end()) it->second->stats.expireSeq(d.seq, now_rt);
        }
        for (auto& [_, t] : targets) {
          if (tcp_targets == 0) break;  // nothing in flight to watch (the common case)
          for (std::size_t i = 0; i < t->attempts.size();) {
            if (t->attempts[i].deadline_mono <= now) {
              finishTcp(*t, i, true);
              continue;
            }
            wake = std::min(wake, t->attempts[i].deadline_mono);
            tcp_index.push_back({t.get(), t->attempts[i].fd});
            ++i;
          }
        }
        if (!sends.empty()) wake = std::min(wake, sends.top().at);
        if (!deadlines.empty()) wake = std::min(wake, monoNs() + (deadlines.top().at - now_rt));
      }
      fds.push_back({stop.fd(), POLLIN, 0});
      fds.push_back({icmp[0].fd, POLLIN, 0});
      fds.push_back({icmp[1].fd, POLLIN, 0});
      fds.push_back({arp_fd, POLLIN, 0});
      fds.push_back({rtnl_ok ? rtnl.eventFd() : -1, POLLIN, 0});
      fds.push_back({ndp_fd, POLLIN, 0});
      constexpr std::size_t kFirstTcp = 6;
      for (auto& [t, fd] : tcp_index) fds.push_back({fd, POLLOUT, 0});
      // Wake at least once a second to notice new LLDP management addresses.
      std::int64_t wait = std::clamp<std::int64_t>(wake - monoNs(), 0, 1'000'000'000);
      timespec ts{static_cast<time_t>(wait / 1'000'000'000),
                  static_cast<long>(wait % 1'000'000'000)};
      const int rc = ::ppoll(fds.data(), fds.size(), &ts, nullptr);
      if (rc <= 0) continue;
      if (fds[4].revents & POLLIN) {
        if (rtnl.drainEvents()) {
          // Routes change in bursts (an interface going down removes several): debounce.
          refresh_at = std::min(refresh_at, monoNs() + kDebounceNs);
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      // Errors first: draining the error queue also clears the socket's pending error, which
      // would otherwise fail the next plain receive.
      for (int f = 0; f < 2; ++f) {
        if (fds[1 + f].revents & POLLERR) receiveIcmpErrors(icmp[f]);
        if (fds[1 + f].revents & POLLIN) receiveIcmp(icmp[f]);
      }
      if (fds[3].revents & POLLIN) receiveArp();
      if (fds[5].revents & POLLIN) receiveNdp();
      for (std::size_t i = kFirstTcp; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        Target* t = tcp_index[i - kFirstTcp].first;
        if (by_token.find(t->token) == by_token.end()) continue;
        for (std::size_t j = 0; j < t->attempts.size(); ++j) {
          if (t->attempts[j].fd == fds[i].fd) {
            finishTcp(*t, j, false);
            break;
          }
        }
      }
    }
  }
};

Prober::Prober(ProberOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->opts = std::move(options);
  impl_->probes_sent = &probes_sent_;
  impl_->icmp[0].family = AF_INET;
  impl_->icmp[1].family = AF_INET6;
  std::random_device rd;
  impl_->cookie = (static_cast<std::uint64_t>(rd()) << 32) | rd();
  impl_->echo_id = static_cast<std::uint16_t>(rd());
  std::vector<HostResolver::Name> names;
  for (const auto& t : impl_->opts.targets) {
    if (!t.host.empty() && t.config_error.empty()) names.push_back({t.host, resolveFamily(t.kind)});
  }
  if (!names.empty()) {
    impl_->resolver = std::make_unique<HostResolver>(std::move(names), impl_->opts.resolve_interval,
                                                     impl_->opts.resolve_timeout);
  }
  impl_->thread = std::thread([this] { impl_->run(); });
}

Prober::~Prober() {
  impl_->stop.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Prober::visit(const std::function<void(const TargetView&)>& fn) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const std::int64_t now_rt = realtimeNs();
  for (const auto& [_, t] : impl_->targets) {
    TargetView v{&t->spec, &t->interface, &t->stats, t->stats.lossRatio(now_rt, 60),
                 t->stats.lossRatio(now_rt, 300)};
    fn(v);
  }
}

std::size_t Prober::lldpAddressesOverLimit() const {
  return impl_->lldp_over_limit.load();
}

bool Prober::settled() const {
  if (impl_->resolver && !impl_->resolver->firstRoundDone()) return false;
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->refreshed) return false;
  for (const auto& [_, t] : impl_->targets)
    if (t->stats.reason() == "pending" || t->stats.reason() == "resolving") return false;
  return true;
}

std::vector<IcmpSocketView> Prober::sockets() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<IcmpSocketView> out;
  for (const auto& s : impl_->icmp) {
    out.push_back({s.family == AF_INET ? "ipv4" : "ipv6",
                   s.fd >= 0 ? (s.raw ? "raw" : "ping") : (s.error.empty() ? "unused" : "none"),
                   s.error});
  }
  return out;
}

}  // namespace foreshock
