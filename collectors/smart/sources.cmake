# Included from collectors/CMakeLists.txt with ${dir} set to this folder.
foreshock_collector_sources(ata_reader.cc discovery.cc json_reader.cc live_source.cc nvme_log.cc
  process_runner.cc replay_source.cc smart_collector.cc smart_engine.cc smart_types.cc smartctl_json.cc
  LIBS PkgConfig::ATASMART)
