#include "collectors/sensors/bounded_executor.h"

#include <thread>

namespace foreshock::sensors {

struct BoundedExecutor::Worker {
  std::mutex mu;
  std::condition_variable cv;
  std::function<void()> job;
  bool has_job = false;
  bool done = false;
  bool abandoned = false;
  bool quit = false;
};

BoundedExecutor::BoundedExecutor(int max_abandoned)
    : max_abandoned_(max_abandoned), stuck_(std::make_shared<std::atomic<int>>(0)) {}

BoundedExecutor::~BoundedExecutor() {
  if (live_) {
    std::lock_guard<std::mutex> l(live_->mu);
    live_->quit = true;
    live_->cv.notify_all();
  }
}

std::shared_ptr<BoundedExecutor::Worker> BoundedExecutor::spawn() {
  auto w = std::make_shared<Worker>();
  auto stuck = stuck_;
  // Detached: the thread owns its Worker and the counter through shared_ptrs, so it may outlive
  // this executor (an abandoned read that returns after the collector was replaced).
  std::thread([w, stuck]() {
    std::unique_lock<std::mutex> l(w->mu);
    for (;;) {
      w->cv.wait(l, [&] { return w->has_job || w->quit; });
      if (w->quit) return;
      auto job = std::move(w->job);
      w->job = nullptr;
      l.unlock();
      try {
        job();
      } catch (...) {
        // Jobs report errors as values; an exception must not end the process from a
        // detached thread.
      }
      l.lock();
      w->has_job = false;
      w->done = true;
      if (w->abandoned) {
        stuck->fetch_sub(1);
        return;
      }
      w->cv.notify_all();
    }
  }).detach();
  return w;
}

BoundedExecutor::Outcome BoundedExecutor::run(std::function<void()> job, Duration timeout) {
  if (!live_) {
    if (stuck_->load() >= max_abandoned_) return Outcome::kRefused;
    live_ = spawn();
  }
  std::unique_lock<std::mutex> l(live_->mu);
  live_->job = std::move(job);
  live_->has_job = true;
  live_->done = false;
  live_->cv.notify_all();
  if (live_->cv.wait_for(l, timeout, [&] { return live_->done; })) return Outcome::kDone;
  live_->abandoned = true;
  stuck_->fetch_add(1);
  l.unlock();
  live_.reset();
  return Outcome::kTimedOut;
}

}  // namespace foreshock::sensors
