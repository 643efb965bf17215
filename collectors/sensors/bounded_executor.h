// Runs blocking reads with a deadline. Some hwmon drivers block in read() (a hung I2C/SMBus
// transaction, an EC that never answers, ACPI _TMP methods) and libsensors reads with plain
// fopen()/fscanf(), which no signal or timeout interrupts. The only bound we can put on such a
// read is to run it on a worker thread and stop waiting: the worker is then abandoned (it stays
// blocked in the kernel and exits by itself if the read ever returns) and a fresh worker takes
// the next job. The number of abandoned workers is capped, so a wholly hung bus costs a fixed
// number of threads, not one per cycle.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

#include "core/clock.h"

namespace foreshock::sensors {

// Thread-safety: run() is called from one thread at a time (the collector's cycle); the
// abandoned workers only touch their own shared state and the shared stuck counter.
class BoundedExecutor {
 public:
  enum class Outcome {
    kDone,      // the job ran to completion within the timeout
    kTimedOut,  // the job is still running; its worker was abandoned
    kRefused,   // not started: max_abandoned workers are already stuck
  };

  explicit BoundedExecutor(int max_abandoned = 8);
  ~BoundedExecutor();
  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  // Runs `job` on the worker and waits at most `timeout` for it. The job must own (or share)
  // everything it touches: after kTimedOut it keeps running on its own.
  Outcome run(std::function<void()> job, Duration timeout);

  // Abandoned workers whose job has not returned yet.
  int stuckWorkers() const { return stuck_->load(); }

 private:
  struct Worker;
  std::shared_ptr<Worker> spawn();

  int max_abandoned_;
  std::shared_ptr<std::atomic<int>> stuck_;
  std::shared_ptr<Worker> live_;
};

}  // namespace foreshock::sensors
