# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
list(APPEND FORESHOCK_COLLECTOR_SOURCES ${dir}/lldp_decoder.cc ${dir}/neighbor_table.cc
     ${dir}/lldp_collector.cc)
