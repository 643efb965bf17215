# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
list(APPEND FORESHOCK_COLLECTOR_SOURCES
  ${dir}/bounded_executor.cc
  ${dir}/libsensors.cc
  ${dir}/parsers.cc
  ${dir}/sensor_model.cc
  ${dir}/sensors_collector.cc
  ${dir}/thermal.cc)
list(APPEND FORESHOCK_COLLECTOR_LIBS ${SENSORS_LIBRARY})
include_directories(${SENSORS_INCLUDE_DIR})
