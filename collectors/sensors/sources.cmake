# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
foreshock_collector_sources(bounded_executor.cc libsensors.cc parsers.cc sensor_model.cc
  sensors_collector.cc thermal.cc LIBS ${SENSORS_LIBRARY})
include_directories(${SENSORS_INCLUDE_DIR})
