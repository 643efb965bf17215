// The I/O-free half of the netdev collector: which links are selected, how carrier flaps are
// counted from link events, how raw counters are classified, and how one cycle's data becomes
// foreshock_network_* series. Unit tests drive all of it with hand-built messages.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "collectors/netdev/netlink_parse.h"
#include "collectors/netdev/sff.h"
#include "core/metric_set.h"
#include "core/name_filter.h"

namespace foreshock::netdev {

// The link class used for default selection: the rtnetlink kind when the link has one
// (veth, bridge, bond, vlan, tun, ...), else "loopback" for ARPHRD_LOOPBACK, else "physical"
// (a device with no rtnl_link_ops: a real NIC, or a driver-created virtual function).
std::string linkKind(const LinkMessage& link);

// Which links the collector reports. Thread-safety: immutable after construction.
class LinkSelector {
 public:
  // kinds: the kinds selected by default (see linkKind); include: a regex of names selected
  // whatever their kind (empty: none); exclude: a regex of names never selected (empty: none).
  // Both are NameFilter patterns (whole-name ECMAScript). Throws std::regex_error on a bad
  // pattern (the config loader has validated them already).
  LinkSelector(std::set<std::string> kinds, const std::string& include, const std::string& exclude);
  bool selected(const LinkMessage& link) const;

 private:
  std::set<std::string> kinds_;
  NameFilter names_;
};

// Counts carrier flaps per link from RTNLGRP_LINK events (and reconciles with every dump, so a
// missed event, e.g. after a socket overrun, is still counted). A flap is one loss of carrier
// (up -> down). When the kernel reports IFLA_CARRIER_DOWN_COUNT, its delta between two
// observations is used, so a down/up pair faster than the events is still counted; otherwise
// observed carrier transitions are counted.
// Thread-safety: every method is safe to call concurrently (one internal mutex).
class FlapTracker {
 public:
  struct State {
    std::string name;
    std::uint64_t flaps = 0;
    double last_change = 0;    // Unix seconds of the last carrier change seen; 0 if none yet
    std::uint64_t events = 0;  // link events seen for this link
  };
  // `from_event`: the message came from the event socket (its time is the change time); from a
  // dump, a change discovered late is stamped with `now` as well.
  void observe(const LinkMessage& link, double now, bool from_event);
  // Forgets links absent from a complete dump (deleted while no event was seen).
  void retainOnly(const std::set<std::int32_t>& ifindexes);
  std::optional<State> get(std::int32_t ifindex) const;
  std::uint64_t overruns() const;
  void countOverrun();

 private:
  struct Entry {
    State state;
    std::optional<bool> carrier;
    std::optional<std::uint32_t> down_count, changes;
  };
  mutable std::mutex mu_;
  std::map<std::int32_t, Entry> links_;
  std::uint64_t overruns_ = 0;
};

// Driver information from SIOCETHTOOL ETHTOOL_GDRVINFO (cached per link).
struct DriverInfo {
  std::string driver, version, firmware, bus_info;
  std::uint32_t n_stats = 0;
};

// Driver-private counters (ethtool -S), already filtered by the include regex.
using DriverStats = std::vector<std::pair<std::string, std::uint64_t>>;

// Module diagnostics and how the last read went.
struct ModuleReading {
  bool ok = false;
  std::string error;  // when !ok: why (named in the module up series' reason label)
  ModuleDiagnostics diag;
  double timestamp = 0;
};

// Everything known about one selected link in one cycle.
struct LinkView {
  LinkMessage link;
  std::string kind;
  std::optional<LinkModes> modes;
  std::optional<StandardStats> standard;
  std::optional<FecStats> fec;
  std::optional<DriverInfo> driver;
  std::optional<DriverStats> driver_stats;
  std::optional<ModuleReading> module;
  std::optional<FlapTracker::State> flaps;
};

// Error counters grouped into the three classes health rules use.
struct ClassifiedErrors {
  std::uint64_t physical_rx = 0, physical_tx = 0, host_rx = 0, host_tx = 0, link = 0;
};
ClassifiedErrors classify(const LinkView& v);

// Appends every series for `links` to `out`. `extra` labels (e.g. {"netns", "x"}) follow the
// interface label on every series.
void renderLinks(const std::vector<LinkView>& links, const Labels& extra, MetricSet& out);

}  // namespace foreshock::netdev
