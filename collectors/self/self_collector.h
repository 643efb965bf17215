// The `self` collector: the agent's own process (node_exporter's process_* names), read from
// <procfs>/self, so it can be pointed at a fixture tree in tests.
#pragma once

#include <cstdint>
#include <string_view>

#include "collectors/collector.h"

namespace foreshock {

// Parsed fields of /proc/<pid>/stat that the self collector exports.
struct ProcStat {
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  std::uint64_t starttime_ticks = 0;  // since boot
  std::uint64_t vsize_bytes = 0;
  std::int64_t rss_pages = 0;
  std::int64_t num_threads = 0;
};

// Pure parsers (bytes -> typed result); errors name what is wrong.
Result<ProcStat> parseProcStat(std::string_view text);
// "btime N" from /proc/stat: boot time in Unix seconds.
Result<std::uint64_t> parseBootTime(std::string_view proc_stat);
// The soft "Max open files" limit from /proc/<pid>/limits (nullopt for "unlimited").
Result<std::optional<std::uint64_t>> parseMaxOpenFiles(std::string_view limits);

CollectorInfo selfCollectorInfo();

}  // namespace foreshock
