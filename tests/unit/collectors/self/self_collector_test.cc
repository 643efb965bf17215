#include "collectors/self/self_collector.h"

#include <gtest/gtest.h>

namespace foreshock {
namespace {

// A real /proc/<pid>/stat line of a process whose name contains a space and a ')'.
constexpr const char* kStat =
    "4242 (fore shock)) S 1 4242 4242 0 -1 4194560 1209 0 0 0 25 13 0 0 20 0 3 0 1234567 "
    "91234304 1802 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcStatParser, ReadsFieldsAfterTheLastParenthesis) {
  auto s = parseProcStat(kStat);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->utime_ticks, 25u);
  EXPECT_EQ(s->stime_ticks, 13u);
  EXPECT_EQ(s->num_threads, 3);
  EXPECT_EQ(s->starttime_ticks, 1234567u);
  EXPECT_EQ(s->vsize_bytes, 91234304u);
  EXPECT_EQ(s->rss_pages, 1802);
}

TEST(ProcStatParser, RejectsATruncatedLine) {
  auto s = parseProcStat("4242 (foreshock) S 1 4242");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "stat: expected at least 24 fields, got 5");
}

TEST(ProcStatParser, RejectsALineWithoutCommand) {
  EXPECT_FALSE(parseProcStat("garbage").ok());
}

TEST(BootTimeParser, FindsTheBtimeLine) {
  auto b = parseBootTime("cpu 1 2 3\nbtime 1700000000\nprocesses 5\n");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, 1700000000u);
  EXPECT_FALSE(parseBootTime("cpu 1 2 3\n").ok());
}

TEST(LimitsParser, ReadsTheSoftOpenFilesLimitOrUnlimited) {
  auto l = parseMaxOpenFiles(
      "Limit                     Soft Limit           Hard Limit           Units\n"
      "Max open files            1024                 524288               files\n");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(**l, 1024u);
  auto u = parseMaxOpenFiles(
      "Max open files            unlimited            unlimited            files\n");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->has_value());
}

TEST(SelfCollector, ExportsProcessSeriesFromTheProcfsRoot) {
  CollectorContext ctx;
  ctx.paths.procfs = std::string(FORESHOCK_SOURCE_DIR) + "/tests/fixtures/golden/proc";
  auto c = selfCollectorInfo().factory(ctx);
  ASSERT_TRUE(c.ok());
  MetricSet out;
  ASSERT_TRUE((*c)->collect(out).ok());
  auto fams = out.take();
  auto* fds = findFamily(fams, "process_open_fds");
  ASSERT_NE(fds, nullptr);
  EXPECT_EQ(fds->metric[0].gauge.value, 3);
  auto* max = findFamily(fams, "process_max_fds");
  ASSERT_NE(max, nullptr);
  EXPECT_EQ(max->metric[0].gauge.value, 1024);
  ASSERT_NE(findFamily(fams, "process_start_time_seconds"), nullptr);
}

TEST(SelfCollector, FailsWithThePathWhenStatIsMissing) {
  CollectorContext ctx;
  ctx.paths.procfs = "/nonexistent-procfs";
  auto c = selfCollectorInfo().factory(ctx);
  MetricSet out;
  auto st = (*c)->collect(out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "/nonexistent-procfs/self/stat: No such file or directory");
}

}  // namespace
}  // namespace foreshock
