// Cost of the smart collector's parsers and of one replay cycle over the shared SMART data.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "collectors/smart/ata_reader.h"
#include "collectors/smart/nvme_log.h"
#include "collectors/smart/replay_source.h"
#include "collectors/smart/smart_engine.h"
#include "collectors/smart/smartctl_json.h"
#include "core/file_util.h"

namespace {

namespace fs = std::filesystem;
using namespace foreshock;
using namespace foreshock::smart;

const fs::path kSmart = fs::path(FORESHOCK_TEST_DATA) / "smart";

std::string load(const fs::path& p) {
  auto r = readFileBounded(p);
  if (!r) std::abort();
  return *r;
}

void BM_SmartctlJsonAtaReport(benchmark::State& state) {
  std::string text =
      load(kSmart / "smartctl-json/smartctl_exporter/sat-null-ST8000NM017B-2TJ103-sda.json");
  for (auto _ : state) benchmark::DoNotOptimize(parseSmartctlJson(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_SmartctlJsonAtaReport);

void BM_SkdumpBlobThroughLibatasmart(benchmark::State& state) {
  std::string blob = load(kSmart / "ata-blobs/ST9100821AS--3.CME");
  std::span<const std::uint8_t> b(reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size());
  for (auto _ : state) benchmark::DoNotOptimize(readAtaBlob(b));
}
BENCHMARK(BM_SkdumpBlobThroughLibatasmart);

void BM_NvmeSmartLogDecode(benchmark::State& state) {
  NvmeHealth h;
  h.media_errors = 7;
  h.composite_temperature_celsius = 35;
  auto page = encodeNvmeSmartLog(h);
  for (auto _ : state) benchmark::DoNotOptimize(parseNvmeSmartLog(page));
}
BENCHMARK(BM_NvmeSmartLogDecode);

// One full collector cycle over every replayable file of tests/fixtures/data (~190 disks).
void BM_ReplayCycleOverSharedData(benchmark::State& state) {
  EngineOptions o;
  o.parallel = static_cast<std::size_t>(state.range(0));
  SmartEngine engine(makeReplaySource(kSmart, "smart"), o, SystemClock::instance());
  std::size_t series = 0;
  for (auto _ : state) {
    MetricSet out;
    engine.collect(out);
    series = out.seriesCount();
  }
  state.counters["series"] = static_cast<double>(series);
}
BENCHMARK(BM_ReplayCycleOverSharedData)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
