# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
list(APPEND FORESHOCK_COLLECTOR_SOURCES
  ${dir}/ata_reader.cc
  ${dir}/discovery.cc
  ${dir}/json_reader.cc
  ${dir}/live_source.cc
  ${dir}/nvme_log.cc
  ${dir}/process_runner.cc
  ${dir}/replay_source.cc
  ${dir}/smart_collector.cc
  ${dir}/smart_engine.cc
  ${dir}/smart_types.cc
  ${dir}/smartctl_json.cc)
list(APPEND FORESHOCK_COLLECTOR_LIBS PkgConfig::ATASMART)
