#include "health/engine.h"

#include <algorithm>

#include "health/kernel_rules.h"
#include "health/risk_model.h"
#include "health/signals.h"

namespace foreshock {

HealthOptions::HealthOptions()
    : risk_warning(risk_coefficients::kWarningThreshold),
      risk_critical(risk_coefficients::kCriticalThreshold) {}

std::string_view severityName(Severity s) {
  switch (s) {
    case Severity::kOk: return "ok";
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kCritical: return "critical";
  }
  return "unknown";
}

int statusValue(Severity s) {
  return s == Severity::kCritical ? 2 : (s == Severity::kWarning ? 1 : 0);
}

bool isDiskFailureCheck(std::string_view check) {
  return check == "smart_status" || check == "prefail_threshold" ||
         check == "nvme_critical_warning" || check == "self_test" || check == "failure_risk" ||
         check == "nvme_spare";
}

std::optional<std::string> recordDisk(HistoryStore& h, const DiskObservation& d, double t) {
  std::optional<std::string> swapped;
  if (!d.device.empty() && !d.serial.empty() && d.serial != d.device) {
    swapped = h.bind("disk", d.device, d.serial, t);
  }
  h.touch("disk", d.serial, t, {{"device", d.device}, {"model", d.model}});
  for (const auto& a : d.attributes) {
    if (!a.raw) continue;
    switch (a.id) {
      case signals::kAtaReallocated:
      case signals::kAtaReportedUncorrect:
      case signals::kAtaCommandTimeout:
      case signals::kAtaPending:
      case signals::kAtaOfflineUncorrectable:
      case signals::kAtaCrcErrors:
        h.record("disk", d.serial, ataSeriesName(a.id), SeriesKind::kCount, t, *a.raw);
        break;
      default: break;
    }
  }
  if (d.media_errors)
    h.record("disk", d.serial, "media_errors_total", SeriesKind::kCounter, t, *d.media_errors);
  if (d.nvme_spare)
    h.record("disk", d.serial, "available_spare_ratio", SeriesKind::kGauge, t, *d.nvme_spare);
  if (d.nvme_percentage_used)
    h.record("disk", d.serial, "percentage_used_ratio", SeriesKind::kGauge, t,
             *d.nvme_percentage_used);
  if (d.scsi_grown_defects)
    h.record("disk", d.serial, "grown_defects", SeriesKind::kCount, t, *d.scsi_grown_defects);
  if (d.scsi_uncorrected)
    h.record("disk", d.serial, "uncorrected_errors_total", SeriesKind::kCounter, t,
             *d.scsi_uncorrected);
  if (d.scsi_non_medium)
    h.record("disk", d.serial, "non_medium_errors_total", SeriesKind::kCounter, t,
             *d.scsi_non_medium);
  if (d.temperature)
    h.record("disk", d.serial, "temperature_celsius", SeriesKind::kGauge, t, *d.temperature);
  return swapped;
}

namespace {

// The info notice that another disk now sits at `device`.
Finding deviceReplaced(const std::string& device, std::string summary) {
  Finding f;
  f.category = "disks";
  f.component = "disk/" + device;
  f.subject = device;
  f.check = "device_replaced";
  f.severity = Severity::kInfo;
  f.summary = std::move(summary);
  return f;
}

}  // namespace

void recordObservations(HistoryStore& h, const Observations& obs, std::vector<Finding>* swaps) {
  double t = obs.time;
  for (const auto& d : obs.disks) {
    if (auto prev = recordDisk(h, d, t); prev && swaps != nullptr) {
      swaps->push_back(deviceReplaced(d.device, "a different disk is now at " + d.device +
                                                    ": serial " + *prev + " was replaced by " +
                                                    d.serial + "; its history starts fresh"));
    }
  }
  for (const auto& s : obs.sensors) {
    if (!s.temperature) continue;
    std::string id = s.chip + "/" + s.sensor;
    h.record("sensor", id, "temperature_celsius", SeriesKind::kGauge, t, *s.temperature);
  }
  for (const auto& f : obs.fans) {
    h.record("sensor", f.chip + "/" + f.sensor, "fan_rpm", SeriesKind::kGauge, t, f.rpm);
  }
  for (const auto& i : obs.interfaces) {
    // Identity is name + permanent MAC: a replaced NIC under the same name starts fresh.
    auto id = i.identity();
    h.bind("interface", i.name, id, t);
    h.touch("interface", id, t, {{"interface", i.name}});
    if (i.has_errors) {
      h.record("interface", id, "physical_errors_total", SeriesKind::kCounter, t,
               i.physical_errors);
      h.record("interface", id, "link_errors_total", SeriesKind::kCounter, t, i.link_errors);
      h.record("interface", id, "host_errors_total", SeriesKind::kCounter, t, i.host_errors);
    }
    if (i.rx_packets)
      h.record("interface", id, "receive_packets_total", SeriesKind::kCounter, t, *i.rx_packets);
    if (i.flaps) h.record("interface", id, "link_flaps_total", SeriesKind::kCounter, t, *i.flaps);
    if (i.carrier) h.record("interface", id, "carrier", SeriesKind::kGauge, t, *i.carrier);
  }
  for (const auto& p : obs.probes) {
    auto id = p.identity();
    if (p.loss_5m) h.record("probe", id, "loss_ratio_5m", SeriesKind::kGauge, t, *p.loss_5m);
    if (p.last_rtt) h.record("probe", id, "last_rtt_seconds", SeriesKind::kGauge, t, *p.last_rtt);
    if (p.up) h.record("probe", id, "up", SeriesKind::kGauge, t, *p.up ? 1 : 0);
  }
  recordKernel(h, obs.kernel, t);
}

HealthEngine::HealthEngine(HealthOptions options) : options_(options), history_(options.limits) {}

HealthResult HealthEngine::evaluateLocked(const Observations& obs,
                                          std::vector<Finding> extra) const {
  HealthResult r;
  for (const auto& d : obs.disks) {
    double risk = -1;
    evaluateDisk(d, history_, obs.time, options_, &r.findings, &risk);
    if (risk >= 0) r.risks.push_back({d.device, d.serial, d.model, risk});
  }
  for (auto& f : extra) r.findings.push_back(std::move(f));
  evaluateTemperatures(obs, history_, &r.findings);
  evaluateNetwork(obs, history_, &r.findings);
  evaluateUpstream(obs, history_, &r.findings);
  evaluateKernel(obs, history_, &r.findings);
  return r;
}

HealthResult HealthEngine::process(const Observations& obs) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<Finding> swaps;
  // The scheduler publishes after every collector's run; record at most one point per
  // record interval so a series' full-rate window covers hours, not minutes.
  if (last_record_ == 0 || obs.time - last_record_ >= options_.record_interval_seconds ||
      obs.time < last_record_) {
    recordObservations(history_, obs, &swaps);
    last_record_ = obs.time;
  }
  // Swap notices stay visible for a day, not only in the cycle that saw the change.
  for (const auto& d : obs.disks) {
    const auto* b = history_.binding("disk", d.device);
    bool fresh = std::any_of(swaps.begin(), swaps.end(),
                             [&](const Finding& f) { return f.component == "disk/" + d.device; });
    if (b != nullptr && !fresh && b->changed_at > 0 && obs.time - b->changed_at < 86400) {
      swaps.push_back(deviceReplaced(
          d.device, "serial " + b->previous_id + " was replaced by " + b->id + " at " + d.device));
    }
  }
  history_.prune(obs.time);
  return evaluateLocked(obs, std::move(swaps));
}

HealthResult HealthEngine::evaluateOnly(const Observations& obs) const {
  std::lock_guard<std::mutex> l(mu_);
  return evaluateLocked(obs, {});
}

HistoryStore::LoadOutcome HealthEngine::load(const std::filesystem::path& path) {
  std::lock_guard<std::mutex> l(mu_);
  return history_.load(path);
}

Status HealthEngine::save(const std::filesystem::path& path) {
  std::lock_guard<std::mutex> l(mu_);
  return history_.save(path);
}

void HealthEngine::replaceHistory(HistoryStore history) {
  std::lock_guard<std::mutex> l(mu_);
  history_ = std::move(history);
}

std::size_t HealthEngine::entityCount() const {
  std::lock_guard<std::mutex> l(mu_);
  return history_.entityCount();
}

std::size_t HealthEngine::pointCount() const {
  std::lock_guard<std::mutex> l(mu_);
  return history_.pointCount();
}

void HealthEngine::exportMetrics(const HealthResult& r, MetricSet& out) {
  out.declare("foreshock_health_status",
              "Health verdict of one check of one component: 0 ok, 1 warning, 2 critical.",
              prometheus::MetricType::Gauge);
  for (const auto& f : r.findings) {
    if (f.severity == Severity::kInfo) continue;  // notices are not states
    Labels labels{{"component", f.component}, {"check", f.check}};
    labels.insert(labels.end(), f.identity.begin(), f.identity.end());
    out.gauge("foreshock_health_status",
              "Health verdict of one check of one component: 0 ok, 1 warning, 2 critical.", labels,
              statusValue(f.severity));
    for (const auto& ev : f.evidence) {
      Labels el = labels;
      el.emplace_back("evidence", ev.name);
      out.gauge(
          "foreshock_health_evidence",
          "The numbers behind a health check (see the evidence label), as the check saw them.", el,
          ev.value);
    }
  }
  for (const auto& d : r.risks) {
    out.gauge("foreshock_disk_failure_risk",
              "Modelled probability-like score (0..1) that the disk fails within 30 days.",
              {{"device", d.device}, {"serial", d.serial}, {"model", d.model}}, d.risk);
  }
}

}  // namespace foreshock
