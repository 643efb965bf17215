# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
foreshock_collector_sources(netdev_collector.cc netdev_model.cc netlink_io.cc netlink_parse.cc sff.cc
  LIBS PkgConfig::MNL)
