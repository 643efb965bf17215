#include "health/engine.h"

#include <algorithm>
#include <set>

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
  const std::string id = d.historyId();
  // History written before model and WWN joined the key has this disk under its serial alone:
  // carry it over (the first disk of that model to show up claims it; the model the entity was
  // last seen with must match, so another vendor's disk with the same serial starts fresh).
  if (id != d.serial && h.find("disk", id) == nullptr) {
    if (const auto* legacy = h.find("disk", d.serial)) {
      auto model = legacy->attrs.find("model");
      if (model == legacy->attrs.end() || model->second == d.model) h.rename("disk", d.serial, id);
    }
    // The disk at this device was bound under its serial alone: the same disk, not a swap.
    if (!d.device.empty()) h.rebind("disk", d.device, d.serial, id);
  }
  std::optional<std::string> swapped;
  if (!d.device.empty() && !d.serial.empty() && d.serial != d.device) {
    swapped = h.bind("disk", d.device, id, t);
  }
  h.touch("disk", id, t, {{"device", d.device}, {"model", d.model}, {"serial", d.serial}});
  for (const auto& a : d.attributes) {
    if (!a.raw) continue;
    switch (a.id) {
      case signals::kAtaReallocated:
      case signals::kAtaReportedUncorrect:
      case signals::kAtaCommandTimeout:
      case signals::kAtaPending:
      case signals::kAtaOfflineUncorrectable:
      case signals::kAtaCrcErrors:
        h.record("disk", id, ataSeriesName(a.id), SeriesKind::kCount, t, *a.raw);
        break;
      default: break;
    }
  }
  if (d.media_errors)
    h.record("disk", id, "media_errors_total", SeriesKind::kCounter, t, *d.media_errors);
  if (d.nvme_spare)
    h.record("disk", id, "available_spare_ratio", SeriesKind::kGauge, t, *d.nvme_spare);
  if (d.nvme_percentage_used)
    h.record("disk", id, "percentage_used_ratio", SeriesKind::kGauge, t, *d.nvme_percentage_used);
  if (d.scsi_grown_defects)
    h.record("disk", id, "grown_defects", SeriesKind::kCount, t, *d.scsi_grown_defects);
  if (d.scsi_uncorrected)
    h.record("disk", id, "uncorrected_errors_total", SeriesKind::kCounter, t, *d.scsi_uncorrected);
  if (d.scsi_non_medium)
    h.record("disk", id, "non_medium_errors_total", SeriesKind::kCounter, t, *d.scsi_non_medium);
  if (d.temperature)
    h.record("disk", id, "temperature_celsius", SeriesKind::kGauge, t, *d.temperature);
  return swapped;
}

namespace {

// "Z300ZV41 (ST4000DM000)" for a history id made by DiskObservation::historyId.
std::string describeDiskId(std::string_view id) {
  std::string serial = historySerial(id);
  if (serial.size() == id.size()) return serial;
  auto model = id.substr(serial.size() + 1);
  model = model.substr(0, model.find('\x1f'));
  return model.empty() ? serial : serial + " (" + std::string(model) + ")";
}

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
      swaps->push_back(deviceReplaced(
          d.device, "a different disk is now at " + d.device + ": serial " + describeDiskId(*prev) +
                        " was replaced by " + describeDiskId(d.historyId()) +
                        "; its history starts fresh"));
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

HealthResult HealthEngine::evaluateLocked(const Observations& obs, std::vector<Finding> extra,
                                          bool remember) const {
  HealthResult r;
  for (const auto& d : obs.disks) {
    double risk = -1;
    const std::size_t first = r.findings.size();
    evaluateDisk(d, history_, obs.time, options_, &r.findings, &risk);
    if (risk >= 0) r.risks.push_back({d.device, d.serial, d.model, risk});
    const std::string id = d.historyId();
    if (d.gone()) {
      // What was wrong before it disappeared stays, and so does its verdict: a disk that died
      // is not better than the dying disk it was.
      auto it = last_disk_problems_.find(id);
      if (it == last_disk_problems_.end() || it->second.empty() || first == r.findings.size())
        continue;
      Finding& present = r.findings[first];
      std::vector<Finding> kept;
      for (Finding f : it->second) {
        present.severity = std::max(present.severity, f.severity);
        f.summary = "before it disappeared: " + f.summary;
        f.component = present.component;
        f.subject = present.subject;
        kept.push_back(std::move(f));
      }
      present.summary += "; it had " + std::to_string(kept.size()) + " problem" +
                         (kept.size() == 1 ? "" : "s") + " before";
      for (auto& f : kept) r.findings.push_back(std::move(f));
    } else if (remember) {
      // A disk whose read fails still has its last reading in the snapshot (the collector
      // keeps it), so its findings are current either way.
      auto& problems = last_disk_problems_[id];
      problems.clear();
      for (std::size_t i = first; i < r.findings.size(); ++i) {
        if (r.findings[i].severity >= Severity::kWarning) problems.push_back(r.findings[i]);
      }
    }
  }
  if (remember && obs.have_disks) {
    // Forget disks the collector no longer reports at all (gone past its retention).
    std::set<std::string> seen;
    for (const auto& d : obs.disks) seen.insert(d.historyId());
    std::erase_if(last_disk_problems_, [&](const auto& kv) { return seen.count(kv.first) == 0; });
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
      swaps.push_back(deviceReplaced(d.device, "serial " + describeDiskId(b->previous_id) +
                                                   " was replaced by " + describeDiskId(b->id) +
                                                   " at " + d.device));
    }
  }
  history_.prune(obs.time);
  return evaluateLocked(obs, std::move(swaps), true);
}

HealthResult HealthEngine::evaluateOnly(const Observations& obs) const {
  std::lock_guard<std::mutex> l(mu_);
  return evaluateLocked(obs, {}, false);
}

HistoryStore::LoadOutcome HealthEngine::load(const std::filesystem::path& path) {
  std::lock_guard<std::mutex> l(mu_);
  return history_.load(path);
}

Status HealthEngine::save(const std::filesystem::path& path) {
  std::string bytes;
  {
    // Only the in-memory encoding holds the lock; the write and fsyncs run without it, so
    // process() is never held up by the disk.
    std::lock_guard<std::mutex> l(mu_);
    bytes = history_.serialize();
  }
  return HistoryStore::writeEncoded(path, bytes);
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
