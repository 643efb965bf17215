// The `probe` collector: continuous reachability and latency probes (ICMP echo, TCP connect,
// ARP) to the default gateways, the LLDP-advertised management address and configured
// targets. The Prober thread runs from construction to destruction; collect() copies its
// state into metrics.
#pragma once

#include <vector>

#include "collectors/collector.h"
#include "collectors/probe/prober.h"

namespace foreshock {

// Builds prober options from the validated `collectors.probe` section. A problem with one
// target does not fail the whole: that target carries a config_error naming the key (e.g.
// "collectors.probe.targets[1].port: a tcp target needs a port") and is reported down with
// reason invalid_config. A non-literal address becomes a host name to resolve. Errors of the
// section itself (gateway_probes, too many targets) name the key.
Result<ProberOptions> proberOptionsFromConfig(const ConfigSection& config, const HostPaths& paths);

CollectorInfo probeCollectorInfo();

}  // namespace foreshock
