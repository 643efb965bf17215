#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/metric_set.h"
#include "exporters/prometheus/exposition.h"
#include "exporters/prometheus/exposition_parse.h"
#include "exporters/report/report.h"
#include "health/engine.h"

namespace foreshock {
namespace {

HealthResult failingDisk() {
  HealthResult r;
  Finding ok;
  ok.category = "disks";
  ok.component = "disk/sda";
  ok.subject = "sda (ST4000DM000, serial Z1)";
  ok.check = "smart_status";
  ok.summary = "SMART health assessment passed";
  r.findings.push_back(ok);
  Finding bad = ok;
  bad.check = "pending_sectors";
  bad.severity = Severity::kCritical;
  bad.summary = "pending sectors (SMART 197) grew by 16 in 7 days (now 24)";
  bad.evidence = {{"smart_197_raw", 24}, {"increase_7d", 16}};
  bad.action = "Back up the data on this disk now and replace it.";
  r.findings.push_back(bad);
  r.risks.push_back({"sda", "Z1", "ST4000DM000", 0.97});
  return r;
}

TEST(HealthReport, TextGroupsByCategoryAndShowsEvidenceAndAction) {
  auto text = renderReportText(failingDisk(), {}, false);
  EXPECT_NE(text.find(": CRITICAL"), std::string::npos);
  EXPECT_NE(text.find("\nDisks\n"), std::string::npos);
  EXPECT_NE(text.find("\nUpstream\n"), std::string::npos);
  EXPECT_NE(text.find("CRITICAL  sda (ST4000DM000, serial Z1): pending sectors"), std::string::npos)
      << text;
  EXPECT_NE(text.find("evidence: smart_197_raw=24, increase_7d=16"), std::string::npos) << text;
  EXPECT_NE(text.find("action: Back up"), std::string::npos);
  EXPECT_EQ(text.find("\033["), std::string::npos);
  EXPECT_NE(renderReportText(failingDisk(), {}, true).find("\033[1;31m"), std::string::npos);
}

TEST(HealthReport, ExitCodesFollowTheNagiosConvention) {
  ReportContext ctx;
  EXPECT_EQ(reportExitCode(failingDisk(), ctx), 2);
  HealthResult warn = failingDisk();
  warn.findings[1].severity = Severity::kWarning;
  EXPECT_EQ(reportExitCode(warn, ctx), 1);
  HealthResult ok = failingDisk();
  ok.findings.pop_back();
  EXPECT_EQ(reportExitCode(ok, ctx), 0);
  EXPECT_EQ(reportExitCode(HealthResult{}, ctx), 3);
  ctx.collector_errors.push_back("smart: /dev/sda: permission denied");
  EXPECT_EQ(reportExitCode(ok, ctx), 3);
}

TEST(HealthReport, JsonEscapesAndCarriesEveryCheck) {
  HealthResult r = failingDisk();
  r.findings[1].summary = "quote \" and backslash \\ and\nnewline";
  auto json = renderReportJson(r, {});
  EXPECT_NE(json.find("\"exit_code\":2"), std::string::npos);
  EXPECT_NE(json.find("quote \\\" and backslash \\\\ and\\nnewline"), std::string::npos) << json;
  EXPECT_NE(json.find("\"increase_7d\":16"), std::string::npos);
}

// The exported health series must be valid exposition (promtool check metrics).
TEST(HealthExposition, ExportedHealthSeriesPassPromtool) {
  MetricSet set;
  HealthEngine::exportMetrics(failingDisk(), set);
  auto text = renderText(set.take());
  auto path =
      std::string("/tmp/foreshock-health-exposition-") + std::to_string(::getpid()) + ".prom";
  std::ofstream(path) << text;
  std::string cmd = "promtool check metrics < " + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  std::string out;
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  int rc = ::pclose(p);
  std::remove(path.c_str());
  ASSERT_NE(WEXITSTATUS(rc), 127) << "promtool is not installed (scripts/install-deps.sh test)";
  EXPECT_EQ(rc, 0) << out << text;
  EXPECT_NE(
      text.find("foreshock_health_status{component=\"disk/sda\",check=\"pending_sectors\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("foreshock_disk_failure_risk"), std::string::npos);
}

TEST(ExpositionParse, ReadsLabelsEscapesTypesAndTimestamps) {
  auto r = parseExposition(
      "# HELP x_total help\n# TYPE x_total counter\nx_total{a=\"q\\\"uote\",b=\"\"} 3 "
      "1700000000000\n"
      "y 2.5\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->families.size(), 2u);
  EXPECT_EQ(r->families[0].type, prometheus::MetricType::Counter);
  EXPECT_EQ(r->families[0].metric[0].counter.value, 3);
  EXPECT_EQ(labelValue(r->families[0].metric[0], "a"), "q\"uote");
  EXPECT_EQ(r->max_timestamp_seconds, 1700000000);
  EXPECT_EQ(r->families[1].metric[0].untyped.value, 2.5);
}

TEST(ExpositionParse, NamesTheLineOfAMalformedSample) {
  auto r = parseExposition("ok 1\nbad{a=\"x} 1\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("line 2"), std::string::npos) << r.error().message;
  EXPECT_FALSE(parseExposition("m notanumber\n").ok());
}

}  // namespace
}  // namespace foreshock
