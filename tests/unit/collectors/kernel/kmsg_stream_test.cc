#include "collectors/kernel/kmsg_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace foreshock {
namespace {

std::vector<std::string> feedAll(KmsgStream& s, const std::vector<std::string>& chunks) {
  std::vector<std::string> out;
  for (const auto& c : chunks) s.feed(c, [&](std::string_view r) { out.emplace_back(r); });
  return out;
}

TEST(KmsgStream, EmitsOneRecordPerReadLikeDevKmsg) {
  KmsgStream s;
  auto out = feedAll(s, {"6,1,10,-;first\n", "3,2,11,-;second\n SUBSYSTEM=nvme\n DEVICE=c242:0\n"});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], "6,1,10,-;first\n");
  EXPECT_EQ(out[1], "3,2,11,-;second\n SUBSYSTEM=nvme\n DEVICE=c242:0\n");
}

TEST(KmsgStream, SplitsSeveralRecordsAndJoinsHalvesFromAFifo) {
  KmsgStream s;
  auto out = feedAll(s, {"6,1,10,-;one\n SUBSYSTEM=block\n6,2,1", "1,-;two\n6,3,12,-;thr", "ee\n"});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "6,1,10,-;one\n SUBSYSTEM=block\n");
  EXPECT_EQ(out[1], "6,2,11,-;two\n");
  EXPECT_EQ(out[2], "6,3,12,-;three\n");
}

TEST(KmsgStream, CutsLinesLongerThanTheBound) {
  KmsgStream s(64);
  auto out = feedAll(s, {"6,1,10,-;" + std::string(1000, 'x') + "\n"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_LE(out[0].size(), 64u);
}

KmsgRecord rec(std::uint64_t seq, std::string_view msg, int facility = 0) {
  KmsgRecord r;
  r.seq = seq;
  r.facility = facility;
  r.level = 3;
  r.message = msg;
  return r;
}

TEST(KernelEventTally, CountsEventsPerClassAndDevice) {
  KernelEventTally t;
  t.addRecord(rec(1, "I/O error, dev sda, sector 1"));
  t.addRecord(rec(2, "I/O error, dev sda, sector 2"));
  t.addRecord(rec(3, "I/O error, dev sdb, sector 2"));
  t.addRecord(rec(4, "EDAC MC0: 2 CE memory read error on DIMM_A1 (x)"));
  t.addRecord(rec(5, "random: crng init done"));
  t.addRecord(rec(6, "I/O error, dev sdc, sector 2", /*facility=*/1));
  using K = KernelEventTally::Key;
  EXPECT_EQ(t.counts().at(K{KernelEventClass::kBlockIoError, "sda", ""}), 2u);
  EXPECT_EQ(t.counts().at(K{KernelEventClass::kBlockIoError, "sdb", ""}), 1u);
  EXPECT_EQ(t.counts().at(K{KernelEventClass::kEdac, "mc0", "corrected"}), 2u);
  EXPECT_EQ(t.counts().count(K{KernelEventClass::kBlockIoError, "sdc", ""}), 0u);
  EXPECT_EQ(t.records(), 6u);
  EXPECT_EQ(t.kernelRecords(), 5u);
  EXPECT_EQ(t.lost(), 0u);
}

TEST(KernelEventTally, CountsSequenceGapsAsLostRecords) {
  KernelEventTally t;
  t.addRecord(rec(100, "a"));
  t.addRecord(rec(101, "b"));
  t.addRecord(rec(150, "c"));  // 48 records overwritten before they were read
  t.addRecord(rec(151, "d"));
  EXPECT_EQ(t.lost(), 48u);
}

TEST(KernelEventTally, CapsDistinctDevicesPerClass) {
  KernelEventTally t(2);
  for (int i = 0; i < 10; ++i) {
    KernelEvent e;
    e.cls = KernelEventClass::kBlockIoError;
    e.device = "sd" + std::string(1, static_cast<char>('a' + i));
    t.addEvent(e);
  }
  using K = KernelEventTally::Key;
  EXPECT_EQ(t.counts().size(), 3u);
  EXPECT_EQ(t.counts().at(K{KernelEventClass::kBlockIoError, "_other", ""}), 8u);
  // Another class has its own budget.
  KernelEvent n;
  n.cls = KernelEventClass::kNvmeReset;
  n.device = "nvme0";
  t.addEvent(n);
  EXPECT_EQ(t.counts().at(K{KernelEventClass::kNvmeReset, "nvme0", ""}), 1u);
}

TEST(KernelEventTally, SeedsKnownDevicesAtZeroWithoutResettingCounts) {
  KernelEventTally t;
  t.addRecord(rec(1, "I/O error, dev sda, sector 1"));
  t.seed(KernelEventClass::kBlockIoError, "sda");
  t.seed(KernelEventClass::kBlockIoError, "sdb");
  using K = KernelEventTally::Key;
  EXPECT_EQ(t.counts().at(K{KernelEventClass::kBlockIoError, "sda", ""}), 1u);
  EXPECT_EQ(t.counts().at(K{KernelEventClass::kBlockIoError, "sdb", ""}), 0u);
}

}  // namespace
}  // namespace foreshock
