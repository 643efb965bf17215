# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
list(APPEND FORESHOCK_COLLECTOR_SOURCES
  ${dir}/netdev_collector.cc
  ${dir}/netdev_model.cc
  ${dir}/netlink_io.cc
  ${dir}/netlink_parse.cc
  ${dir}/sff.cc)
list(APPEND FORESHOCK_COLLECTOR_LIBS PkgConfig::MNL)
