# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
list(APPEND FORESHOCK_COLLECTOR_SOURCES ${dir}/probe_packets.cc ${dir}/probe_stats.cc
     ${dir}/route_netlink.cc ${dir}/prober.cc ${dir}/resolver.cc ${dir}/probe_collector.cc)
list(APPEND FORESHOCK_COLLECTOR_LIBS PkgConfig::MNL)
