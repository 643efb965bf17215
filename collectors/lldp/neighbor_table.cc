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

bool NeighborTable::update(const std::string& interface, const LldpNeighbor& n,
                           std::chrono::steady_clock::time_point now, double wall) {
  std::lock_guard<std::mutex> lock(mu_);
  Key key{interface, n.protocol, n.chassis_id, n.port_id};
  auto it = entries_.find(key);
  if (n.ttl_seconds == 0) {
    if (it == entries_.end()) return false;
    entries_.erase(it);
    ++changes_[interface];
    ++generation_;
    return true;
  }
  bool changed = false;
  if (it == entries_.end()) {
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
  return changed;
}

std::size_t NeighborTable::expire(std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t removed = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.expires <= now) {
      ++changes_[it->second.interface];
      ++generation_;
      it = entries_.erase(it);
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
      ++changes_[interface];
      ++generation_;
      it = entries_.erase(it);
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

std::uint64_t NeighborTable::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

void NeighborTable::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
  changes_.clear();
  ++generation_;
}

}  // namespace foreshock
