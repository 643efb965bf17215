// Cost of one health evaluation on a large host's snapshot (24 ATA disks, 32 sensors, 8 NICs,
// 8 probe targets) with a day of history behind it: what the agent pays per publish.
#include <benchmark/benchmark.h>

#include "core/metric_set.h"
#include "health/engine.h"
#include "health/signals.h"

namespace {

using foreshock::Labels;

std::vector<prometheus::MetricFamily> hostSnapshot(int step) {
  namespace sig = foreshock::signals;
  foreshock::MetricSet m;
  for (int d = 0; d < 24; ++d) {
    std::string dev = "sd" + std::string(1, static_cast<char>('a' + d));
    Labels id{{"device", dev}, {"serial", "SER" + std::to_string(d)}, {"model", "ST4000DM000"}};
    m.gauge(std::string(sig::kDiskSmartHealthy), "", id, 1);
    for (int a : {1, 5, 9, 187, 188, 194, 197, 198, 199}) {
      Labels l = id;
      l.push_back({"id", std::to_string(a)});
      l.push_back({"name", "a"});
      m.gauge(std::string(sig::kAtaRaw), "", l, a == 9 ? 20000 + step : 0);
      m.gauge(std::string(sig::kAtaValue), "", l, 100);
      m.gauge(std::string(sig::kAtaThreshold), "", l, 10);
    }
  }
  for (int s = 0; s < 32; ++s) {
    Labels l{{"chip", "coretemp-isa-0000"}, {"sensor", "Core " + std::to_string(s)}};
    m.gauge(std::string(sig::kSensorTemp), "", l, 40 + (step % 5));
    m.gauge(std::string(sig::kSensorTempMax), "", l, 80);
    m.gauge(std::string(sig::kSensorTempCrit), "", l, 100);
  }
  for (int i = 0; i < 8; ++i) {
    std::string n = "eth" + std::to_string(i);
    for (const char* c : {"physical", "host", "link"})
      m.counter(std::string(sig::kNetErrors), "",
                {{"interface", n}, {"class", c}, {"direction", "receive"}}, 0);
    m.counter(std::string(sig::kNetRxPackets), "", {{"interface", n}}, 1000.0 * step);
    m.counter(std::string(sig::kNetFlaps), "", {{"interface", n}}, 0);
    m.gauge(std::string(sig::kNetCarrier), "", {{"interface", n}}, 1);
  }
  for (int p = 0; p < 8; ++p) {
    Labels l{{"target", "192.0.2." + std::to_string(p)},
             {"name", p == 0 ? "gateway" : "t"},
             {"probe", "icmp"},
             {"interface", "eth0"}};
    Labels w = l;
    w.push_back({"window", "5m"});
    m.gauge(std::string(sig::kProbeLoss), "", w, 0);
    m.gauge(std::string(sig::kProbeLastRtt), "", l, 0.001);
    m.gauge(std::string(sig::kProbeUp), "", l, 1);
  }
  return m.take();
}

void BM_HealthEngineProcessLargeHost(benchmark::State& state) {
  foreshock::HealthEngine engine;
  double t = 1.7e9;
  for (int i = 0; i < 8640; ++i)
    engine.process(foreshock::observe(hostSnapshot(i), t += 10));  // a day
  auto snap = hostSnapshot(9000);
  for (auto _ : state) {
    t += 10;
    auto r = engine.process(foreshock::observe(snap, t));
    benchmark::DoNotOptimize(r);
  }
  state.counters["history_points"] = static_cast<double>(engine.pointCount());
}
BENCHMARK(BM_HealthEngineProcessLargeHost)->Unit(benchmark::kMicrosecond);

void BM_HistorySerialize(benchmark::State& state) {
  foreshock::HealthEngine engine;
  double t = 1.7e9;
  for (int i = 0; i < 8640; ++i) engine.process(foreshock::observe(hostSnapshot(i), t += 10));
  auto path = std::filesystem::temp_directory_path() / "foreshock-bench-history.bin";
  for (auto _ : state) {
    auto st = engine.save(path);
    benchmark::DoNotOptimize(st);
  }
  state.counters["file_bytes"] = static_cast<double>(std::filesystem::file_size(path));
  std::filesystem::remove(path);
}
BENCHMARK(BM_HistorySerialize)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
