// The `lldp` collector: listens for LLDP (and CDP) frames on the selected physical interfaces
// and exports who the host is plugged into. One background thread owns one AF_PACKET socket
// per interface; collect() copies the shared NeighborTable.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "core/name_filter.h"

namespace foreshock {

// Which interfaces under <sysfs>/class/net the listener opens a socket on: Ethernet
// (type 1) interfaces the filter accepts (include/exclude) that are up (IFF_UP in `flags`)
// with a carrier (`carrier` 1), never a bridge or bond master
// (bond and bridge members receive the frames themselves: 01:80:c2:00:00:0e is never
// forwarded by a bridge, so the masters would hear nothing).
std::vector<std::string> selectLldpInterfaces(const std::filesystem::path& class_net,
                                              const NameFilter& names);

CollectorInfo lldpCollectorInfo();

}  // namespace foreshock
