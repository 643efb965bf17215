// The stop request of a background thread that waits in poll(): a flag plus an eventfd that
// becomes readable when the flag is set, so the thread wakes at once instead of at its next
// poll timeout. Used by the collectors that own a reader thread (kernel log, LLDP, prober, netdev
// link events).
#pragma once

#include <atomic>

namespace foreshock {

// Contract: the owner calls stop() (typically in its destructor) and then joins its thread;
// the thread polls fd() among its descriptors and leaves its loop once stopped() is true. If
// the eventfd could not be created, fd() is -1 (poll() ignores it) and the thread notices the
// stop at its next poll timeout.
// Thread-safety: stop() and stopped() may be called from any thread; fd() is constant.
class StopSignal {
 public:
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  // Sets the flag, then makes fd() readable (it stays readable).
  void stop();
  bool stopped() const { return stopped_.load(); }
  int fd() const { return fd_; }

 private:
  std::atomic<bool> stopped_{false};
  int fd_ = -1;
};

}  // namespace foreshock
