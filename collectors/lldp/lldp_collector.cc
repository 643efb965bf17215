#include "collectors/lldp/lldp_collector.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

#include "collectors/lldp/neighbor_table.h"
#include "core/file_util.h"
#include "core/log.h"
#include "core/stop_signal.h"

namespace foreshock {

std::vector<std::string> selectLldpInterfaces(const std::filesystem::path& class_net,
                                              const NameFilter& names) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(class_net, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!names.accepts(name)) continue;
    auto type = readAttribute(it->path() / "type");
    if (!type || *type != "1") continue;  // ARPHRD_ETHER only (not lo, tun, ip tunnels)
    // Only links that are up with a carrier: a down link (an unused ifb0, an unplugged port)
    // hears nothing, and a socket on it fails with ENETDOWN at every rescan.
    auto flags = readAttribute(it->path() / "flags");
    if (!flags || (std::strtoul(flags->c_str(), nullptr, 0) & IFF_UP) == 0) continue;
    auto carrier = readAttribute(it->path() / "carrier");  // EINVAL while admin down
    if (!carrier || *carrier != "1") continue;
    std::error_code ec2;
    if (std::filesystem::exists(it->path() / "bridge", ec2)) continue;   // bridge master
    if (std::filesystem::exists(it->path() / "bonding", ec2)) continue;  // bond master
    out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

constexpr const char* kComponent = "lldp";
constexpr auto kRescanEvery = std::chrono::seconds(10);
constexpr auto kWarnEvery = std::chrono::minutes(5);
constexpr auto kNeighbourLogWindow = std::chrono::minutes(1);
constexpr int kNeighbourLogBurst = 10;

// Accepts LLDP (ethertype 0x88cc) and CDP (802.3 length field, LLC AA-AA-03, SNAP OUI
// 00-00-0C, protocol 0x2000); drops everything else in the kernel, so a busy link costs
// nothing in user space.
const sock_filter kDiscoveryFilter[] = {
    {BPF_LD | BPF_H | BPF_ABS, 0, 0, 12},
    {BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 0x88cc},
    {BPF_JMP | BPF_JGT | BPF_K, 5, 0, 1500},
    {BPF_LD | BPF_W | BPF_ABS, 0, 0, 14},
    {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 0xaaaa0300},
    {BPF_LD | BPF_W | BPF_ABS, 0, 0, 18},
    {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0x000c2000},
    {BPF_RET | BPF_K, 0, 0, 0x40000},
    {BPF_RET | BPF_K, 0, 0, 0},
};

struct Listener {
  std::string name;
  int ifindex = 0;
  int fd = -1;
  std::string error;   // why there is no socket (empty when listening)
  std::string reason;  // bounded label value for the error
  std::uint64_t lldp_frames = 0;
  std::uint64_t cdp_frames = 0;
  std::uint64_t invalid_frames = 0;
  std::chrono::steady_clock::time_point last_warn{};
  // Rate limits of the log lines a neighbour can provoke: "table full" (one line per
  // kWarnEvery, with the count dropped since) and "neighbour on ..." (kNeighbourLogBurst
  // lines per kNeighbourLogWindow, then one line saying the rest are not logged).
  std::chrono::steady_clock::time_point last_full_warn{};
  std::uint64_t dropped_since_warn = 0;
  std::chrono::steady_clock::time_point neighbour_log_window{};
  int neighbour_logs = 0;
};

std::string errnoText(int e) {
  return std::strerror(e);
}

// Opens the capture socket for one interface. The socket starts with protocol 0 (it receives
// nothing) so that the filter is in place before the bind lets traffic in.
int openListener(const std::string& ifname, int ifindex, std::string* error, std::string* reason) {
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const int e = errno;
    *reason = e == EPERM ? "no_cap_net_raw" : "socket_error";
    *error = "AF_PACKET socket for " + ifname + ": " + errnoText(e) +
             (e == EPERM ? " (LLDP needs CAP_NET_RAW)" : "");
    return -1;
  }
  auto fail = [&](const std::string& what) {
    const int e = errno;
    *reason = "socket_error";
    *error = what + " on " + ifname + ": " + errnoText(e);
    ::close(fd);
    return -1;
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof kDiscoveryFilter / sizeof kDiscoveryFilter[0]),
                  const_cast<sock_filter*>(kDiscoveryFilter)};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
    return fail("attaching the LLDP/CDP filter");
  }
  int one = 1;
#ifdef PACKET_IGNORE_OUTGOING
  // A local lldpd's own frames would otherwise look like a neighbour.
  (void)::setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
#endif
  (void)one;
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) return fail("bind");
  // Many NICs drop link-local multicast they were not asked for: join the LLDP group
  // (01:80:c2:00:00:0e, "nearest bridge") and the CDP group (01:00:0c:cc:cc:cc).
  static const unsigned char kGroups[2][6] = {{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e},
                                              {0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc}};
  for (const auto& g : kGroups) {
    packet_mreq mr{};
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_MULTICAST;
    mr.mr_alen = 6;
    std::memcpy(mr.mr_address, g, 6);
    if (::setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0) {
      return fail("joining the LLDP multicast group");
    }
  }
  return fd;
}

// Thread-safety: the listener thread owns the sockets; the per-interface counters are
// guarded by mu_ and copied by collect().
class LldpCollector final : public Collector {
 public:
  LldpCollector(const CollectorContext& ctx, NameFilter names)
      : class_net_(ctx.paths.sys("class/net")),
        names_(std::move(names)),
        cdp_(ctx.config.getBool("cdp")),
        clock_(ctx.clock),
        table_(ctx.neighbors ? ctx.neighbors : std::make_shared<NeighborTable>()) {
    table_->setLimits({static_cast<std::size_t>(ctx.config.getInt("max_neighbors_per_interface")),
                       static_cast<std::size_t>(ctx.config.getInt("max_neighbors"))});
    thread_ = std::thread([this] { run(); });
  }

  ~LldpCollector() override {
    stop_.stop();
    if (thread_.joinable()) thread_.join();
    for (auto& [_, l] : listeners_)
      if (l.fd >= 0) ::close(l.fd);
  }

  Status collect(MetricSet& out) override {
    auto& table = *table_;
    table.expire(std::chrono::steady_clock::now());
    const auto now = std::chrono::steady_clock::now();
    std::map<std::string, std::size_t> counts;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [name, l] : listeners_) {
        counts[name] = 0;
        out.gauge(
            "foreshock_lldp_listener_up",
            "1 when the LLDP/CDP listener has a socket open on the interface; 0 with a reason.",
            {{"interface", name}, {"reason", l.reason}}, l.fd >= 0 ? 1 : 0);
        out.counter("foreshock_lldp_frames_received_total",
                    "Discovery frames received and decoded, by protocol.",
                    {{"interface", name}, {"protocol", "lldp"}},
                    static_cast<double>(l.lldp_frames));
        out.counter("foreshock_lldp_frames_received_total",
                    "Discovery frames received and decoded, by protocol.",
                    {{"interface", name}, {"protocol", "cdp"}}, static_cast<double>(l.cdp_frames));
        out.counter("foreshock_lldp_frames_invalid_total",
                    "Discovery frames that could not be decoded (malformed TLVs).",
                    {{"interface", name}}, static_cast<double>(l.invalid_frames));
      }
    }
    for (const auto& e : table.entries()) {
      const auto& n = e.neighbor;
      ++counts[e.interface];
      std::string mgmt;
      for (const auto& a : n.management_addresses)
        if (a.family == 1) {
          mgmt = a.address;
          break;
        }
      if (mgmt.empty())
        for (const auto& a : n.management_addresses)
          if (a.family == 2) {
            mgmt = a.address;
            break;
          }
      out.info("foreshock_lldp_neighbor_info",
               "The switch (or other LLDP/CDP speaker) heard on an interface; value 1.",
               {{"interface", e.interface},
                {"chassis_id", n.chassis_id},
                {"system_name", n.system_name},
                {"port_id", n.port_id},
                {"port_description", n.port_description},
                {"mgmt_address", mgmt}});
      Labels key{{"interface", e.interface}, {"chassis_id", n.chassis_id}, {"port_id", n.port_id}};
      Labels details = key;
      details.push_back({"protocol", n.protocol});
      details.push_back({"chassis_id_subtype", std::to_string(n.chassis_id_subtype)});
      details.push_back({"port_id_subtype", std::to_string(n.port_id_subtype)});
      details.push_back({"system_description", n.system_description});
      details.push_back({"capabilities", n.capabilities_supported
                                             ? lldpCapabilityNames(*n.capabilities_supported)
                                             : ""});
      details.push_back({"enabled_capabilities", n.capabilities_enabled
                                                     ? lldpCapabilityNames(*n.capabilities_enabled)
                                                     : ""});
      details.push_back({"port_vlan_id", n.port_vlan_id ? std::to_string(*n.port_vlan_id) : ""});
      details.push_back({"source_mac", n.source_mac});
      out.info("foreshock_lldp_neighbor_details_info",
               "More about a neighbour: protocol, id subtypes, description, capabilities, PVID.",
               details);
      const double left = std::chrono::duration<double>(e.expires - now).count();
      out.gauge("foreshock_lldp_neighbor_ttl_remaining_seconds",
                "Seconds until the neighbour ages out unless it is heard again.", key,
                left > 0 ? left : 0);
      out.gauge("foreshock_lldp_neighbor_last_seen_timestamp_seconds",
                "When the neighbour's last frame arrived (Unix seconds).", key, e.last_seen);
      if (n.mac_phy) {
        out.gauge("foreshock_lldp_neighbor_mau_type",
                  "802.3 MAU type the neighbour reports for its port (RFC 4836 numbering).", key,
                  n.mac_phy->mau_type);
      }
      if (n.max_frame_size) {
        out.gauge("foreshock_lldp_neighbor_max_frame_size_bytes",
                  "802.3 maximum frame size the neighbour's port accepts.", key, *n.max_frame_size);
      }
    }
    for (const auto& [iface, c] : counts) {
      out.gauge("foreshock_lldp_neighbors", "Neighbours currently known on the interface.",
                {{"interface", iface}}, static_cast<double>(c));
    }
    const auto dropped = table.droppedByInterface();
    for (const auto& [iface, _] : counts) {
      auto d = dropped.find(iface);
      const auto by_interface = d == dropped.end() ? 0 : d->second.interface_limit;
      const auto by_table = d == dropped.end() ? 0 : d->second.table_limit;
      out.counter("foreshock_lldp_neighbors_dropped_total",
                  "New neighbours not recorded because the table was full: reason "
                  "interface_limit (max_neighbors_per_interface) or table_limit (max_neighbors).",
                  {{"interface", iface}, {"reason", "interface_limit"}},
                  static_cast<double>(by_interface));
      out.counter("foreshock_lldp_neighbors_dropped_total",
                  "New neighbours not recorded because the table was full: reason "
                  "interface_limit (max_neighbors_per_interface) or table_limit (max_neighbors).",
                  {{"interface", iface}, {"reason", "table_limit"}}, static_cast<double>(by_table));
    }
    for (const auto& [iface, c] : table.changesByInterface()) {
      out.counter("foreshock_lldp_neighbor_changes_total",
                  "Neighbours appearing, disappearing or changing identity on the interface.",
                  {{"interface", iface}}, static_cast<double>(c));
    }
    out.declare("foreshock_lldp_neighbor_changes_total",
                "Neighbours appearing, disappearing or changing identity on the interface.",
                prometheus::MetricType::Counter);
    return Status::Ok();
  }

 private:
  void rescan() {
    auto names = selectLldpInterfaces(class_net_, names_);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      const bool keep = std::find(names.begin(), names.end(), it->first) != names.end() &&
                        static_cast<int>(::if_nametoindex(it->first.c_str())) == it->second.ifindex;
      if (keep) {
        ++it;
        continue;
      }
      log::info(kComponent, "interface " + it->first + " is down or gone; stopped listening on it");
      if (it->second.fd >= 0) ::close(it->second.fd);
      table_->removeInterface(it->first);
      it = listeners_.erase(it);
    }
    for (const auto& name : names) {
      auto& l = listeners_[name];
      if (l.fd >= 0) continue;
      l.name = name;
      l.ifindex = static_cast<int>(::if_nametoindex(name.c_str()));
      if (l.ifindex == 0) {
        l.reason = "vanished";
        l.error = "interface " + name + " vanished";
        continue;
      }
      std::string error, reason;
      l.fd = openListener(name, l.ifindex, &error, &reason);
      if (l.fd < 0) {
        if (l.error != error) log::error(kComponent, error);
        l.error = error;
        l.reason = reason;
      } else {
        log::info(kComponent,
                  "listening for LLDP" + std::string(cdp_ ? "/CDP" : "") + " on " + name);
        l.error.clear();
        l.reason.clear();
      }
    }
  }

  void receive(Listener& l) {
    std::uint8_t buf[2048];
    for (int i = 0; i < 64; ++i) {
      sockaddr_ll from{};
      socklen_t flen = sizeof from;
      const ssize_t n =
          ::recvfrom(l.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        // ENETDOWN/ENXIO: the interface went down or away (an expected event, not a warning);
        // the next rescan stops listening on it or reopens the socket.
        const int e = errno;
        if (e == ENETDOWN || e == ENXIO || e == ENODEV) {
          log::info(kComponent, "receive on " + l.name + ": " + errnoText(e));
        } else {
          log::warn(kComponent, "receive on " + l.name + ": " + errnoText(e));
        }
        ::close(l.fd);
        l.fd = -1;
        l.reason = "receive_error";
        return;
      }
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      auto r =
          decodeDiscoveryFrame(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
      if (!r) {
        ++l.invalid_frames;
        const auto now = std::chrono::steady_clock::now();
        if (now - l.last_warn > kWarnEvery) {
          l.last_warn = now;
          log::warn(kComponent,
                    "malformed discovery frame on " + l.name + ": " + r.error().message);
        }
        continue;
      }
      if (r->protocol == "cdp") {
        if (!cdp_) continue;
        ++l.cdp_frames;
      } else {
        ++l.lldp_frames;
      }
      const auto now = std::chrono::steady_clock::now();
      switch (table_->update(l.name, *r, now, clock_->wallSeconds())) {
        case NeighborUpdate::kRefreshed: break;
        case NeighborUpdate::kChanged: logNeighbour(l, *r, now); break;
        case NeighborUpdate::kInterfaceFull:
        case NeighborUpdate::kTableFull: logFull(l, now); break;
      }
    }
  }

  void logNeighbour(Listener& l, const LldpNeighbor& n, std::chrono::steady_clock::time_point now) {
    if (now - l.neighbour_log_window > kNeighbourLogWindow) {
      l.neighbour_log_window = now;
      l.neighbour_logs = 0;
    }
    if (++l.neighbour_logs > kNeighbourLogBurst) return;
    if (l.neighbour_logs == kNeighbourLogBurst) {
      log::warn(kComponent, "neighbour changes on " + l.name + " are not logged for the next " +
                                "minute (more than " + std::to_string(kNeighbourLogBurst) +
                                "); see foreshock_lldp_neighbor_changes_total");
      return;
    }
    log::info(kComponent, "neighbour on " + l.name + ": " + n.system_name + " port " + n.port_id +
                              " (" + n.protocol + ", ttl " + std::to_string(n.ttl_seconds) + "s)");
  }

  void logFull(Listener& l, std::chrono::steady_clock::time_point now) {
    ++l.dropped_since_warn;
    if (l.last_full_warn != std::chrono::steady_clock::time_point{} &&
        now - l.last_full_warn < kWarnEvery) {
      return;
    }
    const auto limits = table_->limits();
    log::warn(kComponent, "neighbour table full: dropped " + std::to_string(l.dropped_since_warn) +
                              " new neighbour(s) heard on " + l.name +
                              " (limits: " + std::to_string(limits.per_interface) +
                              " per interface, " + std::to_string(limits.total) +
                              " in total); logged at most every 5 minutes, counted in "
                              "foreshock_lldp_neighbors_dropped_total");
    l.last_full_warn = now;
    l.dropped_since_warn = 0;
  }

  void run() {
    ::pthread_setname_np(::pthread_self(), "fs-lldp");
    auto next_scan = std::chrono::steady_clock::now();
    while (!stop_.stopped()) {
      if (std::chrono::steady_clock::now() >= next_scan) {
        rescan();
        next_scan = std::chrono::steady_clock::now() + kRescanEvery;
      }
      std::vector<pollfd> fds;
      std::vector<std::string> names;
      {
        std::lock_guard<std::mutex> lock(mu_);
        fds.push_back({stop_.fd(), POLLIN, 0});
        for (auto& [name, l] : listeners_) {
          if (l.fd < 0) continue;
          fds.push_back({l.fd, POLLIN, 0});
          names.push_back(name);
        }
      }
      const int rc = ::poll(fds.data(), fds.size(), 1000);
      if (rc < 0 && errno != EINTR) {
        log::error(kComponent, "poll: " + errnoText(errno));
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      table_->expire(std::chrono::steady_clock::now());
      if (rc <= 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLERR)) == 0) continue;
        auto it = listeners_.find(names[i - 1]);
        if (it != listeners_.end() && it->second.fd == fds[i].fd) receive(it->second);
      }
    }
  }

  std::filesystem::path class_net_;
  NameFilter names_;  // include / exclude
  bool cdp_;
  const Clock* clock_;
  std::shared_ptr<NeighborTable> table_;
  StopSignal stop_;  // set by the destructor; wakes run()'s poll
  std::mutex mu_;
  std::map<std::string, Listener> listeners_;
  std::thread thread_;
};

}  // namespace

CollectorInfo lldpCollectorInfo() {
  CollectorInfo info;
  info.name = "lldp";
  info.description = "LLDP/CDP neighbours: which switch and port each interface is plugged into.";
  info.enabled_by_default = true;
  info.default_interval = std::chrono::seconds(15);
  info.default_timeout = std::chrono::seconds(2);
  info.options = {
      opt::regex("include", ".*",
                 "Listen on interfaces whose name fully matches this regex (e.g. \"eth.*\"; "
                 "empty: none)."),
      opt::regex("exclude",
                 "lo|veth.*|docker.*|virbr.*|vnet.*|br-.*|cali.*|flannel.*|cni.*|tap.*|tun.*",
                 "Never listen on interfaces whose name fully matches this regex (virtual links "
                 "by default)."),
      opt::boolean("cdp", true, "Also decode Cisco Discovery Protocol frames (fallback source)."),
      opt::integer("max_neighbors_per_interface", 16, 1, 4096,
                   "At most this many neighbours are kept per interface (a real switch port has "
                   "one); further new ones are dropped and counted in "
                   "foreshock_lldp_neighbors_dropped_total until a slot frees up."),
      opt::integer("max_neighbors", 256, 1, 65536,
                   "At most this many neighbours are kept over all interfaces; further new ones "
                   "are dropped and counted."),
  };
  info.factory = [](const CollectorContext& ctx) -> Result<std::unique_ptr<Collector>> {
    auto names = NameFilter::fromConfig(ctx.config);
    if (!names) return names.error();
    return std::unique_ptr<Collector>(std::make_unique<LldpCollector>(ctx, std::move(*names)));
  };
  return info;
}

}  // namespace foreshock
