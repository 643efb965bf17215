# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
foreshock_collector_sources(self_collector.cc)
