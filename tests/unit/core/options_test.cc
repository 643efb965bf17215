#include "core/options.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/file_util.h"
#include "core/metric_set.h"

namespace foreshock {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsPrometheusStyleUnits) {
  EXPECT_EQ(parseDuration("500ms"), Duration(500));
  EXPECT_EQ(parseDuration("30s"), Duration(30'000));
  EXPECT_EQ(parseDuration("5m"), Duration(300'000));
  EXPECT_EQ(parseDuration("1h30m"), Duration(5'400'000));
  EXPECT_EQ(parseDuration("2d"), Duration(172'800'000));
  EXPECT_EQ(parseDuration("0"), Duration(0));
}

TEST(ParseDuration, RejectsMissingOrUnknownUnits) {
  EXPECT_FALSE(parseDuration("30"));
  EXPECT_FALSE(parseDuration("5 m"));
  EXPECT_FALSE(parseDuration("fast"));
  EXPECT_FALSE(parseDuration("-5s"));
  EXPECT_FALSE(parseDuration(""));
  EXPECT_FALSE(parseDuration("3y"));
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (Duration d : {Duration(1), Duration(1500), Duration(60'000), Duration(5'400'000)}) {
    EXPECT_EQ(parseDuration(formatDuration(d)), d) << formatDuration(d);
  }
  EXPECT_EQ(formatDuration(Duration(90'000)), "1m30s");
}

TEST(DefaultsFor, FillsEveryKeyThatHasADefault) {
  std::vector<OptionSpec> schema = {opt::boolean("a", true, ""),
                                    opt::optional(opt::string("b", "", "")),
                                    opt::duration("c", 5s, 1s, 1h, "")};
  auto sec = defaultsFor(schema, "x");
  EXPECT_TRUE(sec.getBool("a"));
  EXPECT_FALSE(sec.has("b"));
  EXPECT_EQ(sec.getDuration("c"), Duration(5000));
  EXPECT_THROW((void)sec.getString("a"), std::logic_error);
}

TEST(MetricSet, SortsFamiliesAndDropsEmptyDeclarations) {
  MetricSet s;
  s.gauge("z_metric", "z", {{"a", "1"}}, 2);
  s.counter("a_total", "a", {}, 3);
  s.declare("m_empty", "m", prometheus::MetricType::Gauge);
  auto fams = s.take();
  ASSERT_EQ(fams.size(), 2u);
  EXPECT_EQ(fams[0].name, "a_total");
  EXPECT_EQ(fams[1].name, "z_metric");
  EXPECT_EQ(sampleValue(fams[1], fams[1].metric[0]), 2);
}

TEST(MetricSet, ReportsAFamilyAddedWithTwoTypes) {
  MetricSet s;
  s.gauge("x", "x", {}, 1);
  s.counter("x", "x", {}, 1);
  ASSERT_EQ(s.conflicts().size(), 1u);
  EXPECT_EQ(s.conflicts()[0], "x registered as gauge and as counter");
}

TEST(MetricSet, HistogramEndsWithInfBucketHoldingTheCount) {
  MetricSet s;
  s.histogram("h_seconds", "h", {}, HistogramData{{0.1, 1}, {2, 5}, 7, 3.5});
  auto fams = s.take();
  const auto& h = fams[0].metric[0].histogram;
  ASSERT_EQ(h.bucket.size(), 3u);
  EXPECT_EQ(h.bucket[2].cumulative_count, 7u);
  EXPECT_TRUE(std::isinf(h.bucket[2].upper_bound));
}

TEST(FileUtil, ReadErrorNamesThePath) {
  auto r = readFileBounded("/nonexistent/foreshock/file");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "/nonexistent/foreshock/file: No such file or directory");
}

TEST(FileUtil, AtomicWriteReplacesContentWithoutLeavingTempFiles) {
  auto dir = std::filesystem::temp_directory_path() / "foreshock-atomic-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(writeFileAtomic(dir / "f", "one").ok());
  ASSERT_TRUE(writeFileAtomic(dir / "f", "two").ok());
  EXPECT_EQ(*readFileBounded(dir / "f"), "two");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  std::filesystem::remove_all(dir);
}

TEST(FileUtil, ParsersRejectTrailingGarbage) {
  EXPECT_EQ(parseInt(" 42\n"), 42);
  EXPECT_FALSE(parseInt("42x"));
  EXPECT_FALSE(parseUint("-1"));
  EXPECT_EQ(parseDouble("1.5"), 1.5);
  EXPECT_FALSE(parseDouble("1.5.2"));
}

}  // namespace
}  // namespace foreshock

namespace foreshock {
namespace {
// Found by fuzzing: a NUL byte used to stop the scanner without advancing it.
TEST(FileUtil, SplitWhitespaceTreatsNulAsAWordCharacter) {
  std::string s("a\0b c", 5);
  auto parts = splitWhitespace(s);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], std::string_view("a\0b", 3));
  EXPECT_EQ(parts[1], "c");
}
}  // namespace
}  // namespace foreshock
