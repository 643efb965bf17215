#include "collectors/probe/probe_stats.h"

#include <algorithm>
#include <cmath>

namespace foreshock {

const std::vector<double>& probeRttBuckets() {
  static const std::vector<double> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                               0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                               0.5,     1,      2.5,     5,      10,    30};
  return kBuckets;
}

int synRetransmissionsFor(double seconds, double initial_rto, double tolerance) {
  // Instants at which the k-th retransmission leaves: rto * (2^k - 1).
  for (int k = 1; k <= 6; ++k) {
    const double at = initial_rto * (std::pow(2.0, k) - 1.0);
    if (seconds >= at && seconds < at + tolerance) return k;
    if (seconds < at) break;
  }
  return 0;
}

int lostSynsBefore(double answered_at, unsigned retransmitted, double initial_rto,
                   double tolerance) {
  int lost = 0;
  for (unsigned k = 1; k <= retransmitted && k <= 16; ++k) {
    const double sent_at = initial_rto * (std::pow(2.0, static_cast<double>(k)) - 1.0);
    if (sent_at > answered_at + tolerance) break;
    lost = static_cast<int>(k);  // the k-th retransmission left before the answered SYN
  }
  return lost;
}

namespace {
void initHistogram(HistogramData& h) {
  if (h.bounds.empty()) {
    h.bounds = probeRttBuckets();
    h.cumulative.assign(h.bounds.size(), 0);
  }
}
constexpr std::int64_t kNs = 1'000'000'000;
}  // namespace

void TargetStats::observe(HistogramData& h, double v) {
  initHistogram(h);
  for (std::size_t i = 0; i < h.bounds.size(); ++i)
    if (v <= h.bounds[i]) ++h.cumulative[i];
  ++h.count;
  h.sum += v;
}

void TargetStats::record(std::int64_t now_ns, std::uint32_t packets, std::uint32_t lost) {
  const std::int64_t sec = now_ns / kNs;
  auto& b = window_[static_cast<std::size_t>(sec % kWindowSeconds)];
  if (b.second != sec) b = Bucket{sec, 0, 0};
  b.packets += packets;
  b.lost += lost;
}

void TargetStats::success(std::int64_t rx_ns, double rtt) {
  ++received_;
  record(rx_ns, 1, 0);
  if (rtt >= 0) {
    observe(rtt_, rtt);
    last_rtt_ = rtt;
  }
  consecutive_lost_ = 0;
  up_ = true;
  reason_.clear();
}

void TargetStats::loss(std::int64_t now_ns, const std::string& reason) {
  ++lost_;
  record(now_ns, 1, 1);
  if (++consecutive_lost_ >= kDownAfter || !up_) {
    up_ = false;
    reason_ = reason;
  }
}

void TargetStats::sent(std::uint32_t seq, std::int64_t sent_ns, std::int64_t deadline_ns) {
  auto& s = slots_[seq % kSlots];
  if (s.state == SlotState::kOutstanding) loss(sent_ns, "timeout");
  s = Slot{seq, SlotState::kOutstanding, sent_ns, deadline_ns};
  newest_seq_ = seq;
  any_sent_ = true;
  ++sent_;
}

TargetStats::ReplyKind TargetStats::reply(std::uint32_t seq, std::int64_t rx_ns) {
  auto& s = slots_[seq % kSlots];
  if (s.seq != seq || s.state == SlotState::kEmpty) {
    // Older than the slots remember: it can only be a very late reply.
    if (any_sent_ && seq < newest_seq_) {
      ++late_;
      return ReplyKind::kLate;
    }
    return ReplyKind::kUnknown;
  }
  switch (s.state) {
    case SlotState::kOutstanding:
      s.state = SlotState::kAnswered;
      success(rx_ns, static_cast<double>(std::max<std::int64_t>(0, rx_ns - s.sent_ns)) / 1e9);
      return ReplyKind::kMatched;
    case SlotState::kAnswered: ++duplicates_; return ReplyKind::kDuplicate;
    case SlotState::kLost: ++late_; return ReplyKind::kLate;
    case SlotState::kEmpty: break;
  }
  return ReplyKind::kUnknown;
}

TargetStats::ReplyKind TargetStats::replyToNewest(std::int64_t rx_ns) {
  if (!any_sent_) return ReplyKind::kUnknown;
  // The newest outstanding probe, searching back from the newest sequence.
  for (int back = 0; back < kSlots; ++back) {
    const std::uint32_t seq = newest_seq_ - static_cast<std::uint32_t>(back);
    auto& s = slots_[seq % kSlots];
    if (s.seq != seq || s.state == SlotState::kEmpty) break;
    if (s.state == SlotState::kOutstanding) return reply(seq, rx_ns);
    if (back == 0) return reply(seq, rx_ns);  // answered -> duplicate, lost -> late
  }
  return ReplyKind::kUnknown;
}

int TargetStats::expire(std::int64_t now_ns, const std::string& reason) {
  int n = 0;
  for (auto& s : slots_) {
    if (s.state == SlotState::kOutstanding && s.deadline_ns <= now_ns) {
      s.state = SlotState::kLost;
      loss(now_ns, reason);
      ++n;
    }
  }
  return n;
}

void TargetStats::expireSeq(std::uint32_t seq, std::int64_t now_ns) {
  auto& s = slots_[seq % kSlots];
  if (s.seq == seq && s.state == SlotState::kOutstanding && s.deadline_ns <= now_ns) {
    s.state = SlotState::kLost;
    loss(now_ns, "timeout");
  }
}

bool TargetStats::icmpError(std::uint32_t seq, std::int64_t now_ns, const std::string& reason) {
  ++icmp_errors_[reason];
  auto& s = slots_[seq % kSlots];
  if (s.seq != seq || s.state != SlotState::kOutstanding) return false;
  s.state = SlotState::kLost;
  loss(now_ns, reason);
  return true;
}

std::optional<std::uint32_t> TargetStats::outstandingSeq16(std::uint16_t seq16) const {
  std::optional<std::uint32_t> newest;
  for (const auto& s : slots_) {
    if (s.state != SlotState::kOutstanding || static_cast<std::uint16_t>(s.seq) != seq16) continue;
    if (!newest || s.seq > *newest) newest = s.seq;
  }
  return newest;
}

void TargetStats::failed(std::int64_t now_ns, const std::string& reason) {
  ++sent_;
  loss(now_ns, reason);
}

void TargetStats::tcpResult(std::int64_t now_ns, bool ok, double connect_seconds, int packets,
                            int lost, const std::string& failure_errno) {
  ++sent_;
  record(now_ns, static_cast<std::uint32_t>(std::max(packets, 1)),
         static_cast<std::uint32_t>(std::max(lost, 0)));
  if (ok) {
    ++received_;
    syn_retransmits_ += static_cast<std::uint64_t>(std::max(lost, 0));
    observe(connect_, connect_seconds);
    last_rtt_ = connect_seconds;
    consecutive_lost_ = 0;
    up_ = true;
    reason_.clear();
    return;
  }
  ++failures_[failure_errno];
  lost_ += static_cast<std::uint64_t>(std::max(lost, 0));
  std::string r = failure_errno;
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
  // A refused connection is an answer: the network works, the service does not. Down at once.
  if (++consecutive_lost_ >= kDownAfter || !up_ || failure_errno == "ECONNREFUSED") {
    up_ = false;
    reason_ = r;
  }
}

std::optional<double> TargetStats::lossRatio(std::int64_t now_ns, int seconds) const {
  const std::int64_t now_sec = now_ns / kNs;
  std::uint64_t packets = 0, lost = 0;
  for (const auto& b : window_) {
    if (b.second < 0 || b.second > now_sec || b.second <= now_sec - seconds) continue;
    packets += b.packets;
    lost += b.lost;
  }
  if (packets == 0) return std::nullopt;
  return static_cast<double>(lost) / static_cast<double>(packets);
}

std::uint64_t TargetStats::outstanding() const {
  std::uint64_t n = 0;
  for (const auto& s : slots_)
    if (s.state == SlotState::kOutstanding) ++n;
  return n;
}

}  // namespace foreshock
