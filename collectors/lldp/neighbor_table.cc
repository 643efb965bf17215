#include "collectors/lldp/neighbor_table.h"

namespace foreshock {

namespace {
bool sameAddresses(const LldpNeighbor& a, const LldpNeighbor& b) {
  if (a.management_addresses.size() != b.management_addresses.size()) return false;
  for (std::size_t i = 0; i < a.management_addresses.size(); ++i) {
    if (a.management_addresses[i].address != b.management_addresses[i].address) return false;
  }
  return true;
}
}  // namespace

void NeighborTable::setLimits(NeighborLimits limits) {
  std::lock_guard<std::mutex> lock(mu_);
  limits_ = limits;
}

NeighborLimits NeighborTable::limits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return limits_;
}

void NeighborTable::eraseLocked(std::map<Key, NeighborEntry>::iterator it) {
  const std::string& interface = it->second.interface;
  ++changes_[interface];
  ++generation_;
  if (auto c = per_interface_.find(interface); c != per_interface_.end() && --c->second == 0) {
    per_interface_.erase(c);
  }
  entries_.erase(it);
}

NeighborUpdate NeighborTable::update(const std::string& interface, const LldpNeighbor& n,
                                     std::chrono::steady_clock::time_point now, double wall) {
  std::lock_guard<std::mutex> lock(mu_);
  Key key{interface, n.protocol, n.chassis_id, n.port_id};
  auto it = entries_.find(key);
  if (n.ttl_seconds == 0) {
    if (it == entries_.end()) return NeighborUpdate::kRefreshed;
    eraseLocked(it);
    return NeighborUpdate::kChanged;
  }
  bool changed = false;
  if (it == entries_.end()) {
    auto& count = per_interface_[interface];
    if (count >= limits_.per_interface) {
      if (count == 0) per_interface_.erase(interface);
      ++dropped_[interface].interface_limit;
      return NeighborUpdate::kInterfaceFull;
    }
    if (entries_.size() >= limits_.total) {
      if (count == 0) per_interface_.erase(interface);
      ++dropped_[interface].table_limit;
      return NeighborUpdate::kTableFull;
    }
    ++count;
    NeighborEntry e;
    e.interface = interface;
    e.first_seen = wall;
    it = entries_.emplace(key, std::move(e)).first;
    changed = true;
  } else {
    const auto& old = it->second.neighbor;
    changed = old.system_name != n.system_name || old.port_description != n.port_description ||
              !sameAddresses(old, n);
  }
  it->second.neighbor = n;
  it->second.last_seen = wall;
  it->second.expires = now + std::chrono::seconds(n.ttl_seconds);
  if (changed) {
    ++changes_[interface];
    ++generation_;
  }
  return changed ? NeighborUpdate::kChanged : NeighborUpdate::kRefreshed;
}

std::size_t NeighborTable::expire(std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t removed = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.expires <= now) {
      eraseLocked(it++);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

void NeighborTable::removeInterface(const std::string& interface) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.interface == interface) {
      eraseLocked(it++);
    } else {
      ++it;
    }
  }
}

std::vector<NeighborEntry> NeighborTable::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<NeighborEntry> out;
  out.reserve(entries_.size());
  for (const auto& [_, e] : entries_) out.push_back(e);
  return out;
}

std::vector<NeighborManagementAddress> NeighborTable::managementAddresses() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<NeighborManagementAddress> out;
  for (const auto& [_, e] : entries_) {
    for (const auto& a : e.neighbor.management_addresses) {
      out.push_back({e.interface, e.neighbor.system_name, a});
    }
  }
  return out;
}

std::map<std::string, std::uint64_t> NeighborTable::changesByInterface() const {
  std::lock_guard<std::mutex> lock(mu_);
  return changes_;
}

std::map<std::string, NeighborTable::Dropped> NeighborTable::droppedByInterface() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

std::size_t NeighborTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

std::uint64_t NeighborTable::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

void NeighborTable::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
  per_interface_.clear();
  changes_.clear();
  dropped_.clear();
  ++generation_;
}

}  // namespace foreshock
