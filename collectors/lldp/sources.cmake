# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
foreshock_collector_sources(lldp_decoder.cc neighbor_table.cc lldp_collector.cc)
