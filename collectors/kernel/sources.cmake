# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
foreshock_collector_sources(kmsg_parse.cc kmsg_stream.cc sysfs_counters.cc kernel_collector.cc)
