// The `probe` collector: continuous reachability and latency probes (ICMP echo, TCP connect,
// ARP) to the default gateways, the LLDP-advertised management address and configured
// targets. The Prober thread runs from construction to destruction; collect() copies its
// state into metrics.
#pragma once

#include <vector>

#include "collectors/collector.h"
#include "collectors/probe/prober.h"

namespace foreshock {

// Builds prober options from the validated `collectors.probe` section; errors name the key
// (e.g. "collectors.probe.targets[1].address: \"10.0.0.300\" is not an IP address").
Result<ProberOptions> proberOptionsFromConfig(const ConfigSection& config, const HostPaths& paths);

CollectorInfo probeCollectorInfo();

}  // namespace foreshock
