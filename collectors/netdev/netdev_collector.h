// The `netdev` collector: every selected interface's counters, link state and identity from one
// rtnetlink dump, link details and standard statistics from ethtool netlink, carrier flaps from
// RTNLGRP_LINK events (a thread per namespace), and pluggable-module diagnostics on a slow
// interval in its own thread. docs/metrics/netdev.md lists every series.
#pragma once

#include "collectors/collector.h"

namespace foreshock {

CollectorInfo netdevCollectorInfo();

}  // namespace foreshock
