// Per-target probe bookkeeping, free of I/O so it can be tested with explicit times:
// outstanding probes by sequence number, replies (matched, duplicate, late), timeouts, the
// RTT histogram, loss over sliding windows and the up/down state.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/metric_set.h"

namespace foreshock {

// Upper bounds of foreshock_probe_rtt_seconds: 50 µs (a loopback or same-rack reply) up to
// 30 s (beyond any sane timeout); ~2.5x steps.
const std::vector<double>& probeRttBuckets();

// The kernel's SYN retransmission schedule: with an initial RTO of `initial_rto` seconds
// (TCP_TIMEOUT_INIT, 1 s) the SYN is resent at 1, 3, 7, 15, 31 s after the first one. A
// connect that completes just after one of those instants had its earlier SYNs (or SYN-ACKs)
// lost. Returns how many handshake packets were lost for a connect that took `seconds`,
// or 0 when the time is not near a retransmission instant (the server was merely slow).
// "Near": within `tolerance` seconds after the instant (the reply's round trip).
int synRetransmissionsFor(double seconds, double initial_rto = 1.0, double tolerance = 0.5);

// Lost handshake packets from the kernel's own figures (TCP_INFO): `retransmitted` SYNs were
// sent after the first, and the SYN the peer answered left `answered_at` seconds after the
// first one (connect time minus the measured RTT; with TCP timestamps the RTT is taken from
// the answered SYN). SYNs sent before the answered one were lost; retransmissions after it
// were not (a far peer makes the kernel resend SYNs that were merely slow). `tolerance`
// absorbs timer slack.
int lostSynsBefore(double answered_at, unsigned retransmitted, double initial_rto = 1.0,
                   double tolerance = 0.25);

// Thread-safety: not thread-safe; the prober thread owns it under its mutex.
class TargetStats {
 public:
  // A probe whose outcome is known counts into the loss windows at the second it resolved.
  static constexpr int kWindowSeconds = 300;
  // Outstanding probes remembered per target. A slot that is reused while still outstanding
  // is counted lost (the probe is older than 256 intervals).
  static constexpr int kSlots = 256;
  // Consecutive lost probes after which the target is down.
  static constexpr int kDownAfter = 3;

  // A probe left at `sent_ns` (any clock, the same one as the reply times) with sequence
  // `seq`; it times out at `deadline_ns`.
  void sent(std::uint32_t seq, std::int64_t sent_ns, std::int64_t deadline_ns);
  // A reply for `seq` arrived at `rx_ns`. Counts it received, duplicate or late.
  enum class ReplyKind { kMatched, kDuplicate, kLate, kUnknown };
  ReplyKind reply(std::uint32_t seq, std::int64_t rx_ns);
  // For probes without a sequence number on the wire (ARP): the newest outstanding probe is
  // answered; with none outstanding the reply is a duplicate (newest answered) or late.
  ReplyKind replyToNewest(std::int64_t rx_ns);
  // Marks every outstanding probe whose deadline is <= now_ns as lost; returns how many.
  int expire(std::int64_t now_ns, const std::string& reason = "timeout");
  // The same for the one probe `seq` (the prober's deadline queue knows which one is due).
  void expireSeq(std::uint32_t seq, std::int64_t now_ns);
  // An ICMP error (unreachable, TTL exceeded...) quoting probe `seq` arrived: the probe is
  // lost at once, with `reason` as the down reason, and the error is counted by reason. Returns
  // false when `seq` was no longer outstanding (the error is counted all the same).
  bool icmpError(std::uint32_t seq, std::int64_t now_ns, const std::string& reason);
  // The outstanding probe whose sequence number ends in `seq16` (the 16 bits on the wire), for
  // an ICMP error that quotes too little of the probe to carry its cookie.
  std::optional<std::uint32_t> outstandingSeq16(std::uint16_t seq16) const;
  // A probe that could not be sent at all (no route, no socket): counted sent and lost.
  void failed(std::int64_t now_ns, const std::string& reason);
  // The probe cannot run at all (no socket, not on-link): down with `reason`, nothing counted.
  void unavailable(const std::string& reason) {
    up_ = false;
    reason_ = reason;
  }
  // A TCP connect outcome: `packets` handshake packets were sent of which `lost` were lost;
  // success carries the connect time.
  void tcpResult(std::int64_t now_ns, bool success, double connect_seconds, int packets, int lost,
                 const std::string& failure_errno);

  std::uint64_t sentTotal() const { return sent_; }
  std::uint64_t receivedTotal() const { return received_; }
  std::uint64_t duplicatesTotal() const { return duplicates_; }
  std::uint64_t lateTotal() const { return late_; }
  std::uint64_t lostTotal() const { return lost_; }
  const std::map<std::string, std::uint64_t>& icmpErrors() const { return icmp_errors_; }
  const HistogramData& rtt() const { return rtt_; }
  std::optional<double> lastRtt() const { return last_rtt_; }
  // Lost / resolved packets over the last `seconds` (up to kWindowSeconds) before now_ns;
  // nullopt when nothing resolved in the window.
  std::optional<double> lossRatio(std::int64_t now_ns, int seconds) const;
  // 1 up, 0 down; the reason of the last failure while down ("pending" before any outcome).
  bool up() const { return up_; }
  const std::string& reason() const { return reason_; }

  // TCP only.
  const HistogramData& connectTime() const { return connect_; }
  const std::map<std::string, std::uint64_t>& failuresByErrno() const { return failures_; }
  std::uint64_t synRetransmitsTotal() const { return syn_retransmits_; }
  std::uint64_t outstanding() const;

 private:
  enum class SlotState : std::uint8_t { kEmpty, kOutstanding, kAnswered, kLost };
  struct Slot {
    std::uint32_t seq = 0;
    SlotState state = SlotState::kEmpty;
    std::int64_t sent_ns = 0;
    std::int64_t deadline_ns = 0;
  };
  struct Bucket {
    std::int64_t second = -1;
    std::uint32_t packets = 0;
    std::uint32_t lost = 0;
  };
  void record(std::int64_t now_ns, std::uint32_t packets, std::uint32_t lost);
  void observe(HistogramData& h, double v);
  void success(std::int64_t rx_ns, double rtt);
  void loss(std::int64_t now_ns, const std::string& reason);

  std::array<Slot, kSlots> slots_{};
  std::uint32_t newest_seq_ = 0;
  bool any_sent_ = false;
  std::array<Bucket, kWindowSeconds> window_{};
  std::uint64_t sent_ = 0, received_ = 0, duplicates_ = 0, late_ = 0, lost_ = 0;
  std::uint64_t syn_retransmits_ = 0;
  HistogramData rtt_;
  HistogramData connect_;
  std::optional<double> last_rtt_;
  std::map<std::string, std::uint64_t> failures_;
  std::map<std::string, std::uint64_t> icmp_errors_;
  int consecutive_lost_ = 0;
  bool up_ = false;
  std::string reason_ = "pending";
};

}  // namespace foreshock
