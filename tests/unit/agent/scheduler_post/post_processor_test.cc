#include <gtest/gtest.h>

#include <stdexcept>

#include "agent/scheduler.h"
#include "core/metric_set.h"

namespace foreshock {
namespace {

class OneSeries final : public Collector {
 public:
  Status collect(MetricSet& out) override {
    out.gauge("foreshock_disk_smart_healthy", "h", {{"device", "sda"}, {"serial", "Z1"}}, 0);
    return Status::Ok();
  }
};

std::vector<ScheduledCollector> one() {
  std::vector<ScheduledCollector> v(1);
  v[0].name = "fake";
  v[0].collector = std::make_unique<OneSeries>();
  return v;
}

TEST(SchedulerPostProcessor, AddsItsFamiliesToTheSameSnapshot) {
  SnapshotStore store;
  Scheduler s(one(), &store);
  bool saw_collector_data = false;
  s.setPostProcessor([&](const Snapshot& snap) {
    saw_collector_data =
        saw_collector_data || findFamily(snap.families, "foreshock_disk_smart_healthy") != nullptr;
    MetricSet m;
    m.gauge("foreshock_health_status", "h", {{"component", "disk/sda"}, {"check", "smart_status"}},
            2);
    return m.take();
  });
  s.runOnce();
  auto snap = store.load();
  EXPECT_TRUE(saw_collector_data);
  EXPECT_NE(findFamily(snap->families, "foreshock_disk_smart_healthy"), nullptr);
  const auto* h = findFamily(snap->families, "foreshock_health_status");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->metric.at(0).gauge.value, 2);
  // Still sorted by name.
  for (std::size_t i = 1; i < snap->families.size(); ++i)
    EXPECT_LT(snap->families[i - 1].name, snap->families[i].name);
}

TEST(SchedulerPostProcessor, AThrowingPostProcessorDoesNotStopPublishing) {
  SnapshotStore store;
  Scheduler s(one(), &store);
  s.setPostProcessor([](const Snapshot&) -> std::vector<prometheus::MetricFamily> {
    throw std::runtime_error("boom");
  });
  s.runOnce();
  EXPECT_NE(findFamily(store.load()->families, "foreshock_disk_smart_healthy"), nullptr);
}

}  // namespace
}  // namespace foreshock
