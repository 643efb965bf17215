// Cost of the disk failure risk model per disk and evaluation: the features (7- and 30-day
// increases of five counters from the history) and the trees, for a disk with 90 days of daily
// history (the retention) and 48 hours of 1-minute points (the full-rate window), i.e. the
// largest history the agent keeps for one disk. Run: build/risk_model_bench.
#include <benchmark/benchmark.h>

#include "health/engine.h"
#include "health/risk_model.h"

namespace {

using namespace foreshock;

struct Disk {
  HistoryStore history;
  DiskObservation obs;
  double now = 0;
};

Disk degradingDisk(bool full_rate) {
  Disk d;
  d.obs.serial = "Z3025KMX";
  d.obs.device = "sda";
  d.obs.model = "ST4000DM000";
  const double t0 = 1'700'000'000;
  auto observe = [&](double t, double v) {
    d.obs.attributes.clear();
    for (int id : {5, 9, 187, 188, 194, 197, 198, 199}) {
      AtaAttribute a;
      a.id = id;
      a.raw = id == 9 ? 30000 : id == 194 ? 30 : v;
      d.obs.attributes.push_back(a);
    }
    recordDisk(d.history, d.obs, t);
    d.history.prune(t);
    d.now = t;
  };
  for (int day = 0; day < 90; ++day) observe(t0 + day * 86400.0, day / 3);
  if (full_rate) {
    for (int m = 1; m <= 48 * 60; ++m) observe(t0 + 89 * 86400.0 + m * 60.0, 30 + m / 600);
  }
  return d;
}

void scoreOneDisk(benchmark::State& state) {
  auto d = degradingDisk(state.range(0) != 0);
  double sum = 0;
  for (auto _ : state) {
    auto f = riskFeatures(d.obs, d.history, d.now);
    sum += riskScore(*f);
    benchmark::DoNotOptimize(sum);
  }
  state.SetLabel(state.range(0) ? "90 days daily + 48 h of 1-min points" : "90 days daily");
}
BENCHMARK(scoreOneDisk)->Arg(0)->Arg(1);

void treesOnly(benchmark::State& state) {
  auto d = degradingDisk(false);
  auto f = *riskFeatures(d.obs, d.history, d.now);
  for (auto _ : state) {
    double r = riskScore(f);
    benchmark::DoNotOptimize(r);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(treesOnly);

}  // namespace

BENCHMARK_MAIN();
