# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
foreshock_collector_sources(probe_packets.cc probe_stats.cc route_netlink.cc prober.cc resolver.cc
  probe_collector.cc LIBS PkgConfig::MNL)
