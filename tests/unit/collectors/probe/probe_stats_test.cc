#include "collectors/probe/probe_stats.h"

#include <gtest/gtest.h>

namespace foreshock {
namespace {

constexpr std::int64_t kS = 1'000'000'000;
constexpr std::int64_t kT0 = 1'700'000'000 * kS;

TEST(ProbeStats, MatchedReplyRecordsRttInTheHistogram) {
  TargetStats s;
  s.sent(0, kT0, kT0 + 2 * kS);
  EXPECT_EQ(s.reply(0, kT0 + 3'000'000), TargetStats::ReplyKind::kMatched);  // 3 ms
  EXPECT_EQ(s.sentTotal(), 1u);
  EXPECT_EQ(s.receivedTotal(), 1u);
  EXPECT_TRUE(s.up());
  EXPECT_DOUBLE_EQ(*s.lastRtt(), 0.003);
  const auto& h = s.rtt();
  EXPECT_EQ(h.count, 1u);
  // 3 ms lies in the 5 ms bucket, not the 2.5 ms one.
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    EXPECT_EQ(h.cumulative[i], h.bounds[i] >= 0.003 ? 1u : 0u) << h.bounds[i];
  }
}

TEST(ProbeStats, CountsDuplicateAndLateReplies) {
  TargetStats s;
  s.sent(0, kT0, kT0 + kS);
  s.reply(0, kT0 + 1000);
  EXPECT_EQ(s.reply(0, kT0 + 2000), TargetStats::ReplyKind::kDuplicate);
  s.sent(1, kT0 + kS, kT0 + 2 * kS);
  EXPECT_EQ(s.expire(kT0 + 2 * kS), 1);
  EXPECT_EQ(s.reply(1, kT0 + 3 * kS), TargetStats::ReplyKind::kLate);
  EXPECT_EQ(s.duplicatesTotal(), 1u);
  EXPECT_EQ(s.lateTotal(), 1u);
  EXPECT_EQ(s.receivedTotal(), 1u);
  EXPECT_EQ(s.lostTotal(), 1u);
}

TEST(ProbeStats, GoesDownAfterThreeLostProbesAndRecoversOnTheNextReply) {
  TargetStats s;
  std::uint32_t seq = 0;
  s.sent(seq, kT0, kT0 + kS);
  s.reply(seq++, kT0 + 100);
  for (int i = 1; i <= 3; ++i) {
    s.sent(seq++, kT0 + i * kS, kT0 + (i + 1) * kS);
    s.expire(kT0 + (i + 1) * kS);
    EXPECT_EQ(s.up(), i < 3) << i;
  }
  EXPECT_EQ(s.reason(), "timeout");
  s.sent(seq, kT0 + 5 * kS, kT0 + 6 * kS);
  s.reply(seq, kT0 + 5 * kS + 100);
  EXPECT_TRUE(s.up());
  EXPECT_EQ(s.reason(), "");
}

TEST(ProbeStats, IcmpErrorLosesTheProbeAtOnceWithItsReason) {
  TargetStats st;
  for (std::uint32_t seq = 0; seq < 3; ++seq) {
    const std::int64_t t = kT0 + seq * kS;
    st.sent(seq, t, t + kS);
    EXPECT_TRUE(st.icmpError(seq, t + kS / 100, "host_unreachable"));
  }
  EXPECT_EQ(st.lostTotal(), 3u);
  EXPECT_EQ(st.outstanding(), 0u) << "nothing left for the deadline to expire";
  EXPECT_FALSE(st.up());
  EXPECT_EQ(st.reason(), "host_unreachable");
  EXPECT_EQ(st.icmpErrors().at("host_unreachable"), 3u);
  // An error for a probe that already timed out is counted, not lost twice.
  st.sent(3, kT0 + 3 * kS, kT0 + 4 * kS);
  st.expireSeq(3, kT0 + 4 * kS);
  EXPECT_FALSE(st.icmpError(3, kT0 + 5 * kS, "admin_prohibited"));
  EXPECT_EQ(st.lostTotal(), 4u);
  EXPECT_EQ(st.icmpErrors().at("admin_prohibited"), 1u);
  // A reply brings it back up.
  st.sent(4, kT0 + 6 * kS, kT0 + 7 * kS);
  st.reply(4, kT0 + 6 * kS + kS / 1000);
  EXPECT_TRUE(st.up());
}

TEST(ProbeStats, OutstandingSeq16FindsTheProbeFromTheSixteenBitsOnTheWire) {
  TargetStats st;
  st.sent(65536 + 7, kT0, kT0 + kS);
  st.sent(65536 + 8, kT0 + kS, kT0 + 2 * kS);
  EXPECT_EQ(st.outstandingSeq16(7), 65536u + 7);
  EXPECT_EQ(st.outstandingSeq16(8), 65536u + 8);
  EXPECT_FALSE(st.outstandingSeq16(9).has_value());
  st.reply(65536 + 7, kT0 + kS / 10);
  EXPECT_FALSE(st.outstandingSeq16(7).has_value()) << "answered probes are not outstanding";
}

TEST(ProbeStats, LossRatioCoversOnlyTheWindow) {
  TargetStats s;
  // 100 s: every 4th probe lost (25 %), then 60 s of perfect replies.
  std::uint32_t seq = 0;
  for (int i = 0; i < 160; ++i) {
    const std::int64_t t = kT0 + i * kS;
    s.sent(seq, t, t + kS / 2);
    if (i < 100 && i % 4 == 0) {
      s.expire(t + kS / 2);
    } else {
      s.reply(seq, t + 1000);
    }
    ++seq;
  }
  const std::int64_t now = kT0 + 160 * kS;
  EXPECT_DOUBLE_EQ(*s.lossRatio(now, 60), 0.0);
  EXPECT_NEAR(*s.lossRatio(now, 300), 25.0 / 160.0, 1e-9);
  EXPECT_FALSE(TargetStats().lossRatio(now, 60).has_value());
}

TEST(ProbeStats, ArpRepliesAnswerTheNewestOutstandingProbe) {
  TargetStats s;
  s.sent(0, kT0, kT0 + kS);
  EXPECT_EQ(s.replyToNewest(kT0 + 500'000), TargetStats::ReplyKind::kMatched);
  EXPECT_EQ(s.replyToNewest(kT0 + 600'000), TargetStats::ReplyKind::kDuplicate);
  EXPECT_DOUBLE_EQ(*s.lastRtt(), 0.0005);
}

TEST(TcpSynSignature, ConnectsJustAfterRetransmissionInstantsCountLostSyns) {
  EXPECT_EQ(synRetransmissionsFor(0.002), 0);
  EXPECT_EQ(synRetransmissionsFor(0.6), 0);
  EXPECT_EQ(synRetransmissionsFor(1.004), 1);
  EXPECT_EQ(synRetransmissionsFor(1.8), 0);  // a slow server, not a lost SYN
  EXPECT_EQ(synRetransmissionsFor(3.01), 2);
  EXPECT_EQ(synRetransmissionsFor(7.2), 3);
}

TEST(ProbeStats, TcpRetransmissionsCountAsLostHandshakePackets) {
  TargetStats s;
  s.tcpResult(kT0, true, 1.004, 2, 1, "");
  s.tcpResult(kT0, true, 0.001, 1, 0, "");
  EXPECT_EQ(s.synRetransmitsTotal(), 1u);
  EXPECT_NEAR(*s.lossRatio(kT0 + 1, 60), 1.0 / 3.0, 1e-9);
  s.tcpResult(kT0, false, 0.001, 1, 0, "ECONNREFUSED");
  EXPECT_FALSE(s.up());
  EXPECT_EQ(s.reason(), "econnrefused");
  EXPECT_EQ(s.failuresByErrno().at("ECONNREFUSED"), 1u);
}

}  // namespace
}  // namespace foreshock

namespace foreshock {
namespace {

TEST(LostSynsBefore, CountsTheSynsSentBeforeTheAnsweredOne) {
  // First SYN dropped, the retransmission at 1 s answered after 1 ms.
  EXPECT_EQ(lostSynsBefore(1.003 - 0.001, 1), 1);
  // Two SYNs lost, the one at 3 s answered.
  EXPECT_EQ(lostSynsBefore(3.02 - 0.01, 2), 2);
}

TEST(LostSynsBefore, AFarPeerIsNotLoss) {
  // A 14 s round trip: the kernel resent the SYN at 1, 3 and 7 s, but the first one was
  // answered (connect 14.0 s, RTT 14.0 s): nothing was lost.
  EXPECT_EQ(lostSynsBefore(14.002 - 14.0, 3), 0);
  // A 1.2 s round trip: one spurious retransmission at 1 s, not a loss.
  EXPECT_EQ(lostSynsBefore(1.2 - 1.2, 1), 0);
}

TEST(LostSynsBefore, NeverCountsMoreThanTheKernelRetransmitted) {
  EXPECT_EQ(lostSynsBefore(20.0, 2), 2);
  EXPECT_EQ(lostSynsBefore(20.0, 0), 0);
}

}  // namespace
}  // namespace foreshock
