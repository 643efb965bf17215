#include "collectors/netdev/netdev_collector.h"

#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "collectors/netdev/netdev_model.h"
#include "collectors/netdev/netlink_io.h"
#include "core/log.h"
#include "core/name_filter.h"
#include "core/stop_signal.h"

namespace foreshock {

namespace netdev {
namespace {

struct Options {
  std::set<std::string> kinds;
  std::string include, exclude;
  bool ethtool = true;
  bool ethtool_netlink = true;
  std::string driver_stats_include;
  bool optics = true;
  Duration optics_interval{};
  bool flap_events = true;
  std::vector<std::string> namespaces;
  Duration netlink_timeout{};
};

Options readOptions(const ConfigSection& c) {
  Options o;
  for (const auto& k : c.getStringList("kinds")) o.kinds.insert(k);
  o.include = c.getString("include");
  o.exclude = c.getString("exclude");
  o.ethtool = c.getBool("ethtool");
  o.ethtool_netlink = c.getBool("ethtool_netlink");
  o.driver_stats_include = c.getString("driver_stats_include");
  o.optics = c.getBool("optics");
  o.optics_interval = c.getDuration("optics_interval");
  o.flap_events = c.getBool("flap_events");
  o.namespaces = c.getStringList("namespaces");
  o.netlink_timeout = c.getDuration("netlink_timeout");
  return o;
}

// Logs a problem once per distinct message and the recovery once, so a persistent failure does
// not flood the log every cycle. Thread-safety: internal mutex.
class ProblemLog {
 public:
  explicit ProblemLog(std::string component) : component_(std::move(component)) {}
  void problem(const std::string& key, const std::string& msg) {
    std::lock_guard<std::mutex> l(mu_);
    auto& last = last_[key];
    if (last != msg) log::warn(component_, msg);
    last = msg;
  }
  void ok(const std::string& key) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = last_.find(key);
    if (it == last_.end()) return;
    log::info(component_, key + ": recovered");
    last_.erase(it);
  }

 private:
  std::string component_;
  std::mutex mu_;
  std::map<std::string, std::string> last_;
};

// Runs fn in a short-lived thread that has joined the network namespace at `path` (setns
// affects only the calling thread, so the agent's other threads stay where they are). Sockets
// opened by fn stay in that namespace for their whole life. Empty path: runs fn here.
Status inNamespace(const std::string& path, const std::function<Status()>& fn) {
  if (path.empty()) return fn();
  Status result = makeError(path + ": namespace thread did not run");
  std::thread t([&] {
    // O_NONBLOCK: a FIFO in place of the namespace file must not block this thread.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
      result = makeError("network namespace " + path + ": " + std::strerror(errno));
      return;
    }
    if (::setns(fd, CLONE_NEWNET) < 0) {
      int e = errno;
      ::close(fd);
      result = makeError("network namespace " + path + ": setns: " + std::strerror(e) +
                         (e == EPERM ? " (needs CAP_SYS_ADMIN)" : ""));
      return;
    }
    ::close(fd);
    result = fn();
  });
  t.join();
  return result;
}

// Everything the collector holds for one network namespace.
// Thread-safety: the sockets used by collect() (rtnl, ethtool, ioctl_fd, caches) are touched
// only by the collect thread; the event thread owns events_sock; the optics thread owns
// optics_client; `optics_mu` guards the optics targets and readings shared between them;
// FlapTracker is internally synchronised.
struct Source {
  std::string path;   // empty: the agent's own namespace
  std::string label;  // value of the netns label; empty for the own namespace
  bool opened = false;
  std::string open_error;
  // The namespace file's identity when the sockets were opened: `ip netns del` only unmounts the
  // path (our sockets keep the namespace alive), and a recreated namespace has a new inode.
  dev_t ns_dev = 0;
  ino_t ns_ino = 0;

  std::unique_ptr<NetlinkSocket> rtnl;
  std::unique_ptr<EthtoolClient> ethtool;
  std::string ethtool_error;
  int ioctl_fd = -1;

  FlapTracker tracker;
  std::unique_ptr<NetlinkSocket> events_sock;
  std::thread events_thread;
  // Wakes events_thread to exit; one per thread (a stop signal stays set once stopped).
  std::unique_ptr<StopSignal> events_stop;

  std::unique_ptr<EthtoolClient> optics_client;
  std::mutex optics_mu;
  std::vector<std::pair<std::int32_t, std::string>> optics_targets;
  std::map<std::int32_t, ModuleReading> modules;
  std::set<std::int32_t> no_module;

  struct DriverEntry {
    std::string name;
    std::optional<DriverInfo> info;
    std::vector<std::string> stat_names;  // only when driver stats are enabled
    std::vector<std::size_t> stat_selected;
    bool names_loaded = false;
  };
  std::map<std::int32_t, DriverEntry> drivers;

  std::uint64_t dump_retries = 0;

  ~Source() {
    stopEvents();
    if (ioctl_fd >= 0) ::close(ioctl_fd);
  }

  // Stops and joins the link event thread, if one runs.
  void stopEvents() {
    if (events_thread.joinable()) {
      events_stop->stop();
      events_thread.join();
    }
    events_stop.reset();
  }

  Labels extra() const {
    if (label.empty()) return {};
    return {{"netns", label}};
  }
};

// The collector. Thread-safety: collect() runs on one scheduler thread at a time; the per-
// namespace event threads and the optics thread share only FlapTracker (internally locked),
// Source::optics_* (under Source::optics_mu) and the stop/wake flags (under optics_cv_mu_).
class NetdevCollector final : public Collector {
 public:
  explicit NetdevCollector(const CollectorContext& ctx)
      : name_(ctx.name),
        clock_(ctx.clock),
        opt_(readOptions(ctx.config)),
        selector_(opt_.kinds, opt_.include, opt_.exclude),
        driver_stats_(opt_.driver_stats_include),
        log_(ctx.name) {
    auto own = std::make_unique<Source>();
    sources_.push_back(std::move(own));
    for (const auto& p : opt_.namespaces) {
      auto s = std::make_unique<Source>();
      s->path = p;
      s->label = std::filesystem::path(p).filename().string();
      sources_.push_back(std::move(s));
    }
    for (auto& s : sources_) openSource(*s);
    if (opt_.optics && opt_.ethtool) optics_thread_ = std::thread([this] { opticsLoop(); });
  }

  ~NetdevCollector() override {
    {
      std::lock_guard<std::mutex> l(optics_cv_mu_);
      stopping_ = true;
    }
    optics_cv_.notify_all();
    if (optics_thread_.joinable()) optics_thread_.join();
    sources_.clear();
  }

  Status collect(MetricSet& out) override {
    for (auto& sp : sources_) {
      Source& s = *sp;
      if (s.opened && !s.path.empty()) {
        struct stat st {};
        if (::stat(s.path.c_str(), &st) != 0 || st.st_dev != s.ns_dev || st.st_ino != s.ns_ino) {
          log_.problem("netns " + s.path,
                       "network namespace " + s.path + " was removed or replaced; reopening");
          closeSource(s);
        }
      }
      if (!s.opened) openSource(s);
      if (!s.opened) {
        if (s.path.empty()) return makeError(s.open_error);
        out.gauge("foreshock_network_namespace_up",
                  "1 when the configured network namespace could be read; 0 with the reason.",
                  {{"netns", s.label}, {"reason", s.open_error}}, 0);
        continue;
      }
      Status st = collectSource(s, out);
      if (!st) {
        if (s.path.empty()) return st;
        // A namespace that went away: report it and reopen on the next cycle.
        log_.problem("netns " + s.path, st.error().message);
        out.gauge("foreshock_network_namespace_up",
                  "1 when the configured network namespace could be read; 0 with the reason.",
                  {{"netns", s.label}, {"reason", st.error().message}}, 0);
        closeSource(s);
        continue;
      }
      if (!s.path.empty()) {
        log_.ok("netns " + s.path);
        out.gauge("foreshock_network_namespace_up",
                  "1 when the configured network namespace could be read; 0 with the reason.",
                  {{"netns", s.label}, {"reason", ""}}, 1);
      }
    }
    return Status::Ok();
  }

 private:
  void openSource(Source& s) {
    if (!s.path.empty()) {
      struct stat st {};
      if (::stat(s.path.c_str(), &st) != 0) {
        s.open_error = "network namespace " + s.path + ": " + std::strerror(errno);
        log_.problem("open " + s.path, s.open_error);
        return;
      }
      s.ns_dev = st.st_dev;
      s.ns_ino = st.st_ino;
    }
    Status st = inNamespace(s.path, [&]() -> Status {
      auto rtnl = NetlinkSocket::open(NETLINK_ROUTE, {}, opt_.netlink_timeout);
      if (!rtnl) return makeError("rtnetlink socket: " + rtnl.error().message);
      s.rtnl = std::move(*rtnl);
      if (opt_.ethtool) {
        s.ioctl_fd = openIoctlSocket();
        auto et = opt_.ethtool_netlink ? EthtoolClient::open(opt_.netlink_timeout)
                                       : Result<std::unique_ptr<EthtoolClient>>(
                                             makeError("disabled by ethtool_netlink: false"));
        if (et) {
          s.ethtool = std::move(*et);
          s.ethtool_error.clear();
        } else {
          s.ethtool_error = et.error().message;
        }
        if (opt_.optics && s.ethtool) {
          auto oc = EthtoolClient::open(opt_.netlink_timeout);
          std::lock_guard<std::mutex> l(s.optics_mu);
          if (oc) s.optics_client = std::move(*oc);
        }
      }
      if (opt_.flap_events) {
        // A large receive buffer: a host with thousands of links can emit bursts of events.
        auto ev = NetlinkSocket::open(NETLINK_ROUTE, {RTNLGRP_LINK}, opt_.netlink_timeout, 4 << 20);
        if (!ev) return makeError("link event socket: " + ev.error().message);
        s.events_sock = std::move(*ev);
      }
      return Status::Ok();
    });
    if (!st) {
      s.open_error = st.error().message;
      log_.problem("open " + s.path,
                   (s.path.empty() ? "" : "netns " + s.path + ": ") + s.open_error);
      return;
    }
    log_.ok("open " + s.path);
    if (!s.ethtool_error.empty()) {
      log_.problem("ethtool " + s.path,
                   "ethtool netlink unavailable, link details off: " + s.ethtool_error);
    }
    if (s.events_sock) {
      s.events_stop = std::make_unique<StopSignal>();
      s.events_thread = std::thread([this, &s] { eventsLoop(s); });
    }
    s.opened = true;
  }

  void closeSource(Source& s) {
    s.stopEvents();
    s.events_sock.reset();
    s.rtnl.reset();
    s.ethtool.reset();
    if (s.ioctl_fd >= 0) ::close(s.ioctl_fd);
    s.ioctl_fd = -1;
    {
      std::lock_guard<std::mutex> l(s.optics_mu);
      s.optics_client.reset();
      s.optics_targets.clear();
    }
    s.drivers.clear();
    s.opened = false;
  }

  // The event thread: every RTM_NEWLINK/RTM_DELLINK updates the flap tracker with its arrival
  // time, so a carrier change between two polls is counted and time-stamped.
  void eventsLoop(Source& s) {
    pollfd fds[2] = {{s.events_sock->fd(), POLLIN, 0}, {s.events_stop->fd(), POLLIN, 0}};
    for (;;) {
      int r = ::poll(fds, 2, -1);
      if (r < 0) {
        if (errno == EINTR) continue;
        log_.problem("events " + s.path, std::string("link event poll: ") + std::strerror(errno));
        return;
      }
      if ((fds[1].revents & POLLIN) != 0) return;
      if ((fds[0].revents & (POLLIN | POLLERR)) == 0) continue;
      const double now = clock_->wallSeconds();
      int e = s.events_sock->receiveEvents([&](std::span<const std::uint8_t> msg) {
        auto link = parseLinkMessage(msg);
        if (link) s.tracker.observe(*link, now, true);
      });
      if (e == ENOBUFS) {
        // The kernel dropped events (socket overrun); the next dump reconciles the counts
        // from the kernel's carrier_down_count.
        s.tracker.countOverrun();
      }
    }
  }

  // The slow optics thread: reads module EEPROMs of the selected physical interfaces on its
  // own interval with its own sockets, so a NIC that stalls on an I2C read never delays the
  // main cycle (collect() only copies the last readings).
  void opticsLoop() {
    {
      // Nothing to read before the first cycle has published the interfaces.
      std::unique_lock<std::mutex> l(optics_cv_mu_);
      optics_cv_.wait(l, [this] { return stopping_ || optics_wake_; });
      optics_wake_ = false;
      if (stopping_) return;
    }
    for (;;) {
      for (auto& sp : sources_) {
        Source& s = *sp;
        std::vector<std::pair<std::int32_t, std::string>> targets;
        {
          std::lock_guard<std::mutex> l(s.optics_mu);
          if (!s.optics_client) continue;
          targets = s.optics_targets;
        }
        for (const auto& [ifindex, ifname] : targets) {
          {
            std::lock_guard<std::mutex> l(optics_cv_mu_);
            if (stopping_) return;
          }
          {
            std::lock_guard<std::mutex> l(s.optics_mu);
            if (s.no_module.count(ifindex) != 0) continue;
          }
          int err = 0;
          ModuleReading reading;
          reading.timestamp = clock_->wallSeconds();
          auto diag = readModule(*s.optics_client, ifindex, &err);
          std::lock_guard<std::mutex> l(s.optics_mu);
          if (!diag && (err == EOPNOTSUPP || err == ENODEV || err == EINVAL)) {
            // No module support (or no module cage) on this device: not an error, no series.
            log::debug(name_, ifname + ": no pluggable module readable (" +
                                  std::string(std::strerror(err)) + "); not asked again");
            s.no_module.insert(ifindex);
            s.modules.erase(ifindex);
            continue;
          }
          reading.ok = diag.ok();
          if (diag) {
            reading.diag = std::move(*diag);
            log_.ok("module " + ifname);
          } else {
            reading.error = diag.error().message;
            log_.problem("module " + ifname, ifname + ": module EEPROM: " + reading.error);
          }
          s.modules[ifindex] = std::move(reading);
        }
      }
      std::unique_lock<std::mutex> l(optics_cv_mu_);
      optics_cv_.wait_for(l, opt_.optics_interval, [this] { return stopping_ || optics_wake_; });
      optics_wake_ = false;
      if (stopping_) return;
    }
  }

  Status collectSource(Source& s, MetricSet& out) {
    std::vector<std::string> parse_errors;
    auto links = dumpLinks(*s.rtnl, &s.dump_retries, &parse_errors);
    if (!links) return links.error();
    for (const auto& e : parse_errors) log_.problem("parse " + s.path, e);

    const double now = clock_->wallSeconds();
    std::set<std::int32_t> present;
    for (const auto& l : *links) {
      present.insert(l.ifindex);
      s.tracker.observe(l, now, false);
    }
    s.tracker.retainOnly(present);

    std::map<std::int32_t, LinkModes> modes;
    std::map<std::int32_t, StandardStats> standard;
    std::map<std::int32_t, FecStats> fec;
    if (s.ethtool) {
      std::vector<std::string> errs;
      auto report = [&](const char* what, const Error& e) {
        log_.problem(std::string(what) + s.path, e.message);
      };
      if (auto r = s.ethtool->dumpLinkModes(&errs)) {
        modes = std::move(*r);
        log_.ok(std::string("ethtool link modes dump") + s.path);
      } else {
        report("ethtool link modes dump", r.error());
      }
      if (auto r = s.ethtool->dumpStats(&errs)) {
        standard = std::move(*r);
        log_.ok(std::string("ethtool stats dump") + s.path);
      } else {
        report("ethtool stats dump", r.error());
      }
      if (auto r = s.ethtool->dumpFec(&errs)) {
        fec = std::move(*r);
        log_.ok(std::string("ethtool FEC dump") + s.path);
      } else {
        report("ethtool FEC dump", r.error());
      }
      for (const auto& e : errs) log_.problem("ethtool parse " + s.path, e);
    }

    std::vector<LinkView> views;
    std::vector<std::pair<std::int32_t, std::string>> optics_targets;
    for (auto& l : *links) {
      if (!selector_.selected(l)) continue;
      LinkView v;
      v.kind = linkKind(l);
      if (auto it = modes.find(l.ifindex); it != modes.end()) {
        v.modes = it->second;
      } else if (!s.ethtool && s.ioctl_fd >= 0) {
        // Old kernel (or ethtool_netlink: false): the per-interface ioctl fallback.
        if (auto lm = ethtoolLinkSettings(s.ioctl_fd, l.name)) v.modes = std::move(*lm);
      }
      if (auto it = standard.find(l.ifindex); it != standard.end()) v.standard = it->second;
      if (auto it = fec.find(l.ifindex); it != fec.end()) v.fec = it->second;
      v.flaps = s.tracker.get(l.ifindex);
      if (s.ioctl_fd >= 0) driverDetails(s, l, v);
      if (v.kind == "physical") optics_targets.emplace_back(l.ifindex, l.name);
      v.link = std::move(l);
      views.push_back(std::move(v));
    }
    // Forget cached driver details of links that are gone.
    for (auto it = s.drivers.begin(); it != s.drivers.end();) {
      it = present.count(it->first) != 0 ? std::next(it) : s.drivers.erase(it);
    }
    {
      std::lock_guard<std::mutex> lk(s.optics_mu);
      // A module not read yet (first cycle, new interface) wakes the optics thread now rather
      // than at the end of its slow interval.
      bool unread = false;
      for (const auto& t : optics_targets) {
        if (s.modules.count(t.first) == 0 && s.no_module.count(t.first) == 0) unread = true;
      }
      s.optics_targets = optics_targets;
      if (unread && opt_.optics) {
        {
          std::lock_guard<std::mutex> l(optics_cv_mu_);
          optics_wake_ = true;
        }
        optics_cv_.notify_all();
      }
      for (auto it = s.modules.begin(); it != s.modules.end();) {
        it = present.count(it->first) != 0 ? std::next(it) : s.modules.erase(it);
      }
      for (auto& v : views) {
        if (auto it = s.modules.find(v.link.ifindex); it != s.modules.end()) v.module = it->second;
      }
    }

    const Labels extra = s.extra();
    renderLinks(views, extra, out);
    out.gauge("foreshock_network_selected_interfaces",
              "Interfaces reported by the netdev collector (after kind and regex selection).",
              extra, static_cast<double>(views.size()));
    out.counter("foreshock_network_link_event_overruns_total",
                "Times the kernel dropped link events because the agent's socket was full (the "
                "next dump reconciles flap counts).",
                extra, static_cast<double>(s.tracker.overruns()));
    out.counter("foreshock_network_dump_retries_total",
                "RTM_GETLINK dumps repeated because the kernel flagged them inconsistent "
                "(NLM_F_DUMP_INTR).",
                extra, static_cast<double>(s.dump_retries));
    return Status::Ok();
  }

  // Driver, firmware and bus from SIOCETHTOOL (cached per link: they only change with the
  // driver), and the opt-in driver-private counters.
  void driverDetails(Source& s, const LinkMessage& l, LinkView& v) {
    auto& d = s.drivers[l.ifindex];
    if (d.name != l.name) {
      d = Source::DriverEntry{};
      d.name = l.name;
      auto info = ethtoolDriverInfo(s.ioctl_fd, l.name);
      if (info) d.info = std::move(*info);
    }
    v.driver = d.info;
    if (driver_stats_.pattern().empty() || !d.info) return;
    if (!d.names_loaded) {
      d.names_loaded = true;
      auto names = ethtoolStatNames(s.ioctl_fd, l.name);
      if (!names) {
        log_.problem("driver stats " + l.name, names.error().message);
        return;
      }
      d.stat_names = std::move(*names);
      for (std::size_t i = 0; i < d.stat_names.size(); ++i) {
        if (driver_stats_.matches(d.stat_names[i])) d.stat_selected.push_back(i);
      }
    }
    if (d.stat_selected.empty()) return;
    auto values = ethtoolStatValues(s.ioctl_fd, l.name, d.stat_names.size());
    if (!values) {
      log_.problem("driver stats " + l.name, values.error().message);
      return;
    }
    DriverStats stats;
    for (std::size_t i : d.stat_selected) {
      if (i < values->size()) stats.emplace_back(d.stat_names[i], (*values)[i]);
    }
    v.driver_stats = std::move(stats);
  }

  std::string name_;
  const Clock* clock_;
  Options opt_;
  LinkSelector selector_;
  NamePattern driver_stats_;  // driver_stats_include; empty: none
  ProblemLog log_;
  std::vector<std::unique_ptr<Source>> sources_;

  std::thread optics_thread_;
  std::mutex optics_cv_mu_;
  std::condition_variable optics_cv_;
  bool stopping_ = false;
  bool optics_wake_ = false;  // guarded by optics_cv_mu_
};

}  // namespace
}  // namespace netdev

CollectorInfo netdevCollectorInfo() {
  CollectorInfo info;
  info.name = "netdev";
  info.description =
      "NIC counters, link state and flaps (rtnetlink), link details, standard stats and optics "
      "(ethtool netlink).";
  info.enabled_by_default = true;
  info.default_interval = std::chrono::seconds(15);
  info.default_timeout = std::chrono::seconds(10);
  info.options = {
      opt::stringList("kinds", {"physical", "bond", "bridge", "vlan"},
                      "Link kinds reported by default: \"physical\" (no rtnetlink kind: real "
                      "NICs), \"loopback\", or an rtnetlink kind such as bond, bridge, vlan, veth, "
                      "tun, macvlan, vxlan."),
      opt::regex("include", "",
                 "Interfaces (whole-name regex) reported whatever their kind, e.g. \"veth.*\"; "
                 "empty: none."),
      opt::regex("exclude", "",
                 "Interfaces (whole-name regex) never reported; wins over include and kinds."),
      opt::boolean("ethtool", true,
                   "Read link details (speed, duplex, autonegotiation), standard statistics "
                   "groups, FEC counters and driver info through ethtool."),
      opt::boolean("ethtool_netlink", true,
                   "Use the ethtool netlink family; false (or a kernel before 5.6 without it) "
                   "falls back to the SIOCETHTOOL ioctl for speed/duplex/autonegotiation, one "
                   "call per interface, without standard statistics groups, FEC or optics."),
      opt::regex("driver_stats_include", "",
                 "Driver-private ethtool -S counters (whole-name regex) to export as "
                 "foreshock_network_driver_stat; empty: none (they multiply series)."),
      opt::boolean("optics", true,
                   "Read pluggable module diagnostics (SFP/QSFP EEPROM) of physical interfaces "
                   "in a separate thread every optics_interval."),
      opt::duration("optics_interval", std::chrono::minutes(5), std::chrono::seconds(10),
                    std::chrono::hours(24),
                    "How often module EEPROMs are read (slow: some NICs stall on I2C reads)."),
      opt::boolean("flap_events", true,
                   "Subscribe to link events (RTNLGRP_LINK) to count flaps between polls."),
      opt::stringList("namespaces", {},
                      "Extra network namespaces to report, by path (e.g. /run/netns/tenant1); "
                      "their series carry a netns label (the path's last component)."),
      opt::duration("netlink_timeout", std::chrono::seconds(2), std::chrono::milliseconds(100),
                    std::chrono::seconds(60), "Bound on every netlink reply wait."),
  };
  info.factory = [](const CollectorContext& ctx) -> Result<std::unique_ptr<Collector>> {
    return std::unique_ptr<Collector>(std::make_unique<netdev::NetdevCollector>(ctx));
  };
  return info;
}

}  // namespace foreshock
