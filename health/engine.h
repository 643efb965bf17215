// The health engine: records each snapshot's signals in the history store, evaluates the
// rules (health/rules.cc) and the disk risk model, and renders the findings as metrics.
#pragma once

#include <prometheus/metric_family.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/metric_set.h"
#include "health/finding.h"
#include "health/history.h"
#include "health/observe.h"

namespace foreshock {

struct HealthOptions {
  HistoryLimits limits;
  double risk_warning;                  // risk at or above which failure_risk is a warning
  double risk_critical;                 // ... and critical
  double record_interval_seconds = 10;  // least time between two recorded points
  // Disk temperature limits (Celsius) when the drive reports none of its own: spinning (or
  // unknown) disks, and SSDs (NVMe or non-rotational).
  double disk_temperature_warning = 55, disk_temperature_critical = 60;
  double ssd_temperature_warning = 70, ssd_temperature_critical = 80;
  HealthOptions();
};

struct DiskRisk {
  std::string device, serial, model;
  double risk = 0;
};

struct HealthResult {
  std::vector<Finding> findings;  // every evaluated check, ok ones included
  std::vector<DiskRisk> risks;
};

// Rules, one function per category; each appends a Finding (ok or not) per check it ran.
// `history` must already hold the current observation.
void evaluateDisk(const DiskObservation& disk, const HistoryStore& history, double now,
                  const HealthOptions& options, std::vector<Finding>* out, double* risk);
void evaluateTemperatures(const Observations& obs, const HistoryStore& history,
                          std::vector<Finding>* out);
void evaluateNetwork(const Observations& obs, const HistoryStore& history,
                     std::vector<Finding>* out);
void evaluateUpstream(const Observations& obs, const HistoryStore& history,
                      std::vector<Finding>* out);

// Records a disk's signals under its identity (DiskObservation::historyId; history written
// under the serial alone is carried over); detects a different disk under the same device name
// (returns the previous history id then; historySerial() gives its serial).
std::optional<std::string> recordDisk(HistoryStore& history, const DiskObservation& disk, double t);
void recordObservations(HistoryStore& history, const Observations& obs,
                        std::vector<Finding>* swaps);

// Thread-safety: every public method locks an internal mutex; safe from any thread.
class HealthEngine {
 public:
  explicit HealthEngine(HealthOptions options = {});

  // Records the observation in the history and evaluates every rule.
  HealthResult process(const Observations& obs);
  // Evaluates without recording (foreshock check against a read-only history).
  HealthResult evaluateOnly(const Observations& obs) const;

  // Loads the history file; the outcome says whether it was missing, loaded or moved aside.
  HistoryStore::LoadOutcome load(const std::filesystem::path& path);
  Status save(const std::filesystem::path& path);
  // Replaces the history (e.g. one parsed read-only by `foreshock check`).
  void replaceHistory(HistoryStore history);
  std::size_t entityCount() const;
  std::size_t pointCount() const;

  // foreshock_health_status, foreshock_health_evidence, foreshock_disk_failure_risk.
  static void exportMetrics(const HealthResult& result, MetricSet& out);

 private:
  // `remember`: keep each present disk's problems for when it is gone (process() only).
  HealthResult evaluateLocked(const Observations& obs, std::vector<Finding> extra,
                              bool remember) const;
  mutable std::mutex mu_;
  HealthOptions options_;
  double last_record_ = 0;
  HistoryStore history_;
  // The last problems (warning or critical findings) of each disk seen present, by history id:
  // a disk that disappears keeps them (and its verdict) while it is reported gone.
  mutable std::map<std::string, std::vector<Finding>> last_disk_problems_;
};

}  // namespace foreshock
