#include "collectors/self/self_collector.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "core/file_util.h"

namespace foreshock {

Result<ProcStat> parseProcStat(std::string_view text) {
  // The command name is in parentheses and may itself contain spaces and ')', so the fields
  // start after the LAST ')'.
  auto close = text.rfind(')');
  if (close == std::string_view::npos) return makeError("stat: no ')' after the command name");
  auto fields = splitWhitespace(text.substr(close + 1));
  // fields[0] is field 3 (state); field N is fields[N - 3].
  if (fields.size() < 22) {
    return makeError("stat: expected at least 24 fields, got " + std::to_string(fields.size() + 2));
  }
  auto num = [&](int field) { return parseUint(fields[static_cast<std::size_t>(field - 3)]); };
  auto snum = [&](int field) { return parseInt(fields[static_cast<std::size_t>(field - 3)]); };
  ProcStat s;
  auto ut = num(14), st = num(15), start = num(22), vs = num(23);
  auto rss = snum(24), thr = snum(20);
  if (!ut || !st || !start || !vs || !rss || !thr)
    return makeError("stat: a numeric field is malformed");
  s.utime_ticks = *ut;
  s.stime_ticks = *st;
  s.starttime_ticks = *start;
  s.vsize_bytes = *vs;
  s.rss_pages = *rss;
  s.num_threads = *thr;
  return s;
}

Result<std::uint64_t> parseBootTime(std::string_view proc_stat) {
  for (const auto& line : split(proc_stat, '\n')) {
    auto f = splitWhitespace(line);
    if (f.size() == 2 && f[0] == "btime") {
      if (auto v = parseUint(f[1])) return *v;
      return makeError("stat: malformed btime line: " + line);
    }
  }
  return makeError("stat: no btime line");
}

Result<std::optional<std::uint64_t>> parseMaxOpenFiles(std::string_view limits) {
  for (const auto& line : split(limits, '\n')) {
    if (!startsWith(line, "Max open files")) continue;
    auto f = splitWhitespace(std::string_view(line).substr(14));
    if (f.empty()) break;
    if (f[0] == "unlimited") return std::optional<std::uint64_t>{};
    if (auto v = parseUint(f[0])) return std::optional<std::uint64_t>{*v};
    break;
  }
  return makeError("limits: no parsable 'Max open files' line");
}

namespace {

class SelfCollector final : public Collector {
 public:
  explicit SelfCollector(const CollectorContext& ctx) : paths_(ctx.paths) {}

  Status collect(MetricSet& out) override {
    auto stat_text = readFileBounded(paths_.proc("self/stat"));
    if (!stat_text) return stat_text.error();
    auto st = parseProcStat(*stat_text);
    if (!st) return makeError(paths_.proc("self/stat").string() + ": " + st.error().message);
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    out.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {},
                static_cast<double>(st->utime_ticks + st->stime_ticks) / ticks);
    out.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
              static_cast<double>(st->rss_pages) * page);
    out.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {},
              static_cast<double>(st->vsize_bytes));
    out.gauge("process_threads", "Number of OS threads in the process.", {},
              static_cast<double>(st->num_threads));

    if (auto pstat = readFileBounded(paths_.proc("stat"))) {
      if (auto btime = parseBootTime(*pstat)) {
        out.gauge("process_start_time_seconds",
                  "Start time of the process since unix epoch in seconds.", {},
                  static_cast<double>(*btime) + static_cast<double>(st->starttime_ticks) / ticks);
      }
    }

    std::error_code ec;
    std::size_t fds = 0;
    for (auto it = std::filesystem::directory_iterator(paths_.proc("self/fd"), ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++fds;
    }
    if (!ec)
      out.gauge("process_open_fds", "Number of open file descriptors.", {},
                static_cast<double>(fds));

    if (auto lim = readFileBounded(paths_.proc("self/limits"))) {
      auto max = parseMaxOpenFiles(*lim);
      if (max && max->has_value()) {
        out.gauge("process_max_fds", "Maximum number of open file descriptors.", {},
                  static_cast<double>(**max));
      }
    }
    return Status::Ok();
  }

 private:
  HostPaths paths_;
};

}  // namespace

CollectorInfo selfCollectorInfo() {
  CollectorInfo info;
  info.name = "self";
  info.description = "The agent's own process: CPU seconds, resident memory, open fds, start time.";
  info.enabled_by_default = true;
  info.default_interval = std::chrono::seconds(15);
  info.default_timeout = std::chrono::seconds(2);
  info.factory = [](const CollectorContext& ctx) -> Result<std::unique_ptr<Collector>> {
    return std::unique_ptr<Collector>(std::make_unique<SelfCollector>(ctx));
  };
  return info;
}

}  // namespace foreshock
