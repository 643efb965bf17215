// The clock every collector and the scheduler read, so tests can drive time.
#pragma once

#include <atomic>
#include <chrono>

namespace foreshock {

using Duration = std::chrono::milliseconds;

// Contract: wallSeconds() is Unix time in seconds (for timestamps in metrics);
// monotonic() never goes backwards (for intervals and deadlines).
// Thread-safety: implementations must be safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual double wallSeconds() const = 0;
  virtual std::chrono::steady_clock::time_point monotonic() const = 0;
};

class SystemClock final : public Clock {
 public:
  double wallSeconds() const override;
  std::chrono::steady_clock::time_point monotonic() const override;
  static const SystemClock& instance();
};

// A clock that only moves when told to. Thread-safe (atomics).
class FakeClock final : public Clock {
 public:
  explicit FakeClock(double wall = 1'700'000'000.0)
      : wall_ms_(static_cast<long long>(wall * 1000)) {}
  double wallSeconds() const override { return static_cast<double>(wall_ms_.load()) / 1000.0; }
  std::chrono::steady_clock::time_point monotonic() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(mono_ms_.load()));
  }
  void advance(Duration d) {
    wall_ms_ += d.count();
    mono_ms_ += d.count();
  }
  void setWall(double wall) { wall_ms_ = static_cast<long long>(wall * 1000); }

 private:
  std::atomic<long long> wall_ms_;
  std::atomic<long long> mono_ms_{1'000'000};
};

}  // namespace foreshock
