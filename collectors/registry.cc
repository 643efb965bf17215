#include "collectors/registry.h"

#include <algorithm>

#include "collectors/kernel/kernel_collector.h"
#include "collectors/lldp/lldp_collector.h"
#include "collectors/netdev/netdev_collector.h"
#include "collectors/probe/probe_collector.h"
#include "collectors/self/self_collector.h"
#include "collectors/sensors/sensors_collector.h"
#include "collectors/smart/smart_collector.h"

namespace foreshock {

Status Registry::add(CollectorInfo info) {
  if (find(info.name) != nullptr) return makeError("collector registered twice: " + info.name);
  if (!info.factory) return makeError("collector " + info.name + " has no factory");
  auto pos =
      std::lower_bound(entries_.begin(), entries_.end(), info.name,
                       [](const CollectorInfo& e, const std::string& n) { return e.name < n; });
  entries_.insert(pos, std::move(info));
  return Status::Ok();
}

const CollectorInfo* Registry::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

Registry builtinRegistry() {
  Registry r;
  // One line per collector. Keep this list sorted by name.
  (void)r.add(kernelCollectorInfo());
  (void)r.add(lldpCollectorInfo());
  (void)r.add(netdevCollectorInfo());
  (void)r.add(probeCollectorInfo());
  (void)r.add(selfCollectorInfo());
  (void)r.add(sensorsCollectorInfo());
  (void)r.add(smartCollectorInfo());
  return r;
}

}  // namespace foreshock
