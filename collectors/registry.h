// The explicit name -> factory registry (no static-initializer magic): builtinRegistry() lists
// every collector in one place, in collectors/registry.cc.
#pragma once

#include <string>
#include <vector>

#include "collectors/collector.h"

namespace foreshock {

// Thread-safety: built once at start-up, then read-only; reads are safe from any thread.
class Registry {
 public:
  // Adds an entry; a duplicate name is a programming error and returns an error.
  Status add(CollectorInfo info);
  const CollectorInfo* find(const std::string& name) const;
  // Entries sorted by name.
  const std::vector<CollectorInfo>& list() const { return entries_; }

 private:
  std::vector<CollectorInfo> entries_;
};

// Every collector foreshock ships.
Registry builtinRegistry();

}  // namespace foreshock
