// Every rule with synthetic snapshots built from the metric names in health/signals.h, and the
// negative case next to each positive one.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/metric_set.h"
#include "health/engine.h"
#include "health/risk_model.h"
#include "health/signals.h"

namespace foreshock {
namespace {

constexpr double kT0 = 1'700'000'000;
constexpr double kDay = 86400;
constexpr double kMin = 60;

std::string s(std::string_view v) {
  return std::string(v);
}

// A host's scrape, built the way the collectors publish it.
struct Scrape {
  MetricSet m;
  void ata(const std::string& dev, const std::string& serial, std::map<int, double> raw,
           bool healthy = true) {
    Labels id{{"device", dev}, {"serial", serial}, {"model", "ST4000DM000"}};
    m.info(s(signals::kDiskInfo), "", id);
    m.gauge(s(signals::kDiskSmartHealthy), "", id, healthy ? 1 : 0);
    for (auto [a, v] : raw) {
      Labels l = id;
      l.push_back({"id", std::to_string(a)});
      l.push_back({"name", "attr" + std::to_string(a)});
      m.gauge(s(signals::kAtaRaw), "", l, v);
    }
  }
  void ataNormalized(const std::string& dev, const std::string& serial, int id, double value,
                     double threshold, bool prefail) {
    Labels l{{"device", dev},
             {"serial", serial},
             {"model", "ST4000DM000"},
             {"id", std::to_string(id)},
             {"name", "attr" + std::to_string(id)}};
    m.gauge(s(signals::kAtaValue), "", l, value);
    m.gauge(s(signals::kAtaThreshold), "", l, threshold);
    m.gauge(s(signals::kAtaPrefail), "", l, prefail ? 1 : 0);
  }
  void nvme(const std::string& dev, const std::string& serial, double spare, double spare_thr,
            double used, double media_errors, std::vector<std::string> bits = {}) {
    Labels id{{"device", dev}, {"serial", serial}, {"model", "Samsung SSD 980"}};
    m.gauge(s(signals::kDiskSmartHealthy), "", id, 1);
    m.gauge(s(signals::kNvmeSpare), "", id, spare);
    m.gauge(s(signals::kNvmeSpareThreshold), "", id, spare_thr);
    m.gauge(s(signals::kNvmePercentageUsed), "", id, used);
    m.counter(s(signals::kDiskMediaErrors), "", id, media_errors);
    for (const char* b :
         {"available_spare", "temperature", "reliability", "read_only", "volatile_memory_backup"}) {
      Labels l = id;
      l.push_back({"bit", b});
      bool set = std::find(bits.begin(), bits.end(), b) != bits.end();
      m.gauge(s(signals::kNvmeCriticalWarning), "", l, set ? 1 : 0);
    }
  }
  void sensor(const std::string& chip, const std::string& name, double t, double max, double crit) {
    Labels l{{"chip", chip}, {"sensor", name}};
    m.gauge(s(signals::kSensorTemp), "", l, t);
    m.gauge(s(signals::kSensorTempMax), "", l, max);
    m.gauge(s(signals::kSensorTempCrit), "", l, crit);
  }
  void fan(const std::string& chip, const std::string& name, double rpm) {
    m.gauge(s(signals::kSensorFan), "", {{"chip", chip}, {"sensor", name}}, rpm);
  }
  void nic(const std::string& name, const std::string& mac, double phys, double host, double pkts,
           double flaps, double carrier = 1) {
    m.info(s(signals::kNetInfo), "", {{"interface", name}, {"permanent_mac", mac}});
    for (auto [cls, v] :
         std::map<std::string, double>{{"physical", phys}, {"host", host}, {"link", 0}})
      m.counter(s(signals::kNetErrors), "",
                {{"interface", name}, {"class", cls}, {"direction", "receive"}}, v);
    m.counter(s(signals::kNetRxPackets), "", {{"interface", name}}, pkts);
    m.counter(s(signals::kNetFlaps), "", {{"interface", name}}, flaps);
    m.gauge(s(signals::kNetCarrier), "", {{"interface", name}}, carrier);
  }
  void probe(const std::string& target, const std::string& name, double loss5m, double rtt,
             bool up = true, const std::string& iface = "eth0", const std::string& kind = "icmp") {
    Labels l{{"target", target}, {"name", name}, {"probe", kind}, {"interface", iface}};
    Labels w5 = l, w1 = l;
    w5.push_back({"window", "5m"});
    w1.push_back({"window", "1m"});
    m.gauge(s(signals::kProbeLoss), "", w5, loss5m);
    m.gauge(s(signals::kProbeLoss), "", w1, up ? loss5m : 1.0);
    m.gauge(s(signals::kProbeLastRtt), "", l, rtt);
    m.gauge(s(signals::kProbeUp), "", l, up ? 1 : 0);
  }
  Observations at(double t) { return observe(m.take(), t); }
};

HealthOptions opts() {
  HealthOptions o;
  o.record_interval_seconds = 0;
  return o;
}

const Finding* find(const HealthResult& r, std::string_view component, std::string_view check) {
  for (const auto& f : r.findings)
    if (f.component == component && f.check == check) return &f;
  return nullptr;
}

Severity sev(const HealthResult& r, std::string_view component, std::string_view check) {
  const auto* f = find(r, component, check);
  EXPECT_NE(f, nullptr) << component << " " << check << " was not evaluated";
  return f ? f->severity : Severity::kInfo;
}

// ---- disks ----

TEST(DiskRules, FailingSmartVerdictIsCritical) {
  HealthEngine e(opts());
  Scrape sc;
  sc.ata("sda", "Z1", {{5, 0}}, false);
  auto r = e.process(sc.at(kT0));
  EXPECT_EQ(sev(r, "disk/sda", "smart_status"), Severity::kCritical);
  EXPECT_NE(find(r, "disk/sda", "smart_status")->action.find("replace"), std::string::npos);
}

TEST(DiskRules, PassingSmartVerdictIsOk) {
  HealthEngine e(opts());
  Scrape sc;
  sc.ata("sda", "Z1", {{5, 0}});
  EXPECT_EQ(sev(e.process(sc.at(kT0)), "disk/sda", "smart_status"), Severity::kOk);
}

TEST(DiskRules, PrefailAttributeAtItsThresholdIsCritical) {
  HealthEngine e(opts());
  Scrape sc;
  sc.ata("sda", "Z1", {{5, 2000}});
  sc.ataNormalized("sda", "Z1", 5, 10, 10, true);
  auto r = e.process(sc.at(kT0));
  EXPECT_EQ(sev(r, "disk/sda", "prefail_threshold"), Severity::kCritical);
}

TEST(DiskRules, OldAgeAttributeBelowThresholdIsNotAPrefailFailure) {
  HealthEngine e(opts());
  Scrape sc;
  sc.ata("sda", "Z1", {{5, 0}});
  sc.ataNormalized("sda", "Z1", 190, 30, 40, false);  // airflow temperature: old-age
  sc.ataNormalized("sda", "Z1", 1, 100, 6, true);
  EXPECT_EQ(sev(e.process(sc.at(kT0)), "disk/sda", "prefail_threshold"), Severity::kOk);
}

TEST(DiskRules, PendingSectorsAboveZeroWarnAndGrowthWithinSevenDaysIsCritical) {
  HealthEngine e(opts());
  for (int d = 0; d < 10; ++d) {
    Scrape sc;
    sc.ata("sda", "Z1", {{197, d < 8 ? 8.0 : 24.0}});
    auto r = e.process(sc.at(kT0 + d * kDay));
    if (d == 7) {
      EXPECT_EQ(sev(r, "disk/sda", "pending_sectors"), Severity::kWarning);
    }
    if (d == 9) {
      EXPECT_EQ(sev(r, "disk/sda", "pending_sectors"), Severity::kCritical);
      const auto* f = find(r, "disk/sda", "pending_sectors");
      EXPECT_NE(f->summary.find("197"), std::string::npos);
      EXPECT_EQ(f->evidence[1].name, "increase_7d");
      EXPECT_EQ(f->evidence[1].value, 16);
    }
  }
}

TEST(DiskRules, GrowthOlderThanSevenDaysIsOnlyAWarning) {
  HealthEngine e(opts());
  for (int d = 0; d < 12; ++d) {
    Scrape sc;
    sc.ata("sda", "Z1", {{5, d < 2 ? 0.0 : 8.0}});
    auto r = e.process(sc.at(kT0 + d * kDay));
    if (d == 11) {
      EXPECT_EQ(sev(r, "disk/sda", "reallocated_sectors"), Severity::kWarning);
    }
  }
}

TEST(DiskRules, CleanMediaCountersAreOk) {
  HealthEngine e(opts());
  Scrape sc;
  sc.ata("sda", "Z1", {{5, 0}, {187, 0}, {197, 0}, {198, 0}});
  auto r = e.process(sc.at(kT0));
  for (const char* c : {"reallocated_sectors", "reported_uncorrectable", "pending_sectors",
                        "offline_uncorrectable"})
    EXPECT_EQ(sev(r, "disk/sda", c), Severity::kOk) << c;
}

TEST(DiskRules, CrcErrorGrowthBlamesTheCableNotTheDisk) {
  HealthEngine e(opts());
  Scrape a, b;
  a.ata("sda", "Z1", {{199, 3}, {188, 4295032833.0}});
  e.process(a.at(kT0));
  b.ata("sda", "Z1", {{199, 40}, {188, 4295032833.0}});
  auto r = e.process(b.at(kT0 + kDay));
  const auto* f = find(r, "disk/sda", "interface_crc_errors");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_NE(f->action.find("cable"), std::string::npos);
  EXPECT_NE(f->summary.find("not a failing disk"), std::string::npos);
  // 188 non-zero but not growing (the packed Seagate counter) is not a finding.
  EXPECT_EQ(sev(r, "disk/sda", "command_timeouts"), Severity::kOk);
}

TEST(DiskRules, NvmeSpareAndReliabilityBitsAreCritical) {
  HealthEngine e(opts());
  Scrape sc;
  sc.nvme("nvme0n1", "S1", 0.05, 0.10, 0.3, 0, {"available_spare", "reliability"});
  auto r = e.process(sc.at(kT0));
  EXPECT_EQ(sev(r, "disk/nvme0n1", "nvme_critical_warning"), Severity::kCritical);
  EXPECT_EQ(sev(r, "disk/nvme0n1", "nvme_spare"), Severity::kCritical);
}

TEST(DiskRules, NvmeTemperatureBitAloneIsNotADiskFailure) {
  HealthEngine e(opts());
  Scrape sc;
  sc.nvme("nvme0n1", "S1", 1.0, 0.10, 0.3, 0, {"temperature"});
  EXPECT_EQ(sev(e.process(sc.at(kT0)), "disk/nvme0n1", "nvme_critical_warning"), Severity::kOk);
}

TEST(DiskRules, NvmeSpareWithinTenPointsAndWearAbove90PercentWarn) {
  HealthEngine e(opts());
  Scrape sc;
  sc.nvme("nvme0n1", "S1", 0.18, 0.10, 0.92, 0);
  auto r = e.process(sc.at(kT0));
  EXPECT_EQ(sev(r, "disk/nvme0n1", "nvme_spare"), Severity::kWarning);
  EXPECT_EQ(sev(r, "disk/nvme0n1", "nvme_wear"), Severity::kWarning);
  Scrape ok;
  ok.nvme("nvme1n1", "S2", 1.0, 0.10, 0.05, 0);
  auto r2 = e.process(ok.at(kT0 + 60));
  EXPECT_EQ(sev(r2, "disk/nvme1n1", "nvme_spare"), Severity::kOk);
  EXPECT_EQ(sev(r2, "disk/nvme1n1", "nvme_wear"), Severity::kOk);
}

TEST(DiskRules, NvmeMediaErrorsIncreasingIsCriticalAndStableIsAWarning) {
  HealthEngine e(opts());
  Scrape a, b, c;
  a.nvme("nvme0n1", "S1", 1, 0.1, 0.1, 2);
  e.process(a.at(kT0));
  b.nvme("nvme0n1", "S1", 1, 0.1, 0.1, 2);
  EXPECT_EQ(sev(e.process(b.at(kT0 + kDay)), "disk/nvme0n1", "media_errors"), Severity::kWarning);
  c.nvme("nvme0n1", "S1", 1, 0.1, 0.1, 9);
  EXPECT_EQ(sev(e.process(c.at(kT0 + 2 * kDay)), "disk/nvme0n1", "media_errors"),
            Severity::kCritical);
}

TEST(DiskRules, ScsiGrownDefectsGrowingAndFailedSelfTestAreCritical) {
  HealthEngine e(opts());
  auto scrape = [](double defects, bool self_test) {
    Scrape sc;
    Labels id{{"device", "sdc"}, {"serial", "SAS1"}, {"model", "HUC101818CS4200"}};
    sc.m.gauge(s(signals::kScsiGrownDefects), "", id, defects);
    sc.m.counter(s(signals::kScsiUncorrected), "", id, 0);
    sc.m.gauge(s(signals::kAtaSelfTestStatus), "", id,
               self_test ? 0 : 7);  // 7: read element failed
    return sc;
  };
  auto a = scrape(0, true);
  auto r = e.process(a.at(kT0));
  EXPECT_EQ(sev(r, "disk/sdc", "scsi_grown_defects"), Severity::kOk);
  EXPECT_EQ(sev(r, "disk/sdc", "self_test"), Severity::kOk);
  auto b = scrape(12, false);
  r = e.process(b.at(kT0 + kDay));
  EXPECT_EQ(sev(r, "disk/sdc", "scsi_grown_defects"), Severity::kCritical);
  EXPECT_EQ(sev(r, "disk/sdc", "self_test"), Severity::kCritical);
}

TEST(DiskRules, ScsiNonMediumErrorGrowthBlamesTheTransportNotTheDisk) {
  HealthEngine e(opts());
  auto scrape = [](double non_medium) {
    Scrape sc;
    Labels id{{"device", "sdc"}, {"serial", "SAS1"}, {"model", "HUC101818CS4200"}};
    sc.m.gauge(s(signals::kScsiGrownDefects), "", id, 0);
    sc.m.counter(s(signals::kScsiNonMedium), "", id, non_medium);
    return sc;
  };
  auto a = scrape(389);  // an old count alone is not a finding: only growth is
  auto r = e.process(a.at(kT0));
  EXPECT_EQ(sev(r, "disk/sdc", "scsi_non_medium_errors"), Severity::kOk);
  auto b = scrape(401);
  r = e.process(b.at(kT0 + kDay));
  EXPECT_EQ(sev(r, "disk/sdc", "scsi_non_medium_errors"), Severity::kWarning);
  const auto* f = find(r, "disk/sdc", "scsi_non_medium_errors");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->action.find("HBA"), std::string::npos);
  EXPECT_EQ(sev(r, "disk/sdc", "scsi_grown_defects"), Severity::kOk) << "the media stays clean";
}

TEST(DiskRules, UnreadableDiskIsAWarning) {
  HealthEngine e(opts());
  Scrape sc;
  sc.m.gauge(s(signals::kDiskUp), "", {{"device", "sdd"}, {"serial", "X"}}, 0);
  EXPECT_EQ(sev(e.process(sc.at(kT0)), "disk/sdd", "smart_readable"), Severity::kWarning);
}

TEST(DiskRules, RiskModelFlagsAFastDegradingDiskAndNotACleanOne) {
  HealthEngine e(opts());
  HealthResult r;
  for (int d = 0; d < 8; ++d) {
    Scrape sc;
    sc.ata(
        "sda", "BAD",
        {{5, 100.0 * d}, {187, 20.0 * d}, {197, 64.0 * d}, {198, 64.0 * d}, {9, 30000}, {194, 30}});
    sc.ata("sdb", "GOOD", {{5, 0}, {187, 0}, {197, 0}, {198, 0}, {9, 8000}, {194, 28}});
    r = e.process(sc.at(kT0 + d * kDay));
  }
  EXPECT_GE(sev(r, "disk/sda", "failure_risk"), Severity::kWarning);
  EXPECT_EQ(sev(r, "disk/sdb", "failure_risk"), Severity::kOk);
  MetricSet out;
  HealthEngine::exportMetrics(r, out);
  auto fams = out.take();
  const auto* risk = findFamily(fams, "foreshock_disk_failure_risk");
  ASSERT_NE(risk, nullptr);
  for (const auto& m : risk->metric) {
    if (labelValue(m, "serial") == "BAD") {
      EXPECT_GT(m.gauge.value, 0.9);
    }
    if (labelValue(m, "serial") == "GOOD") {
      EXPECT_LT(m.gauge.value, 0.5);
    }
  }
}

TEST(DiskRules, HealthStatusExportsZeroOneTwo) {
  HealthEngine e(opts());
  Scrape sc;
  sc.ata("sda", "Z1", {{5, 8}}, false);
  auto r = e.process(sc.at(kT0));
  MetricSet out;
  HealthEngine::exportMetrics(r, out);
  auto fams = out.take();
  const auto* st = findFamily(fams, "foreshock_health_status");
  ASSERT_NE(st, nullptr);
  std::map<std::string, double> v;
  for (const auto& m : st->metric) v[labelValue(m, "check")] = m.gauge.value;
  EXPECT_EQ(v["smart_status"], 2);
  EXPECT_EQ(v["reallocated_sectors"], 1);
  EXPECT_EQ(v["prefail_threshold"], 0);
  EXPECT_NE(findFamily(fams, "foreshock_health_evidence"), nullptr);
}

TEST(DiskRules, HealthSeriesCarryTheSerialSoASwappedDiskIsAnotherAlert) {
  HealthEngine e(opts());
  auto statusLabels = [&](const std::string& serial, double t) {
    Scrape sc;
    sc.ata("sda", serial, {{5, 8}}, false);
    MetricSet out;
    HealthEngine::exportMetrics(e.process(sc.at(t)), out);
    auto fams = out.take();
    std::vector<std::string> serials;
    for (const char* name : {"foreshock_health_status", "foreshock_health_evidence"}) {
      const auto* f = findFamily(fams, name);
      if (f == nullptr) continue;
      for (const auto& m : f->metric) {
        if (labelValue(m, "component") == "disk/sda" && labelValue(m, "check") == "smart_status")
          serials.push_back(labelValue(m, "serial"));
      }
    }
    return serials;
  };
  auto before = statusLabels("Z300ZV41", kT0);
  ASSERT_FALSE(before.empty());
  for (const auto& v : before) EXPECT_EQ(v, "Z300ZV41");
  auto after = statusLabels("S300V3AD", kT0 + kMin);  // another drive in the same slot
  ASSERT_FALSE(after.empty());
  for (const auto& v : after) EXPECT_EQ(v, "S300V3AD");
}

// ---- temperatures ----

TEST(TemperatureRules, AboveMaxWarnsAboveCritIsCriticalBelowIsOk) {
  HealthEngine e(opts());
  Scrape sc;
  sc.sensor("coretemp-isa-0000", "Core 0", 85, 80, 100);
  sc.sensor("coretemp-isa-0000", "Core 1", 101, 80, 100);
  sc.sensor("coretemp-isa-0000", "Core 2", 45, 80, 100);
  auto r = e.process(sc.at(kT0));
  EXPECT_EQ(sev(r, "sensor/coretemp-isa-0000/Core 0", "temperature_limit"), Severity::kWarning);
  EXPECT_EQ(sev(r, "sensor/coretemp-isa-0000/Core 1", "temperature_limit"), Severity::kCritical);
  EXPECT_EQ(sev(r, "sensor/coretemp-isa-0000/Core 2", "temperature_limit"), Severity::kOk);
}

TEST(TemperatureRules, SteepRiseGivesTimeToCritical) {
  HealthEngine e(opts());
  HealthResult r;
  for (int i = 0; i <= 20; ++i) {
    Scrape sc;
    sc.sensor("nct6775-isa-0290", "SYSTIN", 50 + 1.0 * i, 90, 100);  // +1 C per minute
    r = e.process(sc.at(kT0 + i * kMin));
  }
  // 70 C now, 100 C at 1 C/min: 30 minutes -> warning.
  EXPECT_EQ(sev(r, "sensor/nct6775-isa-0290/SYSTIN", "time_to_critical"), Severity::kWarning);
  const auto* f = find(r, "sensor/nct6775-isa-0290/SYSTIN", "time_to_critical");
  EXPECT_NEAR(f->evidence[2].value, 1800, 60);
}

TEST(TemperatureRules, StableTemperatureHasNoTimeToCritical) {
  HealthEngine e(opts());
  HealthResult r;
  for (int i = 0; i <= 20; ++i) {
    Scrape sc;
    sc.sensor("nct6775-isa-0290", "SYSTIN", 70 + (i % 2) * 0.5, 90, 100);
    r = e.process(sc.at(kT0 + i * kMin));
  }
  EXPECT_EQ(sev(r, "sensor/nct6775-isa-0290/SYSTIN", "time_to_critical"), Severity::kOk);
}

TEST(TemperatureRules, StoppedFanWithRisingChipTemperatureWarns) {
  HealthEngine e(opts());
  HealthResult r;
  for (int i = 0; i <= 10; ++i) {
    Scrape sc;
    sc.sensor("nct6775-isa-0290", "CPUTIN", 50 + 0.5 * i, 80, 95);
    sc.fan("nct6775-isa-0290", "fan2", 0);
    sc.fan("nct6775-isa-0290", "fan1", 1200);
    r = e.process(sc.at(kT0 + i * kMin));
  }
  EXPECT_EQ(sev(r, "fan/nct6775-isa-0290/fan2", "fan_stopped"), Severity::kWarning);
  EXPECT_EQ(sev(r, "fan/nct6775-isa-0290/fan1", "fan_stopped"), Severity::kOk);
}

TEST(TemperatureRules, StoppedFanWithSteadyTemperatureIsNotAFinding) {
  HealthEngine e(opts());
  HealthResult r;
  for (int i = 0; i <= 10; ++i) {
    Scrape sc;
    sc.sensor("nct6775-isa-0290", "CPUTIN", 40, 80, 95);
    sc.fan("nct6775-isa-0290", "fan3", 0);  // an empty fan header
    r = e.process(sc.at(kT0 + i * kMin));
  }
  EXPECT_EQ(sev(r, "fan/nct6775-isa-0290/fan3", "fan_stopped"), Severity::kOk);
}

// ---- network ----

TEST(NetworkRules, PhysicalErrorsOutOfProportionToTrafficAreCritical) {
  HealthEngine e(opts());
  Scrape a, b;
  a.nic("eth0", "52:54:00:00:00:01", 0, 0, 1000, 0);
  e.process(a.at(kT0));
  b.nic("eth0", "52:54:00:00:00:01", 200, 0, 11000, 0);
  EXPECT_EQ(sev(e.process(b.at(kT0 + 5 * kMin)), "interface/eth0", "physical_errors"),
            Severity::kCritical);
}

TEST(NetworkRules, AFewErrorsOnAVeryBusyLinkAreExplainedByTraffic) {
  HealthEngine e(opts());
  Scrape a, b;
  a.nic("eth0", "52:54:00:00:00:01", 0, 0, 0, 0);
  e.process(a.at(kT0));
  b.nic("eth0", "52:54:00:00:00:01", 5, 0, 2e9, 0);
  EXPECT_EQ(sev(e.process(b.at(kT0 + 5 * kMin)), "interface/eth0", "physical_errors"),
            Severity::kOk);
}

TEST(NetworkRules, FlappingLinkAndHostDropsWarn) {
  HealthEngine e(opts());
  Scrape a, b;
  a.nic("eth1", "52:54:00:00:00:02", 0, 0, 100, 2);
  e.process(a.at(kT0));
  b.nic("eth1", "52:54:00:00:00:02", 0, 5000, 100000, 7);
  auto r = e.process(b.at(kT0 + 10 * kMin));
  EXPECT_EQ(sev(r, "interface/eth1", "link_flapping"), Severity::kWarning);
  EXPECT_EQ(sev(r, "interface/eth1", "host_drops"), Severity::kWarning);
  EXPECT_EQ(sev(r, "interface/eth1", "physical_errors"), Severity::kOk);
}

TEST(NetworkRules, ReplacedNicUnderTheSameNameIsNotAnErrorBurst) {
  HealthEngine e(opts());
  Scrape a, b;
  a.nic("eth0", "52:54:00:00:00:01", 900, 0, 1e6, 40);
  e.process(a.at(kT0));
  b.nic("eth0", "52:54:00:00:00:99", 1000, 0, 1e6 + 10, 41);  // new card, its own counters
  auto r = e.process(b.at(kT0 + 5 * kMin));
  EXPECT_EQ(sev(r, "interface/eth0", "physical_errors"), Severity::kOk);
  EXPECT_EQ(sev(r, "interface/eth0", "link_flapping"), Severity::kOk);
}

// ---- upstream ----

TEST(UpstreamRules, GatewayLossAboveOnePercentWarnsAndBelowIsOk) {
  HealthEngine e(opts());
  Scrape sc;
  sc.nic("eth0", "m", 0, 0, 0, 0);
  sc.probe("192.0.2.1", "gateway", 0.03, 0.001);
  sc.probe("198.51.100.7", "db", 0.03, 0.001);
  auto r = e.process(sc.at(kT0));
  EXPECT_EQ(sev(r, "upstream/gateway", "gateway_loss"), Severity::kWarning);
  EXPECT_EQ(sev(r, "upstream/db", "target_loss"), Severity::kOk);  // 5 % for other targets
  Scrape ok;
  ok.probe("192.0.2.1", "gateway", 0.005, 0.001);
  EXPECT_EQ(sev(e.process(ok.at(kT0 + 60)), "upstream/gateway", "gateway_loss"), Severity::kOk);
}

TEST(UpstreamRules, GatewayUnreachableWhileLinkIsUpIsCritical) {
  HealthEngine e(opts());
  Scrape sc;
  sc.nic("eth0", "m", 0, 0, 0, 0, 1);
  sc.probe("192.0.2.1", "gateway", 1.0, 0, false);
  EXPECT_EQ(sev(e.process(sc.at(kT0)), "upstream/gateway", "gateway_unreachable"),
            Severity::kCritical);
}

TEST(UpstreamRules, DiscoveredDefaultGatewaysGetTheGatewayRules) {
  // "default-gateway" is the name the probe collector gives the gateways it discovers.
  HealthEngine e(opts());
  Scrape sc;
  sc.nic("eth0", "m", 0, 0, 0, 0, 1);
  sc.probe("10.66.0.1", "default-gateway", 0.03, 0.001);
  auto r = e.process(sc.at(kT0));
  EXPECT_EQ(sev(r, "upstream/default-gateway", "gateway_loss"), Severity::kWarning);
  EXPECT_EQ(sev(r, "upstream/default-gateway", "gateway_unreachable"), Severity::kOk);
}

TEST(UpstreamRules, GatewayAnsweringArpButNotIcmpIsReachableAndSilentOnlyWhenAllAreDown) {
  HealthEngine e(opts());
  Scrape filtered;
  filtered.nic("eth0", "m", 0, 0, 0, 0, 1);
  filtered.probe("10.66.0.1", "default-gateway", 1.0, 0, false, "eth0", "icmp");
  filtered.probe("10.66.0.1", "default-gateway", 0.0, 0.0002, true, "eth0", "arp");
  auto r = e.process(filtered.at(kT0));
  EXPECT_EQ(sev(r, "upstream/default-gateway", "gateway_unreachable"), Severity::kOk)
      << "ICMP filtered while ARP answers is not an unreachable gateway";
  Scrape dead;
  dead.nic("eth0", "m", 0, 0, 0, 0, 1);
  dead.probe("10.66.0.1", "default-gateway", 1.0, 0, false, "eth0", "icmp");
  dead.probe("10.66.0.1", "default-gateway", 1.0, 0, false, "eth0", "arp");
  r = e.process(dead.at(kT0 + 60));
  EXPECT_EQ(sev(r, "upstream/default-gateway", "gateway_unreachable"), Severity::kCritical);
}

TEST(UpstreamRules, UnreachableIsRaisedWhenNoLinkStateIsKnown) {
  // The netdev collector may be disabled: no interface data does not mean "link down".
  HealthEngine e(opts());
  Scrape sc;
  sc.probe("10.66.0.1", "default-gateway", 1.0, 0, false);
  auto r = e.process(sc.at(kT0));
  EXPECT_EQ(sev(r, "upstream/default-gateway", "gateway_unreachable"), Severity::kCritical);
  EXPECT_EQ(find(r, "upstream/default-gateway", "gateway_unreachable")->summary.find("link is up"),
            std::string::npos)
      << "it must not claim a link state it does not know";
}

TEST(UpstreamRules, APendingTargetIsNotUnreachable) {
  // Before its first outcome (a TCP connect to a far peer can take many seconds) a target is
  // down with reason "pending": not known to be unreachable.
  HealthEngine e(opts());
  Scrape sc;
  sc.m.gauge(s(signals::kProbeUp), "",
             {{"target", "10.66.0.12:5432"},
              {"name", "orders-db"},
              {"probe", "tcp"},
              {"interface", "eth0"},
              {"reason", "pending"}},
             0);
  auto r = e.process(sc.at(kT0));
  EXPECT_EQ(find(r, "upstream/orders-db", "target_unreachable"), nullptr);
}

TEST(UpstreamRules, UnreachableSummaryCarriesEachProbesDownReason) {
  HealthEngine e(opts());
  Scrape sc;
  sc.nic("eth0", "m", 0, 0, 0, 0, 1);
  sc.m.gauge(s(signals::kProbeUp), "",
             {{"target", "10.77.0.5"},
              {"name", "db"},
              {"probe", "icmp"},
              {"interface", "eth0"},
              {"reason", "host_unreachable"}},
             0);
  auto r = e.process(sc.at(kT0));
  const auto* f = find(r, "upstream/db", "target_unreachable");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kCritical);
  EXPECT_NE(f->summary.find("(icmp: host_unreachable)"), std::string::npos) << f->summary;
}

TEST(UpstreamRules, SeveralProbesOfOneNameExportDistinctSeries) {
  HealthEngine e(opts());
  Scrape sc;
  sc.nic("eth0", "m", 0, 0, 0, 0, 1);
  sc.probe("10.66.0.1", "default-gateway", 0.0, 0.0002, true, "eth0", "icmp");
  sc.probe("10.66.0.1", "default-gateway", 0.0, 0.0002, true, "eth0", "arp");
  sc.probe("fd00:66::1", "default-gateway", 0.0, 0.0002, true, "eth0", "icmp");
  sc.probe("fd00:66::1", "default-gateway", 0.0, 0.0002, true, "eth0", "ndp");
  MetricSet out;
  HealthEngine::exportMetrics(e.process(sc.at(kT0)), out);
  EXPECT_TRUE(out.conflicts().empty());
  auto fams = out.take();
  std::set<std::vector<std::pair<std::string, std::string>>> seen;
  const auto* st = findFamily(fams, "foreshock_health_status");
  ASSERT_NE(st, nullptr);
  int upstream = 0;
  for (const auto& m : st->metric) {
    std::vector<std::pair<std::string, std::string>> ls;
    for (const auto& l : m.label) ls.emplace_back(l.name, l.value);
    EXPECT_TRUE(seen.insert(ls).second) << "duplicate series " << ::testing::PrintToString(ls);
    if (labelValue(m, "component") == "upstream/default-gateway") ++upstream;
  }
  EXPECT_EQ(upstream, 2 + 4) << "one reachability verdict per address, one loss verdict per probe";
}

TEST(UpstreamRules, GatewayUnreachableWithLinkDownIsNotBlamedOnTheGateway) {
  HealthEngine e(opts());
  Scrape sc;
  sc.nic("eth0", "m", 0, 0, 0, 0, 0);
  sc.probe("192.0.2.1", "gateway", 1.0, 0, false);
  EXPECT_EQ(sev(e.process(sc.at(kT0)), "upstream/gateway", "gateway_unreachable"), Severity::kOk);
}

TEST(UpstreamRules, LatencyFarAboveItsBaselineWarnsAndNormalLatencyDoesNot) {
  HealthEngine e(opts());
  HealthResult r;
  for (int i = 0; i < 60; ++i) {
    Scrape sc;
    sc.probe("192.0.2.1", "gateway", 0, 0.001);
    r = e.process(sc.at(kT0 + i * kMin));
  }
  EXPECT_EQ(sev(r, "upstream/gateway", "latency_baseline"), Severity::kOk);
  for (int i = 60; i < 66; ++i) {
    Scrape sc;
    sc.probe("192.0.2.1", "gateway", 0, 0.080);
    r = e.process(sc.at(kT0 + i * kMin));
  }
  EXPECT_EQ(sev(r, "upstream/gateway", "latency_baseline"), Severity::kWarning);
}

}  // namespace
}  // namespace foreshock
