#include "health/service.h"

#include <pthread.h>

#include <ctime>

#include "core/file_util.h"
#include "core/log.h"
#include "core/metric_set.h"

namespace foreshock {

HealthService::HealthService(HealthOptions options, std::filesystem::path state_file,
                             double save_interval)
    : engine_(options), state_file_(std::move(state_file)), save_interval_(save_interval) {}

void HealthService::start() {
  // Nothing saves yet, so any .history.bin.XXXXXX here is left by a save that was interrupted
  // (crash, SIGKILL, power loss) and can never be completed.
  auto stale = removeStaleTempFiles(state_file_);
  if (!stale.empty()) {
    std::string names;
    for (const auto& p : stale) names += (names.empty() ? "" : ", ") + p.filename().string();
    log::warn("health", "removed " + std::to_string(stale.size()) +
                            " temporary file(s) left by interrupted history saves in " +
                            state_file_.parent_path().string() + ": " + names);
  }
  auto outcome = engine_.load(state_file_);
  std::lock_guard<std::mutex> l(mu_);
  last_save_ = static_cast<double>(std::time(nullptr));
  if (!saver_.joinable() && !stopping_) saver_ = std::thread([this] { saverLoop(); });
  if (outcome.loaded) {
    log::info("health", "history loaded from " + state_file_.string() + ": " +
                            std::to_string(engine_.entityCount()) + " entities, " +
                            std::to_string(engine_.pointCount()) + " points");
  } else if (outcome.missing) {
    log::info("health", "no history at " + state_file_.string() + " yet; starting fresh");
  } else {
    load_rejected_ = true;
    log::error("health",
               "history file rejected: " + outcome.error +
                   (outcome.moved_aside_to.empty() ? std::string("; could not move it aside")
                                                   : "; moved aside to " + outcome.moved_aside_to) +
                   "; starting with an empty history");
  }
}

HealthService::~HealthService() {
  stop();
}

void HealthService::stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (saver_.joinable()) saver_.join();
}

void HealthService::saverLoop() {
  pthread_setname_np(pthread_self(), "fs-history");
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [this] { return stopping_ || save_requested_; });
    if (stopping_) return;
    save_requested_ = false;
    l.unlock();
    save();
    l.lock();
  }
}

void HealthService::save() {
  std::lock_guard<std::mutex> sl(save_mu_);
  auto st = engine_.save(state_file_);
  std::lock_guard<std::mutex> l(mu_);
  last_save_ = static_cast<double>(std::time(nullptr));
  if (st) {
    ++saves_;
  } else {
    ++save_errors_;
    log::error("health", "cannot save the history: " + st.error().message);
  }
}

std::vector<prometheus::MetricFamily> HealthService::onSnapshot(const Snapshot& snap) {
  double now = snap.timestamp > 0 ? snap.timestamp : static_cast<double>(std::time(nullptr));
  auto result = engine_.process(observe(snap.families, now));
  {
    std::lock_guard<std::mutex> l(mu_);
    if (now - last_save_ >= save_interval_ && !save_requested_) {
      last_save_ = now;  // requested; save() sets it again when written
      save_requested_ = true;
      cv_.notify_all();
    }
  }
  MetricSet set;
  HealthEngine::exportMetrics(result, set);
  std::lock_guard<std::mutex> l(mu_);
  set.gauge("foreshock_health_history_entities",
            "Entities (disks, interfaces, sensors, probe targets) in the history.", {},
            static_cast<double>(engine_.entityCount()));
  set.gauge("foreshock_health_history_points", "Points held in the history store.", {},
            static_cast<double>(engine_.pointCount()));
  set.counter("foreshock_health_history_saves_total", "Successful writes of the history file.", {},
              static_cast<double>(saves_));
  set.counter("foreshock_health_history_save_errors_total", "Failed writes of the history file.",
              {}, static_cast<double>(save_errors_));
  set.gauge("foreshock_health_history_load_rejected",
            "1 if the history file found at start was corrupt and was moved aside.", {},
            load_rejected_ ? 1 : 0);
  return set.take();
}

}  // namespace foreshock
