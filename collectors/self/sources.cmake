# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
list(APPEND FORESHOCK_COLLECTOR_SOURCES ${dir}/self_collector.cc)
