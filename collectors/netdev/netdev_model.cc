#include "collectors/netdev/netdev_model.h"

#include <linux/ethtool_netlink.h>
#include <linux/if_arp.h>

#include <algorithm>

namespace foreshock::netdev {

std::string linkKind(const LinkMessage& link) {
  if (!link.kind.empty()) return link.kind;
  if (link.link_type == ARPHRD_LOOPBACK) return "loopback";
  return "physical";
}

LinkSelector::LinkSelector(std::set<std::string> kinds, const std::string& include,
                           const std::string& exclude)
    : kinds_(std::move(kinds)), names_(include, exclude) {}

bool LinkSelector::selected(const LinkMessage& link) const {
  if (names_.excluded(link.name)) return false;
  if (names_.included(link.name)) return true;
  return kinds_.count(linkKind(link)) != 0;
}

// --- FlapTracker -----------------------------------------------------------------------------

void FlapTracker::observe(const LinkMessage& link, double now, bool from_event) {
  std::lock_guard<std::mutex> lock(mu_);
  if (link.deleted) {
    links_.erase(link.ifindex);
    return;
  }
  auto [it, inserted] = links_.try_emplace(link.ifindex);
  Entry& e = it->second;
  e.state.name = link.name;
  if (from_event) ++e.state.events;
  if (inserted) {
    // First sight: the baseline. Flaps before the agent saw the link are the kernel's
    // carrier_down_count, not ours.
    e.carrier = link.carrier;
    e.down_count = link.carrier_down_count;
    e.changes = link.carrier_changes;
    return;
  }
  bool changed = false;
  std::uint64_t new_flaps = 0;
  if (link.carrier_down_count && e.down_count) {
    // u32 arithmetic: a wrapped kernel counter still gives the right small delta.
    new_flaps = static_cast<std::uint32_t>(*link.carrier_down_count - *e.down_count);
  } else if (link.carrier && e.carrier && *e.carrier && !*link.carrier) {
    new_flaps = 1;
  }
  if (new_flaps > 0) changed = true;
  if (link.carrier && e.carrier && *link.carrier != *e.carrier) changed = true;
  if (link.carrier_changes && e.changes && *link.carrier_changes != *e.changes) changed = true;
  e.state.flaps += new_flaps;
  if (changed) e.state.last_change = now;
  if (link.carrier) e.carrier = link.carrier;
  if (link.carrier_down_count) e.down_count = link.carrier_down_count;
  if (link.carrier_changes) e.changes = link.carrier_changes;
}

void FlapTracker::retainOnly(const std::set<std::int32_t>& ifindexes) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = links_.begin(); it != links_.end();) {
    it = ifindexes.count(it->first) != 0 ? std::next(it) : links_.erase(it);
  }
}

std::optional<FlapTracker::State> FlapTracker::get(std::int32_t ifindex) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = links_.find(ifindex);
  if (it == links_.end()) return std::nullopt;
  return it->second.state;
}

std::uint64_t FlapTracker::overruns() const {
  std::lock_guard<std::mutex> lock(mu_);
  return overruns_;
}

void FlapTracker::countOverrun() {
  std::lock_guard<std::mutex> lock(mu_);
  ++overruns_;
}

// --- classification --------------------------------------------------------------------------

ClassifiedErrors classify(const LinkView& v) {
  ClassifiedErrors c;
  if (v.link.stats) {
    const LinkStats& s = *v.link.stats;
    // A NIC that reports both the kernel's rx_crc_errors and IEEE FrameCheckSequenceErrors
    // counts the same bad frames twice; take the larger so the class is not doubled.
    std::uint64_t crc = s.rx_crc_errors;
    if (v.standard) {
      if (auto it = v.standard->mac.find(ETHTOOL_A_STATS_ETH_MAC_6_FCS_ERR);
          it != v.standard->mac.end()) {
        crc = std::max(crc, it->second);
      }
    }
    c.physical_rx = crc + s.rx_frame_errors + s.rx_length_errors;
    c.physical_tx =
        s.tx_carrier_errors + s.tx_aborted_errors + s.tx_heartbeat_errors + s.tx_window_errors;
    c.host_rx = s.rx_dropped + s.rx_missed_errors + s.rx_over_errors + s.rx_fifo_errors;
    c.host_tx = s.tx_dropped + s.tx_fifo_errors;
  }
  if (v.standard) {
    if (auto it = v.standard->phy.find(ETHTOOL_A_STATS_ETH_PHY_5_SYM_ERR);
        it != v.standard->phy.end()) {
      c.physical_rx += it->second;
    }
  }
  if (v.fec && v.fec->uncorrectable_blocks) c.physical_rx += *v.fec->uncorrectable_blocks;
  if (v.link.carrier_changes) c.link = *v.link.carrier_changes;
  return c;
}

// --- rendering -------------------------------------------------------------------------------

namespace {

constexpr const char* kPrefix = "foreshock_network_";

struct CounterSpec {
  const char* name;
  const char* help;
  std::uint64_t LinkStats::*field;
};

const CounterSpec kCounters[] = {
    {"receive_bytes_total", "Bytes received (IFLA_STATS64 rx_bytes).", &LinkStats::rx_bytes},
    {"receive_packets_total", "Packets received.", &LinkStats::rx_packets},
    {"receive_errors_total", "Receive errors of every kind (rx_errors).", &LinkStats::rx_errors},
    {"receive_dropped_total", "Received packets dropped by the host (no buffer, filtered, MTU).",
     &LinkStats::rx_dropped},
    {"receive_multicast_total", "Multicast packets received.", &LinkStats::multicast},
    {"receive_compressed_total", "Compressed packets received.", &LinkStats::rx_compressed},
    {"receive_length_errors_total", "Frames received with a bad length.",
     &LinkStats::rx_length_errors},
    {"receive_over_errors_total", "Receive ring buffer overflows.", &LinkStats::rx_over_errors},
    {"receive_crc_errors_total", "Frames received with a CRC (FCS) error.",
     &LinkStats::rx_crc_errors},
    {"receive_frame_errors_total", "Frames received with an alignment (frame) error.",
     &LinkStats::rx_frame_errors},
    {"receive_fifo_errors_total", "Receive FIFO errors.", &LinkStats::rx_fifo_errors},
    {"receive_missed_errors_total", "Frames the NIC missed (host too slow to take them).",
     &LinkStats::rx_missed_errors},
    {"transmit_bytes_total", "Bytes transmitted.", &LinkStats::tx_bytes},
    {"transmit_packets_total", "Packets transmitted.", &LinkStats::tx_packets},
    {"transmit_errors_total", "Transmit errors of every kind (tx_errors).", &LinkStats::tx_errors},
    {"transmit_dropped_total", "Packets dropped on transmit.", &LinkStats::tx_dropped},
    {"transmit_compressed_total", "Compressed packets transmitted.", &LinkStats::tx_compressed},
    {"transmit_collisions_total", "Collisions while transmitting.", &LinkStats::collisions},
    {"transmit_aborted_errors_total", "Transmissions aborted (e.g. excessive collisions).",
     &LinkStats::tx_aborted_errors},
    {"transmit_carrier_errors_total", "Transmit errors from loss of carrier.",
     &LinkStats::tx_carrier_errors},
    {"transmit_fifo_errors_total", "Transmit FIFO errors.", &LinkStats::tx_fifo_errors},
    {"transmit_heartbeat_errors_total", "Transmit heartbeat (SQE test) errors.",
     &LinkStats::tx_heartbeat_errors},
    {"transmit_window_errors_total", "Late collisions (transmit window errors).",
     &LinkStats::tx_window_errors},
};

std::string name(const char* suffix) {
  return std::string(kPrefix) + suffix;
}

Labels with(const Labels& base, std::initializer_list<std::pair<std::string, std::string>> more) {
  Labels l = base;
  l.insert(l.end(), more.begin(), more.end());
  return l;
}

std::string bucketLabel(const RmonBucket& b) {
  return std::to_string(b.low) + "-" + (b.high == 0 ? std::string("inf") : std::to_string(b.high));
}

void renderThresholds(const Labels& base, const std::optional<Thresholds>& t, const char* family,
                      const char* help, MetricSet& out) {
  if (!t) return;
  const std::string n = name(family);
  out.gauge(n, help, with(base, {{"level", "high_alarm"}}), t->high_alarm);
  out.gauge(n, help, with(base, {{"level", "high_warning"}}), t->high_warning);
  out.gauge(n, help, with(base, {{"level", "low_warning"}}), t->low_warning);
  out.gauge(n, help, with(base, {{"level", "low_alarm"}}), t->low_alarm);
}

void renderLanes(const Labels& base, const std::vector<double>& values, const char* family,
                 const char* help, MetricSet& out) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    out.gauge(name(family), help, with(base, {{"lane", std::to_string(i + 1)}}), values[i]);
  }
}

void renderModule(const Labels& base, const ModuleReading& m, MetricSet& out) {
  out.gauge(name("module_up"),
            "1 when the optical module's EEPROM was read and decoded on the last slow cycle; 0 "
            "with the reason otherwise.",
            with(base, {{"reason", m.ok ? "" : m.error}}), m.ok ? 1 : 0);
  if (m.timestamp > 0) {
    out.gauge(name("module_last_read_timestamp_seconds"),
              "Unix time of the last attempt to read the module EEPROM.", base, m.timestamp);
  }
  if (!m.ok) return;
  const ModuleDiagnostics& d = m.diag;
  out.info(name("module_info"), "Pluggable module identity from its EEPROM (value 1).",
           with(base, {{"identifier", d.identifier_name},
                       {"vendor", d.vendor},
                       {"part_number", d.part_number},
                       {"revision", d.revision},
                       {"serial", d.serial}}));
  if (d.temperature_celsius) {
    out.gauge(name("module_temperature_celsius"), "Module temperature.", base,
              *d.temperature_celsius);
  }
  if (d.supply_voltage_volts) {
    out.gauge(name("module_supply_voltage_volts"), "Module supply voltage.", base,
              *d.supply_voltage_volts);
  }
  renderLanes(base, d.tx_bias_amperes, "module_tx_bias_amperes", "Laser bias current per lane.",
              out);
  renderLanes(base, d.tx_power_watts, "module_tx_power_watts", "Transmit optical power per lane.",
              out);
  renderLanes(base, d.rx_power_watts, "module_rx_power_watts", "Receive optical power per lane.",
              out);
  renderThresholds(base, d.temperature_thresholds, "module_temperature_threshold_celsius",
                   "The module's own temperature alarm/warning thresholds.", out);
  renderThresholds(base, d.voltage_thresholds, "module_supply_voltage_threshold_volts",
                   "The module's own supply voltage alarm/warning thresholds.", out);
  renderThresholds(base, d.bias_thresholds, "module_tx_bias_threshold_amperes",
                   "The module's own laser bias alarm/warning thresholds.", out);
  renderThresholds(base, d.tx_power_thresholds, "module_tx_power_threshold_watts",
                   "The module's own transmit power alarm/warning thresholds.", out);
  renderThresholds(base, d.rx_power_thresholds, "module_rx_power_threshold_watts",
                   "The module's own receive power alarm/warning thresholds.", out);
}

void renderStandardGroup(const Labels& base, std::uint32_t group,
                         const std::map<std::uint32_t, std::uint64_t>& values, const char* family,
                         const char* help, MetricSet& out) {
  for (const auto& [id, v] : values) {
    std::string stat = standardStatName(group, id);
    if (stat.empty()) stat = "id" + std::to_string(id);
    out.counter(name(family), help, with(base, {{"counter", stat}}), static_cast<double>(v));
  }
}

}  // namespace

void renderLinks(const std::vector<LinkView>& links, const Labels& extra, MetricSet& out) {
  for (const LinkView& v : links) {
    const LinkMessage& l = v.link;
    Labels base{{"interface", l.name}};
    base.insert(base.end(), extra.begin(), extra.end());

    std::string bus = l.parent_dev;
    if (bus.empty() && v.driver) bus = v.driver->bus_info;
    out.info(name("info"),
             "Interface identity (value 1): MAC, permanent MAC and bus address recognise a "
             "renamed interface.",
             with(base, {{"ifindex", std::to_string(l.ifindex)},
                         {"mac", l.mac},
                         {"permanent_mac", l.permanent_mac},
                         {"kind", v.kind},
                         {"bus", bus},
                         {"bus_type", l.parent_bus},
                         {"driver", v.driver ? v.driver->driver : ""},
                         {"driver_version", v.driver ? v.driver->version : ""},
                         {"firmware_version", v.driver ? v.driver->firmware : ""},
                         {"alias", l.alias}}));
    out.gauge(name("up"), "1 when the interface is administratively up (IFF_UP).", base,
              l.adminUp() ? 1 : 0);
    if (l.carrier) {
      out.gauge(name("carrier"), "1 when the interface has carrier (link detected).", base,
                *l.carrier ? 1 : 0);
    }
    if (l.operstate) {
      out.gauge(name("operstate"),
                "RFC 2863 operational state: 0 unknown, 1 notpresent, 2 down, 3 lowerlayerdown, "
                "4 testing, 5 dormant, 6 up.",
                base, *l.operstate);
    }
    if (l.mtu) out.gauge(name("mtu_bytes"), "Interface MTU.", base, *l.mtu);
    if (l.carrier_changes) {
      out.counter(name("carrier_changes_total"),
                  "Carrier changes counted by the kernel since the interface was created.", base,
                  *l.carrier_changes);
    }
    if (l.carrier_up_count) {
      out.counter(name("carrier_up_changes_total"), "Carrier up transitions (kernel count).", base,
                  *l.carrier_up_count);
    }
    if (l.carrier_down_count) {
      out.counter(name("carrier_down_changes_total"), "Carrier down transitions (kernel count).",
                  base, *l.carrier_down_count);
    }
    if (v.flaps) {
      out.counter(name("link_flaps_total"),
                  "Carrier losses (link flaps) seen from link events since the agent started, "
                  "including flaps between two polls.",
                  base, static_cast<double>(v.flaps->flaps));
      if (v.flaps->last_change > 0) {
        out.gauge(name("link_last_change_timestamp_seconds"),
                  "Unix time of the last carrier change seen since the agent started.", base,
                  v.flaps->last_change);
      }
    }

    if (l.stats) {
      const LinkStats& s = *l.stats;
      for (const auto& c : kCounters) {
        out.counter(name(c.name), c.help, base, static_cast<double>(s.*c.field));
      }
      if (s.has_nohandler) {
        out.counter(name("receive_nohandler_total"),
                    "Packets received with no protocol handler (rx_nohandler).", base,
                    static_cast<double>(s.rx_nohandler));
      }
      if (s.has_otherhost_dropped) {
        out.counter(name("receive_otherhost_dropped_total"),
                    "Packets dropped because they were addressed to another host.", base,
                    static_cast<double>(s.rx_otherhost_dropped));
      }
      const ClassifiedErrors c = classify(v);
      const char* help =
          "Error counters grouped by class: physical (crc, frame, length, symbol, FCS, FEC "
          "uncorrectable; tx carrier/aborted/heartbeat/window), host (dropped, missed, over, "
          "fifo) and link (carrier changes, direction both).";
      out.counter(name("errors_total"), help,
                  with(base, {{"class", "physical"}, {"direction", "receive"}}),
                  static_cast<double>(c.physical_rx));
      out.counter(name("errors_total"), help,
                  with(base, {{"class", "physical"}, {"direction", "transmit"}}),
                  static_cast<double>(c.physical_tx));
      out.counter(name("errors_total"), help,
                  with(base, {{"class", "host"}, {"direction", "receive"}}),
                  static_cast<double>(c.host_rx));
      out.counter(name("errors_total"), help,
                  with(base, {{"class", "host"}, {"direction", "transmit"}}),
                  static_cast<double>(c.host_tx));
      out.counter(name("errors_total"), help,
                  with(base, {{"class", "link"}, {"direction", "both"}}),
                  static_cast<double>(c.link));
    }

    if (v.modes) {
      if (v.modes->speed_mbps) {
        out.gauge(name("speed_bytes_per_second"), "Negotiated link speed in bytes per second.",
                  base, static_cast<double>(*v.modes->speed_mbps) * 1e6 / 8);
      }
      if (v.modes->full_duplex) {
        out.gauge(name("full_duplex"), "1 when the link runs full duplex, 0 for half duplex.", base,
                  *v.modes->full_duplex ? 1 : 0);
      }
      if (v.modes->autoneg) {
        out.gauge(name("autonegotiation"), "1 when autonegotiation is enabled.", base,
                  *v.modes->autoneg ? 1 : 0);
      }
      if (v.modes->lanes) {
        out.gauge(name("lanes"), "Number of lanes the link uses.", base, *v.modes->lanes);
      }
    }
    if (v.standard) {
      const StandardStats& st = *v.standard;
      renderStandardGroup(base, ETHTOOL_STATS_ETH_PHY, st.phy, "ieee8023_phy_total",
                          "IEEE 802.3 PHY counters (ethtool eth-phy group).", out);
      renderStandardGroup(base, ETHTOOL_STATS_ETH_MAC, st.mac, "ieee8023_mac_total",
                          "IEEE 802.3 MAC counters (ethtool eth-mac group).", out);
      renderStandardGroup(base, ETHTOOL_STATS_ETH_CTRL, st.ctrl, "ieee8023_ctrl_total",
                          "IEEE 802.3 MAC Control counters (ethtool eth-ctrl group).", out);
      renderStandardGroup(base, ETHTOOL_STATS_RMON, st.rmon, "rmon_total",
                          "RFC 2819 RMON counters (ethtool rmon group).", out);
      const char* hist_help = "RMON frames by size range (ethtool rmon histogram).";
      for (const auto& b : st.rmon_rx) {
        out.counter(name("rmon_frames_total"), hist_help,
                    with(base, {{"direction", "receive"}, {"size", bucketLabel(b)}}),
                    static_cast<double>(b.frames));
      }
      for (const auto& b : st.rmon_tx) {
        out.counter(name("rmon_frames_total"), hist_help,
                    with(base, {{"direction", "transmit"}, {"size", bucketLabel(b)}}),
                    static_cast<double>(b.frames));
      }
    }
    if (v.fec) {
      if (v.fec->corrected_blocks) {
        out.counter(name("fec_corrected_blocks_total"), "FEC blocks corrected (all lanes).", base,
                    static_cast<double>(*v.fec->corrected_blocks));
      }
      if (v.fec->uncorrectable_blocks) {
        out.counter(name("fec_uncorrectable_blocks_total"),
                    "FEC blocks that could not be corrected (all lanes).", base,
                    static_cast<double>(*v.fec->uncorrectable_blocks));
      }
      if (v.fec->corrected_bits) {
        out.counter(name("fec_corrected_bits_total"), "Bits corrected by FEC (all lanes).", base,
                    static_cast<double>(*v.fec->corrected_bits));
      }
    }
    if (v.driver_stats) {
      for (const auto& [stat, value] : *v.driver_stats) {
        out.gauge(name("driver_stat"),
                  "Driver-private ethtool -S value (opt-in by driver_stats_include; mostly "
                  "counters, some gauges, meaning defined by the driver).",
                  with(base, {{"stat", stat}}), static_cast<double>(value));
      }
    }
    if (v.module) renderModule(base, *v.module, out);
  }
}

}  // namespace foreshock::netdev
