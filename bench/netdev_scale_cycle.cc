// One netdev collection cycle, timed: CPU time (getrusage, whole process, so the link-event
// thread's work counts too) and wall latency of collect() plus rendering the Prometheus text
// (what a scrape of node_exporter does in one go). Run inside the namespace to measure, e.g.
// by bench/netdev_scale.py. Prints one JSON object.
//
// Usage: netdev_scale_cycle [cycles] [include-regex]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "collectors/registry.h"
#include "exporters/prometheus/exposition.h"

using namespace foreshock;

namespace {

double cpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  const int cycles = argc > 1 ? std::atoi(argv[1]) : 20;
  const std::string include = argc > 2 ? argv[2] : ".*";
  Registry registry = builtinRegistry();
  const CollectorInfo* info = registry.find("netdev");
  if (info == nullptr || cycles < 1) return 2;
  CollectorContext ctx;
  ctx.name = "netdev";
  ctx.config = defaultsFor(info->options, "collectors.netdev");
  ctx.config.values["include"] = include;
  ctx.config.values["optics"] = false;  // its own slow thread, not part of a cycle
  auto made = info->factory(ctx);
  if (!made) {
    std::fprintf(stderr, "netdev: %s\n", made.error().message.c_str());
    return 1;
  }
  auto& collector = *made;
  std::vector<double> cpu, wall, collect_cpu;
  std::size_t series = 0, bytes = 0;
  for (int i = 0; i < cycles + 1; ++i) {
    const double c0 = cpuSeconds();
    const auto w0 = std::chrono::steady_clock::now();
    MetricSet out;
    Status st = collector->collect(out);
    if (!st) {
      std::fprintf(stderr, "netdev: %s\n", st.error().message.c_str());
      return 1;
    }
    const double c1 = cpuSeconds();
    series = out.seriesCount();
    std::string text = renderText(out.take());
    bytes = text.size();
    const double c2 = cpuSeconds();
    const auto w1 = std::chrono::steady_clock::now();
    if (i == 0) continue;  // warm-up: first cycle fills the driver-info cache
    cpu.push_back(c2 - c0);
    collect_cpu.push_back(c1 - c0);
    wall.push_back(std::chrono::duration<double>(w1 - w0).count());
  }
  double cpu_sum = 0, collect_sum = 0;
  for (double c : cpu) cpu_sum += c;
  for (double c : collect_cpu) collect_sum += c;
  std::printf(
      "{\"cycles\":%d,\"series\":%zu,\"bytes\":%zu,\"cpu_seconds_per_cycle\":%.6f,"
      "\"collect_cpu_seconds_per_cycle\":%.6f,\"wall_seconds_p50\":%.6f,"
      "\"wall_seconds_max\":%.6f}\n",
      cycles, series, bytes, cpu_sum / cycles, collect_sum / cycles, percentile(wall, 0.5),
      percentile(wall, 1.0));
  return 0;
}
