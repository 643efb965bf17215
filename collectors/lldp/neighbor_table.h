// The table of link-layer neighbours: the lldp collector writes what it hears, the probe
// collector reads the management addresses the switch advertises and probes them. The agent
// owns one table and passes it to both through CollectorContext::neighbors.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "collectors/lldp/lldp_decoder.h"

namespace foreshock {

struct NeighborEntry {
  std::string interface;  // the local interface the frame arrived on
  LldpNeighbor neighbor;
  std::chrono::steady_clock::time_point expires;
  double first_seen = 0;  // Unix seconds
  double last_seen = 0;
};

// A management address learnt from a neighbour, with the interface it was heard on.
struct NeighborManagementAddress {
  std::string interface;
  std::string system_name;
  LldpManagementAddress address;
};

// How many neighbours the table holds: anyone on the wire can send frames with made-up chassis
// ids, so both counts are bounded. Real switch ports have one neighbour (lldpd keeps at most
// 32 per port).
struct NeighborLimits {
  std::size_t per_interface = 16;
  std::size_t total = 256;
};

// What update() did with a frame.
enum class NeighborUpdate {
  kRefreshed,      // a known neighbour, same identity: only its TTL and last_seen moved
  kChanged,        // a neighbour appeared, left (TTL 0) or changed identity
  kInterfaceFull,  // a new neighbour, dropped: its interface already holds per_interface
  kTableFull,      // a new neighbour, dropped: the table already holds total
};

// Keyed by (interface, protocol, chassis id, port id): one port may hear several speakers.
// Entries live for the TTL of the last frame; a frame with TTL 0 removes its entry at once.
// A change is a neighbour appearing, disappearing (aged out or shut down), or one of its
// identity fields (system name, port description, management addresses) changing; changes are
// counted per interface. A new neighbour that would exceed the limits is dropped (the ones
// already known keep their place, so a flood of made-up neighbours cannot push the real
// switch out) and counted per interface and reason.
// Thread-safety: every method is safe to call from any thread (one internal mutex).
class NeighborTable {
 public:
  // Applies to neighbours added from now on (entries already held are kept until they leave).
  void setLimits(NeighborLimits limits);
  NeighborLimits limits() const;

  // Records a decoded frame heard on `interface` at `now` / `wall` (Unix seconds).
  NeighborUpdate update(const std::string& interface, const LldpNeighbor& n,
                        std::chrono::steady_clock::time_point now, double wall);
  // Removes entries whose TTL has passed; returns how many.
  std::size_t expire(std::chrono::steady_clock::time_point now);
  // Removes every entry of `interface` (the interface vanished); each removal is a change.
  void removeInterface(const std::string& interface);

  std::vector<NeighborEntry> entries() const;
  std::vector<NeighborManagementAddress> managementAddresses() const;
  std::map<std::string, std::uint64_t> changesByInterface() const;
  // New neighbours dropped by the limits, per interface: (interface_limit, table_limit).
  struct Dropped {
    std::uint64_t interface_limit = 0;
    std::uint64_t table_limit = 0;
  };
  std::map<std::string, Dropped> droppedByInterface() const;
  std::size_t size() const;
  // Increases with every change; cheap to poll.
  std::uint64_t generation() const;
  // For tests.
  void clear();

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  mutable std::mutex mu_;
  void eraseLocked(std::map<Key, NeighborEntry>::iterator it);

  NeighborLimits limits_;
  std::map<Key, NeighborEntry> entries_;
  std::map<std::string, std::size_t> per_interface_;  // entries_ per interface
  std::map<std::string, std::uint64_t> changes_;
  std::map<std::string, Dropped> dropped_;
  std::uint64_t generation_ = 0;
};

}  // namespace foreshock
