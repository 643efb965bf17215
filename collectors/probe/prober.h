// The prober: one background thread that probes every target continuously (ICMP echo, TCP
// connect, ARP), discovers the default gateways from the routing table (and follows them
// when routes change), picks up the management addresses LLDP neighbours advertise, and
// keeps per-target statistics for the probe collector to copy.
//
// Sockets: one ICMP socket per address family shared by all targets (a ping socket where
// net.ipv4.ping_group_range allows it, else a raw socket with a kernel BPF filter for our echo
// id, which needs CAP_NET_RAW), one AF_PACKET socket for all ARP targets, one short-lived
// non-blocking socket per TCP connect attempt.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "collectors/probe/probe_packets.h"
#include "collectors/probe/probe_stats.h"
#include "core/clock.h"
#include "core/metric_set.h"

namespace foreshock {

class NeighborTable;

// kNdp: IPv6 neighbour discovery (Neighbor Solicitation/Advertisement), ARP's IPv6 twin.
enum class ProbeKind { kIcmp, kTcp, kArp, kNdp };
const char* probeKindName(ProbeKind k);
std::optional<ProbeKind> parseProbeKind(std::string_view s);

struct ProbeTargetSpec {
  std::string name;
  IpAddress address;
  std::uint16_t port = 0;  // TCP only
  ProbeKind kind = ProbeKind::kIcmp;
  Duration interval{std::chrono::seconds(1)};
  Duration timeout{std::chrono::seconds(2)};
  Labels labels;       // extra labels from the configuration
  std::string origin;  // "config", "gateway" or "lldp"
  // A configured host name (address is then what it resolves to, set by the prober); empty
  // for an IP literal.
  std::string host;
  // Why this configured target can never be probed (a bad address, a tcp target without a
  // port...): it is reported down with reason invalid_config, the other targets run.
  std::string config_error;
  // Set by the prober: why the target cannot be probed right now (invalid_config, resolving,
  // resolve_failed, resolve_timeout); empty when it can.
  std::string unavailable;
};

struct ProberOptions {
  std::vector<ProbeTargetSpec> targets;  // configured targets
  bool gateways = true;                  // probe the default gateways
  // arp applies to IPv4 gateways, ndp to IPv6 ones.
  std::vector<ProbeKind> gateway_kinds{ProbeKind::kIcmp, ProbeKind::kArp, ProbeKind::kNdp};
  bool lldp_management = true;                 // probe LLDP-advertised management addresses
  Duration interval{std::chrono::seconds(1)};  // for discovered targets
  Duration timeout{std::chrono::seconds(2)};
  std::size_t max_targets = 4096;
  // At most this many distinct LLDP-advertised management addresses become targets (anyone
  // on the wire can advertise addresses); the rest are counted, not probed.
  std::size_t max_lldp_targets = 8;
  // Host-name targets are resolved every resolve_interval, each lookup waited for at most
  // resolve_timeout (on a separate thread: probing never waits for DNS).
  Duration resolve_interval{std::chrono::minutes(1)};
  Duration resolve_timeout{std::chrono::seconds(2)};
  std::filesystem::path ping_group_range;  // <procfs>/sys/net/ipv4/ping_group_range
  // Where LLDP management addresses come from (the agent's table); null: none. The prober
  // ages out expired entries before reading it.
  std::shared_ptr<NeighborTable> neighbors;
};

// What collect() sees of one target.
struct TargetView {
  const ProbeTargetSpec* spec;
  const std::string* interface;
  const TargetStats* stats;
  std::optional<double> loss_1m;
  std::optional<double> loss_5m;
};

// The state of one ICMP socket (per family).
struct IcmpSocketView {
  std::string family;  // "ipv4" / "ipv6"
  std::string mode;    // "ping", "raw" or "none"
  std::string error;   // why neither is available (mode "none")
};

// Thread-safety: the constructor starts the prober thread and the destructor stops and joins
// it; visit() and sockets() may be called from any thread (they take the prober's mutex, so
// keep the callback short).
class Prober {
 public:
  explicit Prober(ProberOptions options);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  void visit(const std::function<void(const TargetView&)>& fn) const;
  std::vector<IcmpSocketView> sockets() const;
  std::uint64_t probesSent() const { return probes_sent_.load(); }
  // Distinct LLDP management addresses not probed because of max_lldp_targets, as of the
  // last target refresh.
  std::size_t lldpAddressesOverLimit() const;
  // True once the targets have been discovered and every target has an outcome (answered,
  // lost, or unable to run). The first collect() waits a little for this, so one-shot runs
  // (`foreshock check`, `collect`) report real results instead of "pending".
  bool settled() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<std::uint64_t> probes_sent_{0};
};

}  // namespace foreshock
