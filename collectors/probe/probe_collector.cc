#include "collectors/probe/probe_collector.h"

#include <algorithm>
#include <regex>
#include <set>
#include <thread>

#include "collectors/probe/resolver.h"
#include "core/log.h"

namespace foreshock {

namespace {

const std::set<std::string> kReservedLabels = {"target", "name",   "probe", "interface",
                                               "le",     "window", "errno", "reason"};

Labels baseLabels(const TargetView& v) {
  const std::string where = v.spec->host.empty() ? formatIpAddress(v.spec->address) : v.spec->host;
  Labels l{{"target",
            where + (v.spec->kind == ProbeKind::kTcp ? ":" + std::to_string(v.spec->port) : "")},
           {"name", v.spec->name},
           {"probe", probeKindName(v.spec->kind)},
           {"interface", *v.interface}};
  for (const auto& kv : v.spec->labels) l.push_back(kv);
  return l;
}

Labels with(Labels l, std::string k, std::string v) {
  l.emplace_back(std::move(k), std::move(v));
  return l;
}

class ProbeCollector final : public Collector {
 public:
  ProbeCollector(ProberOptions opts, Duration first_wait)
      : prober_(std::move(opts)), first_wait_(first_wait) {}

  Status collect(MetricSet& out) override {
    if (first_) {
      // Bounded wait (at most half the collector's timeout) so that a one-shot run reports
      // outcomes; probes still unanswered after it stay "pending".
      first_ = false;
      const auto until = std::chrono::steady_clock::now() + first_wait_;
      while (!prober_.settled() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    for (const auto& s : prober_.sockets()) {
      out.info("foreshock_probe_socket_info",
               "How ICMP probes of one address family are sent: mode ping (unprivileged ping "
               "socket), raw (CAP_NET_RAW), none (neither allowed) or unused (no target).",
               {{"family", s.family}, {"mode", s.mode}});
    }
    std::size_t targets = 0;
    prober_.visit([&](const TargetView& v) {
      ++targets;
      const Labels base = baseLabels(v);
      const auto& st = *v.stats;
      out.counter("foreshock_probe_sent_total",
                  "Probes sent (ICMP echo requests, ARP requests, TCP connect attempts).", base,
                  static_cast<double>(st.sentTotal()));
      out.counter("foreshock_probe_received_total",
                  "Probes answered in time (matching echo reply, ARP reply, completed connect).",
                  base, static_cast<double>(st.receivedTotal()));
      out.gauge("foreshock_probe_up",
                "1 when the target answers; 0 after 3 probes in a row were lost (or at once "
                "when the probe cannot run), with the reason.",
                with(base, "reason", st.reason()), st.up() ? 1 : 0);
      if (v.loss_1m) {
        out.gauge("foreshock_probe_loss_ratio",
                  "Lost / sent packets among probes resolved in the window (TCP: handshake "
                  "packets, SYN retransmissions count as lost).",
                  with(base, "window", "1m"), *v.loss_1m);
      }
      if (v.loss_5m) {
        out.gauge("foreshock_probe_loss_ratio",
                  "Lost / sent packets among probes resolved in the window (TCP: handshake "
                  "packets, SYN retransmissions count as lost).",
                  with(base, "window", "5m"), *v.loss_5m);
      }
      if (st.lastRtt()) {
        out.gauge("foreshock_probe_last_rtt_seconds",
                  "Round-trip time of the last answered probe (TCP: connect time).", base,
                  *st.lastRtt());
      }
      if (v.spec->kind == ProbeKind::kTcp) {
        HistogramData h = st.connectTime();
        if (h.bounds.empty()) {
          h.bounds = probeRttBuckets();
          h.cumulative.assign(h.bounds.size(), 0);
        }
        out.histogram("foreshock_probe_tcp_connect_duration_seconds",
                      "Time from connect() to an established connection.", base, h);
        out.counter("foreshock_probe_tcp_syn_retransmits_total",
                    "Handshake packets (SYNs) lost on the way: the kernel's count of "
                    "SYN retransmissions (TCP_INFO tcpi_total_retrans).",
                    base, static_cast<double>(st.synRetransmitsTotal()));
        for (const auto& [e, n] : st.failuresByErrno()) {
          out.counter("foreshock_probe_tcp_failures_total",
                      "Failed connects by errno (ETIMEDOUT: no answer within the timeout).",
                      with(base, "errno", e), static_cast<double>(n));
        }
      } else {
        HistogramData h = st.rtt();
        if (h.bounds.empty()) {
          h.bounds = probeRttBuckets();
          h.cumulative.assign(h.bounds.size(), 0);
        }
        out.histogram("foreshock_probe_rtt_seconds",
                      "Round-trip time of answered probes, from send to the kernel receive "
                      "timestamp of the reply.",
                      base, h);
        out.counter("foreshock_probe_duplicates_total",
                    "Replies to a probe that was already answered.", base,
                    static_cast<double>(st.duplicatesTotal()));
        out.counter("foreshock_probe_late_total",
                    "Replies that arrived after the probe's timeout (already counted lost).", base,
                    static_cast<double>(st.lateTotal()));
        for (const auto& [reason, n] : st.icmpErrors()) {
          out.counter("foreshock_probe_icmp_errors_total",
                      "ICMP errors that answered a probe instead of a reply, by reason "
                      "(net_unreachable, host_unreachable, admin_prohibited, ttl_exceeded...).",
                      with(base, "reason", reason), static_cast<double>(n));
        }
      }
    });
    out.gauge("foreshock_probe_targets", "Targets being probed.", {}, static_cast<double>(targets));
    out.gauge("foreshock_probe_lldp_addresses_over_limit",
              "Distinct management addresses LLDP/CDP neighbours advertise beyond "
              "max_lldp_targets: heard but not probed.",
              {}, static_cast<double>(prober_.lldpAddressesOverLimit()));
    return Status::Ok();
  }

 private:
  Prober prober_;
  Duration first_wait_;
  bool first_ = true;
};

}  // namespace

Result<ProberOptions> proberOptionsFromConfig(const ConfigSection& c, const HostPaths& paths) {
  ProberOptions o;
  o.interval = c.getDuration("probe_interval");
  o.timeout = c.getDuration("probe_timeout");
  o.gateways = c.getBool("gateways");
  o.lldp_management = c.getBool("lldp_management");
  o.max_targets = static_cast<std::size_t>(c.getInt("max_targets"));
  o.max_lldp_targets = static_cast<std::size_t>(c.getInt("max_lldp_targets"));
  o.resolve_interval = c.getDuration("resolve_interval");
  o.resolve_timeout = c.getDuration("resolve_timeout");
  o.ping_group_range = paths.proc("sys/net/ipv4/ping_group_range");
  o.gateway_kinds.clear();
  for (const auto& k : c.getStringList("gateway_probes")) {
    auto kind = parseProbeKind(k);
    if (!kind || *kind == ProbeKind::kTcp) {
      return makeError(c.path + ".gateway_probes: \"" + k + "\" is not one of icmp, arp, ndp");
    }
    o.gateway_kinds.push_back(*kind);
  }
  static const std::regex kLabelName("^[a-zA-Z_][a-zA-Z0-9_]*$");
  for (const auto& t : c.getObjects("targets")) {
    ProbeTargetSpec s;
    s.origin = "config";
    s.name = t.getString("name");
    auto kind = parseProbeKind(t.getString("kind"));
    s.kind = kind.value_or(ProbeKind::kIcmp);
    if (t.has("port")) s.port = static_cast<std::uint16_t>(t.getInt("port"));
    s.interval = t.has("interval")
                     ? t.getDuration("interval")
                     : (s.kind == ProbeKind::kTcp ? std::chrono::seconds(5) : o.interval);
    s.timeout = t.has("timeout")
                    ? t.getDuration("timeout")
                    : (s.kind == ProbeKind::kTcp ? std::chrono::seconds(8) : o.timeout);
    // A problem with one target is that target's alone: it is reported down with reason
    // invalid_config (and the error logged) while every other target, the gateways included,
    // keeps being probed.
    auto broken = [&](std::string why) {
      if (s.config_error.empty()) s.config_error = std::move(why);
    };
    const auto& addr = t.getString("address");
    if (auto ip = parseIpAddress(addr)) {
      s.address = *ip;
      if (s.kind == ProbeKind::kArp && !s.address.isV4()) {
        broken(t.path + ".address: ARP probes need an IPv4 address, got \"" + addr + "\"");
      }
      if (s.kind == ProbeKind::kNdp && s.address.isV4()) {
        broken(t.path + ".address: NDP probes need an IPv6 address, got \"" + addr +
               "\" (use kind arp for IPv4)");
      }
    } else {
      s.host = addr;  // resolved by the prober, with a bound, and re-resolved periodically
      if (!isValidHostName(addr)) {
        broken(t.path + ".address: \"" + addr + "\" is neither an IP address nor a host name");
      }
    }
    if (s.kind == ProbeKind::kTcp && s.port == 0) {
      broken(t.path + ".port: a tcp target needs a port");
    }
    for (const auto& [k, v] : t.getStringMap("labels")) {
      if (!std::regex_match(k, kLabelName) || k.rfind("__", 0) == 0 || kReservedLabels.count(k)) {
        broken(t.path + ".labels: \"" + k +
               "\" is not a usable label name (reserved, or not [a-zA-Z_][a-zA-Z0-9_]*)");
        continue;  // never emitted: it would clash with the series' own labels
      }
      s.labels.emplace_back(k, v);
    }
    o.targets.push_back(std::move(s));
  }
  if (o.targets.size() > o.max_targets) {
    return makeError(c.path + ".targets: " + std::to_string(o.targets.size()) +
                     " targets exceed max_targets (" + std::to_string(o.max_targets) + ")");
  }
  return o;
}

CollectorInfo probeCollectorInfo() {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  CollectorInfo info;
  info.name = "probe";
  info.description =
      "Continuous ICMP/TCP/ARP/NDP probes of the gateways, the switch and configured targets.";
  info.enabled_by_default = true;
  info.default_interval = seconds(15);
  info.default_timeout = seconds(2);
  info.options = {
      opt::duration("probe_interval", seconds(1), milliseconds(10), std::chrono::hours(1),
                    "Time between two probes of one ICMP/ARP/NDP target (discovered targets, and "
                    "configured ones without an interval)."),
      opt::duration("probe_timeout", seconds(2), milliseconds(10), seconds(60),
                    "A probe not answered within this time is lost; later replies count as late."),
      opt::boolean(
          "gateways", true,
          "Probe the default gateway(s) of every address family, followed as routes change."),
      opt::stringList("gateway_probes", {"icmp", "arp", "ndp"},
                      "Probe kinds used for the gateways: icmp, arp (IPv4 gateways) and ndp "
                      "(IPv6 neighbour discovery, IPv6 gateways)."),
      opt::boolean("lldp_management", true,
                   "Probe (ICMP) the management addresses LLDP/CDP neighbours advertise."),
      opt::integer("max_targets", 4096, 1, 100000,
                   "Upper bound on the number of targets (bounded cardinality)."),
      opt::integer("max_lldp_targets", 8, 0, 1024,
                   "At most this many distinct LLDP/CDP-advertised management addresses are "
                   "probed (anyone on the link can advertise addresses); the rest are counted in "
                   "foreshock_probe_lldp_addresses_over_limit."),
      opt::duration("resolve_interval", std::chrono::minutes(1), seconds(1), std::chrono::hours(24),
                    "How often host-name targets are resolved again."),
      opt::duration("resolve_timeout", seconds(2), milliseconds(100), seconds(60),
                    "Longest wait for one host-name lookup; a lookup still blocked after it is "
                    "abandoned (reason resolve_timeout) and not retried until it returns."),
      opt::objectList(
          "targets",
          {opt::required(opt::string("name", "", "Name of the target (the `name` label).")),
           opt::required(opt::string(
               "address", "",
               "IPv4 or IPv6 address (fe80::1%eth0 for link-local), or a host name: resolved "
               "every resolve_interval off the probing thread; until it first resolves the "
               "target is down with reason resolving, resolve_failed or resolve_timeout, and a "
               "later failure keeps the last address.")),
           opt::enumeration("kind", "icmp", {"icmp", "tcp", "arp", "ndp"},
                            "Probe kind (arp: on-link IPv4; ndp: on-link IPv6)."),
           opt::optional(opt::integer("port", 0, 1, 65535, "TCP port (tcp targets).")),
           opt::optional(opt::duration("interval", seconds(1), milliseconds(10),
                                       std::chrono::hours(1),
                                       "Time between probes (default probe_interval; tcp: 5s).")),
           opt::optional(opt::duration("timeout", seconds(2), milliseconds(10), seconds(120),
                                       "Probe timeout (default probe_timeout; tcp: 8s, which "
                                       "covers SYN retransmissions at 1, 3 and 7 s).")),
           opt::stringMap("labels", "Extra labels on this target's series.")},
          "Configured targets."),
  };
  info.factory = [](const CollectorContext& ctx) -> Result<std::unique_ptr<Collector>> {
    auto opts = proberOptionsFromConfig(ctx.config, ctx.paths);
    if (!opts) return opts.error();
    opts->neighbors = ctx.neighbors;
    for (const auto& t : opts->targets) {
      if (!t.config_error.empty()) log::error(ctx.name, t.config_error + "; target not probed");
    }
    Duration wait = std::chrono::milliseconds(1500);
    if (ctx.config.has("timeout")) wait = std::min(wait, ctx.config.getDuration("timeout") / 2);
    return std::unique_ptr<Collector>(std::make_unique<ProbeCollector>(std::move(*opts), wait));
  };
  return info;
}

}  // namespace foreshock
