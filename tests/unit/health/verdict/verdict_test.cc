// The verdicts a person reads, one row per finding of issue 12: each row feeds the health engine
// the snapshots a host publishes (built with the metric names the collectors emit), then checks
// the findings, the `foreshock check` report and exit code rendered from them, and, where a row
// names one, that a shipped alert in packaging/prometheus/foreshock-rules.yml pages on the
// exported status at the expected severity (the alerts themselves are run by promtool in
// tests/prometheus/disk_verdicts.yml). The textfile recipe through a real node_exporter is
// tests/integration/test_textfile_node_exporter.py.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/metric_set.h"
#include "exporters/report/report.h"
#include "health/engine.h"
#include "health/signals.h"

namespace foreshock {
namespace {

constexpr double kT0 = 1'700'000'000;
constexpr double kMin = 60, kHour = 3600, kDay = 86400;

std::string s(std::string_view v) {
  return std::string(v);
}

// One disk as the smart collector publishes it.
struct Disk {
  std::string device, serial, model = "ST4000DM000-1F2168";
  std::string transport = "ata", wwn, rotational = "1";
  bool up = true;
  std::string reason;  // foreshock_disk_up's reason while down
  std::optional<bool> healthy = true;
  std::map<int, double> raw;  // ATA attribute raw values
  std::optional<double> nvme_used, temperature, trip;
  std::vector<std::string> nvme_bits;  // set critical-warning bits
  bool readings = true;                // false: identity and up only (asleep, or gone)

  void publish(MetricSet& m) const {
    Labels id{{"device", device}, {"serial", serial}, {"model", model}};
    Labels info = id;
    info.insert(
        info.end(),
        {{"firmware", "CC54"}, {"wwn", wwn}, {"transport", transport}, {"rotational", rotational}});
    m.info(s(signals::kDiskInfo), "", info);
    Labels u = id;
    if (!up) u.emplace_back("reason", reason);
    m.gauge(s(signals::kDiskUp), "", u, up ? 1 : 0);
    if (!readings) return;
    if (healthy) m.gauge(s(signals::kDiskSmartHealthy), "", id, *healthy ? 1 : 0);
    for (auto [a, v] : raw) {
      Labels l = id;
      l.insert(l.end(), {{"id", std::to_string(a)}, {"name", "attr" + std::to_string(a)}});
      m.gauge(s(signals::kAtaRaw), "", l, v);
    }
    if (nvme_used) {
      m.gauge(s(signals::kNvmePercentageUsed), "", id, *nvme_used);
      m.gauge(s(signals::kNvmeSpare), "", id, 1.0);
      m.gauge(s(signals::kNvmeSpareThreshold), "", id, 0.1);
      m.counter(s(signals::kDiskMediaErrors), "", id, 0);
      for (const char* b : {"available_spare", "temperature", "reliability", "read_only",
                            "volatile_memory_backup"}) {
        Labels l = id;
        l.emplace_back("bit", b);
        bool set = std::find(nvme_bits.begin(), nvme_bits.end(), b) != nvme_bits.end();
        m.gauge(s(signals::kNvmeCriticalWarning), "", l, set ? 1 : 0);
      }
    }
    if (temperature) m.gauge(s(signals::kDiskTemperature), "", id, *temperature);
    if (trip) m.gauge(s(signals::kDiskTemperatureTrip), "", id, *trip);
  }
};

Disk ata(std::string device, std::string serial, std::map<int, double> raw = {{5, 0}, {197, 0}}) {
  Disk d;
  d.device = std::move(device);
  d.serial = std::move(serial);
  d.raw = std::move(raw);
  return d;
}

Disk nvme(std::string device, std::string serial, double used) {
  Disk d;
  d.device = std::move(device);
  d.serial = std::move(serial);
  d.model = "Samsung SSD 980 PRO 1TB";
  d.transport = "nvme";
  d.rotational = "0";
  d.nvme_used = used;
  return d;
}

// A disk that cannot report SMART: smartctl's reason and the transport from sysfs.
Disk noSmart(std::string device, std::string transport, std::string reason,
             std::string model = "") {
  Disk d;
  d.device = std::move(device);
  d.model = std::move(model);
  d.transport = std::move(transport);
  d.up = false;
  d.reason = std::move(reason);
  d.readings = false;
  return d;
}

// A NIC as the netdev collector publishes it: physical errors, carrier changes ("link" class:
// two per flap), and link flaps counted from link events when `flaps` is set.
struct Nic {
  std::string name = "eth0";
  double physical = 0, carrier_changes = 0, packets = 0;
  std::optional<double> flaps;
  void publish(MetricSet& m) const {
    m.info(s(signals::kNetInfo), "", {{"interface", name}, {"permanent_mac", "52:54:00:12:34:56"}});
    auto err = [&](const char* cls, const char* dir, double v) {
      m.counter(s(signals::kNetErrors), "",
                {{"interface", name}, {"class", cls}, {"direction", dir}}, v);
    };
    err("physical", "receive", physical);
    err("host", "receive", 0);
    err("link", "both", carrier_changes);
    m.counter(s(signals::kNetRxPackets), "", {{"interface", name}}, packets);
    if (flaps) m.counter(s(signals::kNetFlaps), "", {{"interface", name}}, *flaps);
    m.gauge(s(signals::kNetCarrier), "", {{"interface", name}}, 1);
  }
};

struct Scrape {
  double t = kT0;
  std::vector<Disk> disks;
  std::vector<Nic> nics;
  Observations observations() const {
    MetricSet m;
    for (const auto& d : disks) d.publish(m);
    for (const auto& n : nics) n.publish(m);
    return observe(m.take(), t);
  }
};

struct Expect {
  std::string component, check;
  std::optional<Severity> severity;  // nullopt: the check must not be reported at all
  std::string summary_has = "";
};

struct VerdictCase {
  std::string name;  // a sentence in CamelCase: the test's name
  std::vector<Scrape> scrapes;
  std::vector<Expect> expect;
  int exit_code;                        // of `foreshock check` on the last scrape
  std::vector<std::string> report_has;  // in its text report
  // (check, status value): a shipped alert must select this check at this value with this
  // severity label.
  std::vector<std::tuple<std::string, int, std::string>> alerts = {};
  std::function<void(HealthOptions&)> configure = nullptr;
  std::function<void(HealthEngine&)> prepare = nullptr;  // e.g. load an old history
  std::size_t disks_in_report = 0;                       // 0: not checked
};

void PrintTo(const VerdictCase& c, std::ostream* os) {
  *os << c.name;
}

HealthOptions optionsFor(const VerdictCase& c) {
  HealthOptions o;
  o.record_interval_seconds = 0;
  if (c.configure) c.configure(o);
  return o;
}

// The alerts of the shipped rules: expression and severity label of each.
struct Alert {
  std::string name, expr, severity;
};
std::vector<Alert> shippedAlerts() {
  std::ifstream in(std::string(FORESHOCK_SOURCE_DIR) + "/packaging/prometheus/foreshock-rules.yml");
  std::vector<Alert> out;
  std::string line;
  static const std::regex alert(R"(^\s*- alert: (\w+))"), expr(R"(^\s*expr: (.*)$)"),
      severity(R"(^\s*severity: (\w+))");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, alert)) out.push_back({m[1], "", ""});
    if (out.empty()) continue;
    if (std::regex_search(line, m, expr) && out.back().expr.empty()) out.back().expr = m[1];
    if (std::regex_search(line, m, severity)) out.back().severity = m[1];
  }
  return out;
}

// Whether the alert's expression selects foreshock_health_status of `check` with value `v`.
bool selects(const Alert& a, const std::string& check, int v) {
  if (a.expr.find("foreshock_health_status") == std::string::npos) return false;
  std::smatch m;
  static const std::regex one(R"(check="([^"]+)\"\})"), many(R"(check=~"([^"]+)\"\})");
  bool names = false;
  if (std::regex_search(a.expr, m, one)) names = m[1] == check;
  if (std::regex_search(a.expr, m, many)) names = std::regex_match(check, std::regex(m[1].str()));
  if (!names) return false;
  static const std::regex cmp(R"(\} (==|>=) (\d))");
  if (!std::regex_search(a.expr, m, cmp)) return false;
  int bound = std::stoi(m[2]);
  return m[1] == "==" ? v == bound : v >= bound;
}

std::string describe(const HealthResult& r) {
  std::string out;
  for (const auto& f : r.findings)
    out += "  " + f.component + " " + f.check + " " + std::string(severityName(f.severity)) + ": " +
           f.summary + "\n";
  return out;
}

class Verdict : public testing::TestWithParam<VerdictCase> {};

TEST_P(Verdict, IsWhatAPersonShouldRead) {
  const VerdictCase& c = GetParam();
  HealthEngine engine(optionsFor(c));
  if (c.prepare) c.prepare(engine);
  HealthResult r;
  for (const auto& sc : c.scrapes) r = engine.process(sc.observations());
  SCOPED_TRACE("findings:\n" + describe(r));
  for (const auto& x : c.expect) {
    const Finding* f = nullptr;
    for (const auto& g : r.findings)
      if (g.component == x.component && g.check == x.check &&
          (f == nullptr || g.severity > f->severity))
        f = &g;
    if (!x.severity) {
      EXPECT_EQ(f, nullptr) << x.component << " " << x.check << " must not be reported";
      continue;
    }
    ASSERT_NE(f, nullptr) << x.component << " " << x.check << " was not reported";
    EXPECT_EQ(severityName(f->severity), severityName(*x.severity))
        << x.component << " " << x.check;
    EXPECT_NE(f->summary.find(x.summary_has), std::string::npos)
        << x.component << " " << x.check << ": \"" << f->summary << "\" lacks \"" << x.summary_has
        << "\"";
  }
  ReportContext ctx;
  ctx.host = "h1";
  std::string text = renderReportText(r, ctx, false);
  SCOPED_TRACE("report:\n" + text);
  EXPECT_EQ(reportExitCode(r, ctx), c.exit_code);
  for (const auto& want : c.report_has) EXPECT_NE(text.find(want), std::string::npos) << want;
  if (c.disks_in_report > 0) {
    std::set<std::string> components;
    for (const auto& f : r.findings)
      if (f.category == "disks") components.insert(f.component);
    EXPECT_EQ(components.size(), c.disks_in_report);
    for (const auto& d : c.scrapes.back().disks)
      EXPECT_NE(text.find("  " + d.device + " ("), std::string::npos) << d.device;
  }
  if (!c.alerts.empty()) {
    MetricSet out;
    HealthEngine::exportMetrics(r, out);
    auto fams = out.take();
    const auto* status = findFamily(fams, "foreshock_health_status");
    ASSERT_NE(status, nullptr);
    auto alerts = shippedAlerts();
    ASSERT_FALSE(alerts.empty());
    for (const auto& [check, value, severity] : c.alerts) {
      bool exported = false;
      for (const auto& m : status->metric)
        exported |= labelValue(m, "check") == check && m.gauge.value == value;
      EXPECT_TRUE(exported) << "foreshock_health_status{check=\"" << check << "\"} " << value;
      std::vector<std::string> paging;
      for (const auto& a : alerts)
        if (selects(a, check, value)) paging.push_back(a.name + "/" + a.severity);
      ASSERT_FALSE(paging.empty()) << "no shipped alert selects " << check << " == " << value;
      for (const auto& p : paging)
        EXPECT_TRUE(p.ends_with("/" + severity)) << p << " for " << check << " == " << value;
    }
  }
}

// A failing disk at sda, then the same disk gone: only its identity and up{reason="gone"}.
std::vector<Scrape> diesThenGone(Disk d) {
  Disk gone = d;
  gone.up = false;
  gone.reason = "gone";
  gone.readings = false;
  return {{kT0, {d}, {}}, {kT0 + 10 * kMin, {gone}, {}}, {kT0 + 2 * kHour, {gone}, {}}};
}

// Old history (written when disks were keyed by serial alone): sda had 0 pending sectors two
// days ago.
void legacyHistory(HealthEngine& e) {
  HistoryStore old;
  old.record("disk", "Z300ZV41", "smart_197_raw", SeriesKind::kCount, kT0 - 2 * kDay, 0);
  old.touch("disk", "Z300ZV41", kT0 - 2 * kDay,
            {{"device", "sda"}, {"model", "ST4000DM000-1F2168"}});
  old.bind("disk", "sda", "Z300ZV41", kT0 - 2 * kDay);
  auto parsed = HistoryStore::parse(old.serialize());
  ASSERT_TRUE(static_cast<bool>(parsed));
  e.replaceHistory(std::move(*parsed));
}

std::vector<Scrape> tenDisksTwoWithoutSmartValues() {
  Scrape sc;
  for (int i = 0; i < 8; ++i)
    sc.disks.push_back(
        ata(std::string("sd") + static_cast<char>('a' + i), "Z" + std::to_string(i)));
  Disk asleep = ata("sdi", "Z8", {});
  asleep.readings = false;  // up, asleep since the agent started: never read
  Disk identity_only = ata("sdj", "Z9", {});
  identity_only.healthy = std::nullopt;  // smartctl --info: identity, no health values
  sc.disks.push_back(asleep);
  sc.disks.push_back(identity_only);
  return {sc};
}

std::vector<Scrape> flaps(std::optional<double> counted_flaps) {
  Nic before;
  before.packets = 1'000'000;
  if (counted_flaps) before.flaps = 0;
  Nic after = before;
  after.packets = 1'000'050;
  after.carrier_changes = 10;  // five times down and up
  if (counted_flaps) after.flaps = *counted_flaps;
  return {{kT0, {}, {before}}, {kT0 + 10 * kMin, {}, {after}}};
}

std::vector<Scrape> sharedSerial() {
  // Three different disks whose firmware reports the same serial; only sdb's pending sectors
  // grow.
  auto three = [](double sdb_pending, double t) {
    Disk a = ata("sda", "REDACTED", {{197, 0}});
    a.model = "ST4000DM000-1F2168";
    Disk b = ata("sdb", "REDACTED", {{197, sdb_pending}});
    b.model = "WDC WD40EFRX-68N32N0";
    Disk c = ata("sdc", "REDACTED", {{197, 0}});
    c.model = "HGST HUS726040ALE610";
    c.wwn = "naa.5000cca24dc1a2b3";
    return Scrape{t, {a, b, c}, {}};
  };
  return {three(0, kT0), three(8, kT0 + kDay), three(8, kT0 + kDay + kHour)};
}

Disk hot(std::string device, double temperature, std::optional<double> trip = std::nullopt,
         std::string rotational = "1") {
  Disk d = ata(std::move(device), "T" + std::to_string(static_cast<int>(temperature)));
  d.temperature = temperature;
  d.trip = trip;
  d.rotational = std::move(rotational);
  return d;
}

const Severity kOk = Severity::kOk, kInfo = Severity::kInfo, kWarn = Severity::kWarning,
               kCrit = Severity::kCritical;

const VerdictCase kCases[] = {
    {"VirtioDiskWithoutSmartIsNoSmartNotAWarningAndStaysOutOfTheVerdict",
     {{kT0, {noSmart("vda", "virtio", "unknown_device_type"), ata("sda", "Z1")}, {}}},
     {{"disk/vda", "smart_available", kInfo, "no SMART (virtual disk)"},
      {"disk/vda", "smart_readable", std::nullopt}},
     0,
     {"foreshock check on h1: OK", "INFO      vda: no SMART (virtual disk)"}},
    {"XenDiskWithoutSmartIsAVirtualDiskWhateverSmartctlSaid",
     {{kT0, {noSmart("xvda", "unknown", "open_failed")}, {}}},
     {{"disk/xvda", "smart_available", kInfo, "no SMART (virtual disk)"},
      {"disk/xvda", "smart_readable", std::nullopt}},
     0,
     {"foreshock check on h1: OK"}},
    {"CloudVolumeThatSaysItHasNoSmartIsNotAWarning",
     {{kT0, {noSmart("sdb", "scsi", "not_smart_capable", "Virtual Disk")}, {}}},
     {{"disk/sdb", "smart_available", kInfo, "no SMART: the device does not support it"}},
     0,
     {"foreshock check on h1: OK"}},
    {"PhysicalDiskThatStopsAnsweringSmartIsStillAWarning",
     {{kT0, {noSmart("sdc", "ata", "open_failed", "ST4000DM000-1F2168")}, {}}},
     {{"disk/sdc", "smart_readable", kWarn, "(open_failed)"},
      {"disk/sdc", "smart_available", std::nullopt}},
     1,
     {"WARNING   sdc"},
     {{"smart_readable", 1, "warning"}}},
    {"FiveFlapsWithoutCrcErrorsAreFlapsNotPhysicalLayerErrors",
     flaps(5),
     {{"interface/eth0", "physical_errors", kOk},
      {"interface/eth0", "link_flapping", kWarn, "5 link flaps in the last hour"}},
     1,
     {"link_flapping: 5 link flaps"},
     {{"link_flapping", 1, "warning"}}},
    {"FlapsSeenOnlyAsCarrierChangesAreCountedAsFlaps",
     flaps(std::nullopt),
     {{"interface/eth0", "physical_errors", kOk},
      {"interface/eth0", "link_flapping", kWarn, "5 link flaps in the last hour"}},
     1,
     {}},
    {"NvmePastItsRatedEnduranceIsCriticalAndAShippedAlertPagesOnIt",
     {{kT0, {nvme("nvme0n1", "S4EWNX0R", 2.0)}, {}}},
     {{"disk/nvme0n1", "nvme_wear", kCrit, "200% of its rated endurance used"}},
     2,
     {"CRITICAL  nvme0n1"},
     {{"nvme_wear", 2, "critical"}}},
    {"ThreeDisksSharingASerialKeepThreeHistories",
     sharedSerial(),
     {{"disk/sda", "pending_sectors", kOk},
      {"disk/sdb", "pending_sectors", kCrit, "grew by 8 in 7 days"},
      {"disk/sdc", "pending_sectors", kOk},
      {"disk/sda", "device_replaced", std::nullopt},
      {"disk/sdb", "device_replaced", std::nullopt},
      {"disk/sdc", "device_replaced", std::nullopt}},
     2,
     {}},
    {"HistoryKeyedBySerialAloneIsCarriedOverWithoutASwapNotice",
     {{kT0, {ata("sda", "Z300ZV41", {{197, 8}})}, {}}},
     {{"disk/sda", "pending_sectors", kCrit, "grew by 8 in 7 days"},
      {"disk/sda", "device_replaced", std::nullopt}},
     2,
     {},
     {},
     nullptr,
     legacyHistory},
    {"DiskThatDiesKeepsItsCriticalVerdictWhileItIsGone",
     diesThenGone([] {
       Disk d = ata("sda", "Z1", {{5, 40}, {197, 8}});
       d.healthy = false;
       return d;
     }()),
     {{"disk/sda", "disk_present", kCrit, "disappeared"},
      {"disk/sda", "smart_status", kCrit, "before it disappeared"},
      {"disk/sda", "smart_readable", std::nullopt}},
     2,
     {"CRITICAL  sda"},
     {{"smart_status", 2, "critical"}, {"disk_present", 2, "warning"}}},
    {"HealthyDiskThatDisappearsIsAWarning",
     diesThenGone(ata("sda", "Z1")),
     {{"disk/sda", "disk_present", kWarn, "disappeared"}},
     1,
     {"WARNING   sda"},
     {{"disk_present", 1, "warning"}}},
    {"DisksThatAreUpWithoutSmartValuesAreInTheReport",
     tenDisksTwoWithoutSmartValues(),
     {{"disk/sdi", "smart_data", kInfo, "no SMART values read yet"},
      {"disk/sdj", "smart_data", kInfo, "no SMART values read yet"}},
     0,
     {"foreshock check on h1: OK"},
     {},
     nullptr,
     nullptr,
     10},
    {"HotSpinningDiskWarnsAboveTheDefaultLimit",
     {{kT0, {hot("sda", 57)}, {}}},
     {{"disk/sda", "disk_temperature", kWarn, "57 C is at or above the warning limit 55 C"}},
     1,
     {},
     {{"disk_temperature", 1, "warning"}}},
    {"SpinningDiskAtTheDefaultCriticalLimitIsCritical",
     {{kT0, {hot("sda", 61)}, {}}},
     {{"disk/sda", "disk_temperature", kCrit, "61 C is at or above the default disk limit 60 C"}},
     2,
     {},
     {{"disk_temperature", 2, "critical"}}},
    {"DriveTripTemperatureWinsOverTheDefaults",
     {{kT0, {hot("sda", 61, 68), hot("sdb", 64, 68), hot("sdc", 68, 68)}, {}}},
     {{"disk/sda", "disk_temperature", kOk},
      {"disk/sdb", "disk_temperature", kWarn, "the drive's trip temperature is 68 C"},
      {"disk/sdc", "disk_temperature", kCrit, "at or above the drive's trip temperature 68 C"}},
     2,
     {}},
    {"SsdAt65IsWithinItsLimits",
     {{kT0, {hot("sda", 65, std::nullopt, "0")}, {}}},
     {{"disk/sda", "disk_temperature", kOk}},
     0,
     {}},
    {"ConfiguredDiskTemperatureLimitsAreUsed",
     {{kT0, {hot("sda", 45)}, {}}},
     {{"disk/sda", "disk_temperature", kCrit, "45 C is at or above the default disk limit 44 C"}},
     2,
     {},
     {},
     [](HealthOptions& o) {
       o.disk_temperature_warning = 40;
       o.disk_temperature_critical = 44;
     }},
    {"NvmeTemperatureWarningBitRaisesAFinding",
     {{kT0,
       {[] {
         Disk d = nvme("nvme0n1", "S4EWNX0R", 0.1);
         d.nvme_bits = {"temperature"};
         d.temperature = 52;
         return d;
       }()},
       {}}},
     {{"disk/nvme0n1", "disk_temperature", kWarn, "NVMe critical warning: temperature"},
      {"disk/nvme0n1", "nvme_critical_warning", kOk}},
     1,
     {},
     {{"disk_temperature", 1, "warning"}}},
    {"CriticalRiskScorePagesAtCriticalSeverity",
     {{kT0, {ata("sda", "Z1", {{5, 0}, {187, 0}, {188, 0}, {197, 0}, {198, 0}})}, {}}},
     {{"disk/sda", "failure_risk", kCrit, "very high risk"}},
     2,
     {},
     {{"failure_risk", 2, "critical"}},
     // Any score is at or above a zero operating point: this row is about how the critical
     // level maps to the finding and the alert, not about the model.
     [](HealthOptions& o) { o.risk_warning = o.risk_critical = 0; }},
};

INSTANTIATE_TEST_SUITE_P(Issue12, Verdict, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<VerdictCase>& i) { return i.param.name; });

}  // namespace
}  // namespace foreshock
