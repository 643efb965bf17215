# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
list(APPEND FORESHOCK_COLLECTOR_SOURCES ${dir}/kmsg_parse.cc ${dir}/kmsg_stream.cc
     ${dir}/sysfs_counters.cc ${dir}/kernel_collector.cc)
