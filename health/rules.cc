// The health rules. Every check appends a Finding, ok ones included, so that
// foreshock_health_status shows 0 for a check that ran and found nothing.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/file_util.h"
#include "health/engine.h"
#include "health/risk_model.h"
#include "health/signals.h"

namespace foreshock {

namespace {

constexpr double kMinute = 60, kHour = 3600, kDay = 86400;
constexpr double kDiskWindow = 7 * kDay;
// A drive that reports its own trip temperature is a warning this close below it.
constexpr double kDriveTripMargin = 5;

std::string fix(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string sig(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string num(double v) {
  return formatNumber(v, 3);
}

struct Emitter {
  std::vector<Finding>* out;
  std::string category, component, subject;
  std::vector<std::pair<std::string, std::string>> identity = {};
  Finding& add(std::string check, Severity sev, std::string summary, std::vector<Evidence> ev,
               std::string action) {
    Finding f;
    f.category = category;
    f.component = component;
    f.subject = subject;
    f.identity = identity;
    f.check = std::move(check);
    f.severity = sev;
    f.summary = std::move(summary);
    f.evidence = std::move(ev);
    if (sev >= Severity::kWarning) f.action = std::move(action);
    out->push_back(std::move(f));
    return out->back();
  }
  void ok(std::string check, std::string summary, std::vector<Evidence> ev = {}) {
    add(std::move(check), Severity::kOk, std::move(summary), std::move(ev), "");
  }
};

// ---- disks ----

// A counter whose growth within the 7-day window is a finding: media counters (growth is
// critical, a stable non-zero count a warning) and transport counters (growth is a warning that
// blames the cable, port or HBA, not the disk). Texts use {inc} (the 7-day increase) and {now}
// (the current value).
struct GrowthRule {
  const char* check;
  const char* series;  // the history series (recordDisk) and the evidence name; "" for ATA ids
  int ata_id;          // the ATA attribute whose raw value is read; 0 for the other fields
  std::optional<double> DiskObservation::*field;  // the value when ata_id is 0
  Severity on_growth;
  const char* grown;    // summary when the count grew
  const char* action;   // action when the count grew
  const char* present;  // summary of a non-zero count that did not grow (warning); nullptr: ok
  const char* ok;       // summary otherwise
};

constexpr const char* kReplaceNow =
    "Back up the data on this disk now and replace it; do not wait for it to fail completely.";
constexpr const char* kPlanReplace =
    "Check that backups of this disk are current and plan its replacement; watch whether the "
    "count keeps growing.";
// Why only growth for the transport counters: 188 is a packed vendor counter that is non-zero
// on ~5 % of healthy Seagate drives, and old CRC errors stay forever after a cable was replaced.
constexpr const char* kAtaCable =
    "Reseat or replace the SATA/SAS cable and check the controller port or backplane slot; the "
    "disk itself is not the suspect.";
constexpr const char* kScsiTransport =
    "Check the SAS cable, expander and HBA port of this disk (and whether its neighbours show "
    "the same); the media is not the suspect unless its error counters grow too.";

constexpr const char* kDiskGone =
    "The disk no longer answers at all: if it was not removed on purpose it has failed (or its "
    "cable, slot or controller has); replace it and restore its data.";

constexpr GrowthRule kGrowthRules[] = {
    {"reallocated_sectors", "", signals::kAtaReallocated, nullptr, Severity::kCritical,
     "reallocated sectors (SMART 5) grew by {inc} in 7 days (now {now})", kReplaceNow,
     "reallocated sectors (SMART 5) is {now} (not growing in the last 7 days)",
     "reallocated sectors (SMART 5): 0"},
    {"reported_uncorrectable", "", signals::kAtaReportedUncorrect, nullptr, Severity::kCritical,
     "reported uncorrectable errors (SMART 187) grew by {inc} in 7 days (now {now})", kReplaceNow,
     "reported uncorrectable errors (SMART 187) is {now} (not growing in the last 7 days)",
     "reported uncorrectable errors (SMART 187): 0"},
    {"pending_sectors", "", signals::kAtaPending, nullptr, Severity::kCritical,
     "pending sectors (SMART 197) grew by {inc} in 7 days (now {now})", kReplaceNow,
     "pending sectors (SMART 197) is {now} (not growing in the last 7 days)",
     "pending sectors (SMART 197): 0"},
    {"offline_uncorrectable", "", signals::kAtaOfflineUncorrectable, nullptr, Severity::kCritical,
     "offline uncorrectable sectors (SMART 198) grew by {inc} in 7 days (now {now})", kReplaceNow,
     "offline uncorrectable sectors (SMART 198) is {now} (not growing in the last 7 days)",
     "offline uncorrectable sectors (SMART 198): 0"},
    {"command_timeouts", "", signals::kAtaCommandTimeout, nullptr, Severity::kWarning,
     "command timeouts (SMART 188) grew by {inc} in 7 days: a cable, port or backplane problem, "
     "not a failing disk",
     kAtaCable, nullptr, "command timeouts (SMART 188) not growing"},
    {"interface_crc_errors", "", signals::kAtaCrcErrors, nullptr, Severity::kWarning,
     "interface CRC errors (SMART 199) grew by {inc} in 7 days: a cable, port or backplane "
     "problem, not a failing disk",
     kAtaCable, nullptr, "interface CRC errors (SMART 199) not growing"},
    {"media_errors", "media_errors_total", 0, &DiskObservation::media_errors, Severity::kCritical,
     "media errors grew by {inc} in 7 days (now {now})", kReplaceNow,
     "{now} media errors recorded (not growing in 7 days)", "no media errors"},
    {"scsi_grown_defects", "grown_defects", 0, &DiskObservation::scsi_grown_defects,
     Severity::kCritical, "grown defect list grew by {inc} in 7 days", kReplaceNow,
     "{now} grown defects (not growing in 7 days)", "no grown defects"},
    {"scsi_uncorrected_errors", "uncorrected_errors_total", 0, &DiskObservation::scsi_uncorrected,
     Severity::kCritical, "uncorrected read/write errors grew by {inc} in 7 days", kReplaceNow,
     nullptr, "no new uncorrected errors"},
    // Like SMART 188/199 on ATA: errors that are not the media's (transport, expander, HBA).
    {"scsi_non_medium_errors", "non_medium_errors_total", 0, &DiskObservation::scsi_non_medium,
     Severity::kWarning,
     "non-medium errors grew by {inc} in 7 days: a cable, expander or HBA problem more than a "
     "failing disk",
     kScsiTransport, nullptr, "non-medium errors not growing"},
};

// `text` with {inc} and {now} replaced.
std::string fill(std::string text, double inc, double now) {
  for (auto [key, v] : {std::pair<const char*, double>{"{inc}", inc}, {"{now}", now}}) {
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key)) {
      text.replace(at, std::string_view(key).size(), num(v));
    }
  }
  return text;
}

double inc7(const HistoryStore& h, const DiskObservation& d, const std::string& series,
            double now) {
  const auto* s = h.series("disk", d.historyId(), series);
  return s ? s->increase(now, kDiskWindow) : 0;
}

// The disk's temperature against the drive's own limit when it reports one (the SCSI trip
// temperature), else the configured defaults for its kind; the NVMe critical-warning
// temperature bit (the drive itself says it is outside its thresholds) is at least a warning.
void evaluateDiskTemperature(const DiskObservation& d, const HealthOptions& options, Emitter& e) {
  bool nvme_bit = std::find(d.nvme_warning_bits.begin(), d.nvme_warning_bits.end(),
                            "temperature") != d.nvme_warning_bits.end();
  if (!d.temperature && !nvme_bit) return;
  const bool ssd = d.isNvme() || d.rotational == false;
  double warn = ssd ? options.ssd_temperature_warning : options.disk_temperature_warning;
  double crit = ssd ? options.ssd_temperature_critical : options.disk_temperature_critical;
  std::string whose = ssd ? "the default SSD limit" : "the default disk limit";
  if (d.temperature_trip && *d.temperature_trip > 0) {
    crit = *d.temperature_trip;
    warn = crit - kDriveTripMargin;
    whose = "the drive's trip temperature";
  }
  std::vector<Evidence> ev;
  if (d.temperature) ev.push_back({"temperature_celsius", *d.temperature});
  ev.push_back({"warning_celsius", warn});
  ev.push_back({"critical_celsius", crit});
  if (d.isNvme()) ev.push_back({"nvme_temperature_warning", nvme_bit ? 1.0 : 0.0});
  const char* cool =
      "Cool the disk: check the fans and airflow over the drive bays, blanking panels and the "
      "room or rack inlet temperature; heat shortens a disk's life and a drive past its limit "
      "may stop or throttle.";
  if (d.temperature && *d.temperature >= crit) {
    e.add("disk_temperature", Severity::kCritical,
          num(*d.temperature) + " C is at or above " + whose + " " + num(crit) + " C", ev, cool);
  } else if (d.temperature && *d.temperature >= warn) {
    e.add("disk_temperature", Severity::kWarning,
          num(*d.temperature) + " C is at or above the warning limit " + num(warn) + " C (" +
              whose + " is " + num(crit) + " C)",
          ev, cool);
  } else if (nvme_bit) {
    e.add("disk_temperature", Severity::kWarning,
          "the drive reports a temperature outside its own thresholds (NVMe critical warning: "
          "temperature)" +
              (d.temperature ? "; now " + num(*d.temperature) + " C" : std::string()),
          ev, cool);
  } else {
    e.ok("disk_temperature", num(*d.temperature) + " C, below its limits", ev);
  }
}

}  // namespace

void evaluateDisk(const DiskObservation& d, const HistoryStore& h, double now,
                  const HealthOptions& options, std::vector<Finding>* out, double* risk) {
  std::string subject = d.device.empty() ? "disk" : d.device;
  std::string detail = d.model;
  if (!d.serial.empty() && d.serial != d.device)
    detail += (detail.empty() ? "" : ", ") + std::string("serial ") + d.serial;
  if (!detail.empty()) subject += " (" + detail + ")";
  Emitter e{out, "disks", "disk/" + (d.device.empty() ? d.serial : d.device), subject};
  // The device name stands in for an unknown serial (observe.h): only a real one is a label.
  if (!d.serial.empty() && d.serial != d.device) e.identity = {{"serial", d.serial}};
  const std::size_t first = out->size();

  if (d.gone()) {
    // The engine adds what was known before it disappeared (HealthEngine).
    e.add("disk_present", Severity::kWarning,
          "the disk disappeared from the system (it no longer answers at all)", {{"up", 0}},
          kDiskGone);
    return;
  }
  if (d.noSmartByDesign()) {
    // Not a finding about the disk: nothing can be known of its health from here.
    e.add("smart_available", Severity::kInfo,
          d.isVirtual() ? "no SMART (virtual disk): the hypervisor or cloud volume does not pass "
                          "SMART through; watch the host's disks or the provider's status instead"
                        : "no SMART: the device does not support it (" + d.down_reason + ")",
          {}, "");
    return;
  }
  if (d.up && !*d.up) {
    e.add("smart_readable", Severity::kWarning,
          "SMART data could not be read from this disk" +
              (d.down_reason.empty() ? std::string() : " (" + d.down_reason + ")"),
          {},
          "Check the disk's connection and the agent's log for the smart collector's error; a "
          "disk that stops answering SMART queries may be failing.");
  }

  if (d.smart_healthy) {
    if (!*d.smart_healthy) {
      e.add("smart_status", Severity::kCritical,
            "the disk's own SMART health assessment is FAILING (this includes SCSI failure "
            "prediction)",
            {{"smart_healthy", 0}}, kReplaceNow);
    } else {
      e.ok("smart_status", "SMART health assessment passed", {{"smart_healthy", 1}});
    }
  }

  if (d.isAta()) {
    const AtaAttribute* worst = nullptr;
    for (const auto& a : d.attributes) {
      if (!a.prefail || !a.value || !a.threshold || *a.threshold <= 0) continue;
      if (*a.value <= *a.threshold) {
        worst = &a;
        break;
      }
    }
    if (worst != nullptr) {
      e.add("prefail_threshold", Severity::kCritical,
            "pre-fail attribute " + std::to_string(worst->id) + " " + worst->name +
                " is at or below its threshold (" + num(*worst->value) +
                " <= " + num(*worst->threshold) + ")",
            {{"attribute_id", static_cast<double>(worst->id)},
             {"value", *worst->value},
             {"threshold", *worst->threshold}},
            kReplaceNow);
    } else {
      e.ok("prefail_threshold", "every pre-fail attribute is above its threshold");
    }
  }

  if (!d.nvme_warning_bits.empty() || d.nvme_spare || d.nvme_percentage_used) {
    std::vector<std::string> failing;
    for (const auto& b : d.nvme_warning_bits) {
      if (b == "available_spare" || b == "spare" || b == "reliability" || b == "read_only" ||
          b == "volatile_memory_backup" || b == "volatile_backup" || b == "persistent_memory")
        failing.push_back(b);
    }
    if (!failing.empty()) {
      std::string bits;
      for (const auto& b : failing) bits += (bits.empty() ? "" : ", ") + b;
      e.add("nvme_critical_warning", Severity::kCritical, "NVMe critical warning set: " + bits,
            {{"critical_warning_bits", static_cast<double>(failing.size())}}, kReplaceNow);
    } else {
      e.ok("nvme_critical_warning", "no NVMe critical warning bit set");
    }
    if (d.nvme_spare && d.nvme_spare_threshold) {
      double spare = *d.nvme_spare, thr = *d.nvme_spare_threshold;
      std::vector<Evidence> ev{{"available_spare_ratio", spare}, {"threshold_ratio", thr}};
      if (spare <= thr) {
        e.add("nvme_spare", Severity::kCritical,
              "available spare " + num(spare * 100) + "% is at or below its threshold " +
                  num(thr * 100) + "%",
              ev, kReplaceNow);
      } else if (spare <= thr + 0.10) {
        e.add("nvme_spare", Severity::kWarning,
              "available spare " + num(spare * 100) + "% is within 10 points of its threshold " +
                  num(thr * 100) + "%",
              ev, kPlanReplace);
      } else {
        e.ok("nvme_spare", "available spare " + num(spare * 100) + "%", ev);
      }
    }
    if (d.nvme_percentage_used) {
      double used = *d.nvme_percentage_used;
      std::vector<Evidence> ev{{"percentage_used_ratio", used}};
      if (used >= 1.0) {
        e.add("nvme_wear", Severity::kCritical,
              "the drive reports " + num(used * 100) + "% of its rated endurance used", ev,
              "Replace this SSD soon: it is past its rated write endurance.");
      } else if (used >= 0.9) {
        e.add("nvme_wear", Severity::kWarning,
              "the drive reports " + num(used * 100) + "% of its rated endurance used", ev,
              "Plan the replacement of this SSD: it is near its rated write endurance.");
      } else {
        e.ok("nvme_wear", num(used * 100) + "% of rated endurance used", ev);
      }
    }
  }
  for (const auto& r : kGrowthRules) {
    std::optional<double> value = r.ata_id != 0 ? d.raw(r.ata_id) : d.*r.field;
    if (!value) continue;
    std::string series = r.ata_id != 0 ? ataSeriesName(r.ata_id) : r.series;
    double inc = inc7(h, d, series, now);
    std::vector<Evidence> ev{{series, *value}, {"increase_7d", inc}};
    if (inc > 0) {
      e.add(r.check, r.on_growth, fill(r.grown, inc, *value), ev, r.action);
    } else if (r.present != nullptr && *value > 0) {
      e.add(r.check, Severity::kWarning, fill(r.present, inc, *value), ev, kPlanReplace);
    } else {
      e.ok(r.check, r.ok, ev);
    }
  }
  if (d.self_test_passed) {
    if (!*d.self_test_passed) {
      e.add("self_test", Severity::kCritical, "the disk's last self-test failed",
            {{"self_test_passed", 0}}, kReplaceNow);
    } else {
      e.ok("self_test", "no failed self-test on record", {{"self_test_passed", 1}});
    }
  }

  evaluateDiskTemperature(d, options, e);

  if (auto f = riskFeatures(d, h, now)) {
    double r = riskScore(*f);
    if (risk != nullptr) *risk = r;
    std::vector<Evidence> ev{{"risk", r}, {"operating_point", options.risk_warning}};
    if (r >= options.risk_critical) {
      e.add("failure_risk", Severity::kCritical,
            "the failure model puts this disk at very high risk (" + fix(r, 3) + ")", ev,
            kReplaceNow);
    } else if (r >= options.risk_warning) {
      e.add("failure_risk", Severity::kWarning,
            "the failure model puts this disk at high risk (" + fix(r, 3) +
                "); disks like it often fail within 30 days",
            ev, "Check that backups of this disk are current and schedule its replacement.");
    } else {
      e.ok("failure_risk", "failure risk " + fix(r, 3), ev);
    }
  }

  if (out->size() == first) {
    // Up, but not one SMART value in the snapshot: still a disk of this host, listed as such.
    e.add("smart_data", Severity::kInfo,
          "no SMART values read yet (the disk sleeps since the agent started, or it reports its "
          "identity only)",
          {}, "");
  }
}

// ---- temperatures ----

void evaluateTemperatures(const Observations& obs, const HistoryStore& h,
                          std::vector<Finding>* out) {
  for (const auto& s : obs.sensors) {
    if (!s.temperature) continue;
    std::string id = s.chip + "/" + s.sensor;
    Emitter e{out, "temperatures", "sensor/" + id, s.sensor + " on " + s.chip};
    double t = *s.temperature;
    std::vector<Evidence> ev{{"temperature_celsius", t}};
    if (s.max) ev.push_back({"max_celsius", *s.max});
    if (s.crit) ev.push_back({"crit_celsius", *s.crit});
    const char* cool =
        "Check airflow: fans running, filters and heatsinks clean, room or rack inlet "
        "temperature; reduce load until it cools down.";
    if (s.crit && *s.crit > 0 && t >= *s.crit) {
      e.add("temperature_limit", Severity::kCritical,
            num(t) + " C is at or above the critical limit " + num(*s.crit) + " C", ev, cool);
    } else if (s.max && *s.max > 0 && t >= *s.max) {
      e.add("temperature_limit", Severity::kWarning,
            num(t) + " C is at or above the high limit " + num(*s.max) + " C", ev, cool);
    } else if (s.max || s.crit) {
      e.ok("temperature_limit", num(t) + " C, below its limits", ev);
    }
    // Time to critical from the slope of the last 30 minutes.
    std::optional<double> limit = s.crit ? s.crit : s.max;
    const auto* series = h.series("sensor", id, "temperature_celsius");
    if (limit && *limit > t && series != nullptr) {
      auto slope = series->slope(obs.time, 30 * kMinute, 5);
      if (slope && *slope > 0) {
        double eta = (*limit - t) / *slope;
        std::vector<Evidence> sev{{"temperature_celsius", t},
                                  {"slope_celsius_per_minute", *slope * 60},
                                  {"seconds_to_limit", eta}};
        if (eta < 15 * kMinute) {
          e.add("time_to_critical", Severity::kCritical,
                "rising " + fix(*slope * 60, 2) + " C/min: " + num(*limit) + " C in about " +
                    num(std::ceil(eta / 60)) + " minutes",
                sev, cool);
        } else if (eta < kHour) {
          e.add("time_to_critical", Severity::kWarning,
                "rising " + fix(*slope * 60, 2) + " C/min: " + num(*limit) + " C in about " +
                    num(std::ceil(eta / 60)) + " minutes",
                sev, cool);
        } else {
          e.ok("time_to_critical", "not approaching its limit", sev);
        }
      } else {
        e.ok("time_to_critical", "not rising");
      }
    }
  }
  for (const auto& f : obs.fans) {
    std::string id = f.chip + "/" + f.sensor;
    Emitter e{out, "temperatures", "fan/" + id, f.sensor + " on " + f.chip};
    if (f.rpm > 0) {
      e.ok("fan_stopped", num(f.rpm) + " rpm", {{"fan_rpm", f.rpm}});
      continue;
    }
    // A stopped fan alone may be a fan header with nothing connected; it matters when the
    // temperatures of the same chip rise while it stands still.
    double rising = 0;
    double hottest = 0;
    bool at_max = false;
    for (const auto& s : obs.sensors) {
      if (s.chip != f.chip || !s.temperature) continue;
      const auto* series = h.series("sensor", s.chip + "/" + s.sensor, "temperature_celsius");
      if (series == nullptr) continue;
      auto slope = series->slope(obs.time, 10 * kMinute, 3);
      if (slope && *slope * 60 > rising) {
        rising = *slope * 60;
        hottest = *s.temperature;
      }
      if (s.max && *s.temperature >= *s.max) at_max = true;
    }
    std::vector<Evidence> ev{{"fan_rpm", 0}, {"temperature_slope_celsius_per_minute", rising}};
    if (rising >= 0.1) {
      e.add("fan_stopped", at_max ? Severity::kCritical : Severity::kWarning,
            "fan at 0 rpm while " + f.chip + " temperature rises " + fix(rising, 2) +
                " C/min (now " + num(hottest) + " C)",
            ev,
            "Check the fan: it has stopped or its cable is loose; replace it before the "
            "component overheats.");
    } else {
      e.ok("fan_stopped", "fan at 0 rpm but temperatures are not rising", ev);
    }
  }
}

// ---- network ----

void evaluateNetwork(const Observations& obs, const HistoryStore& h, std::vector<Finding>* out) {
  const double window = 15 * kMinute;
  for (const auto& i : obs.interfaces) {
    Emitter e{out, "network", "interface/" + i.name, i.name};
    const auto* ent = h.find("interface", i.identity());
    auto inc = [&](const char* s, double w) {
      if (ent == nullptr) return 0.0;
      auto it = ent->series.find(s);
      return it == ent->series.end() ? 0.0 : it->second.increase(obs.time, w);
    };
    if (i.has_errors) {
      // Physical-layer errors only: carrier changes (the "link" class) are flaps, judged by
      // link_flapping below; a flap is two carrier changes and no corrupted frame.
      double phys = inc("physical_errors_total", window);
      double pkts = inc("receive_packets_total", window);
      double ratio = pkts > 0 ? phys / pkts : (phys > 0 ? 1.0 : 0.0);
      std::vector<Evidence> ev{{"physical_errors_increase_15m", phys},
                               {"packets_increase_15m", pkts},
                               {"error_ratio", ratio}};
      const char* act =
          "Replace the cable or optic and check the switch port's counters; physical-layer "
          "errors are not caused by load.";
      // Why a ratio: a few CRC errors per billion frames on a busy link are noise; errors
      // that are a visible fraction of the traffic are a bad cable, optic or port.
      if (phys >= 10 && ratio >= 1e-3) {
        e.add("physical_errors", Severity::kCritical,
              num(phys) + " physical-layer errors in 15 minutes (" + sig(ratio * 100, 2) +
                  "% of received packets)",
              ev, act);
      } else if (phys >= 3 && ratio >= 1e-5) {
        e.add("physical_errors", Severity::kWarning,
              num(phys) + " physical-layer errors in 15 minutes (" + sig(ratio * 100, 2) +
                  "% of received packets)",
              ev, act);
      } else {
        e.ok("physical_errors", "no physical-layer errors growing", ev);
      }
      double host = inc("host_errors_total", window);
      if (host >= 100) {
        e.add("host_drops", Severity::kWarning,
              num(host) + " packets dropped by this host in 15 minutes",
              {{"host_drops_increase_15m", host}},
              "The host itself drops packets (ring buffer or backlog full, CPU busy): raise "
              "the NIC ring size (ethtool -G) or spread interrupts; the network is not at fault.");
      } else {
        e.ok("host_drops", "no host drops growing", {{"host_drops_increase_15m", host}});
      }
    }
    // Flaps from the link events the netdev collector counts; without them (link events not
    // available), from the kernel's carrier-change count, two changes (down, up) per flap.
    std::optional<double> flaps;
    if (i.flaps) {
      flaps = inc("link_flaps_total", kHour);
    } else if (i.has_errors) {
      flaps = std::floor(inc("link_errors_total", kHour) / 2);
    }
    if (flaps) {
      std::vector<Evidence> ev{{"flaps_increase_1h", *flaps}};
      const char* act =
          "The link goes down and up: reseat or replace the cable or optic, check the switch "
          "port's log and its negotiated speed.";
      if (*flaps >= 10) {
        e.add("link_flapping", Severity::kCritical, num(*flaps) + " link flaps in the last hour",
              ev, act);
      } else if (*flaps >= 3) {
        e.add("link_flapping", Severity::kWarning, num(*flaps) + " link flaps in the last hour", ev,
              act);
      } else {
        e.ok("link_flapping", "link stable", ev);
      }
    }
  }
}

// ---- upstream ----

void evaluateUpstream(const Observations& obs, const HistoryStore& h, std::vector<Finding>* out) {
  // "pending": no probe has resolved yet (a TCP connect to a far peer can take 14 s); that is
  // not knowing, not unreachable.
  auto unreachable = [](const ProbeObservation& p) {
    return (p.up && !*p.up && p.down_reason != "pending") || (p.loss_1m && *p.loss_1m >= 1.0);
  };
  // Reachability is judged per target address over all its probe kinds: a gateway that
  // drops ICMP echo but answers ARP or neighbour discovery is reachable (and not a page).
  // The probes are grouped by address once (first-seen order), the carriers looked up by name.
  std::map<std::string, std::size_t> group_of;
  std::vector<std::vector<const ProbeObservation*>> groups;
  for (const auto& p : obs.probes) {
    auto [it, added] = group_of.emplace(p.target, groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(&p);
  }
  std::map<std::string, double> carrier_of;  // what the netdev collector reported, by interface
  for (const auto& i : obs.interfaces) {
    if (i.carrier) carrier_of[i.name] = *i.carrier;
  }
  for (const auto& group : groups) {
    auto first = std::find_if(group.begin(), group.end(), [&](const ProbeObservation* q) {
      return q->gateway || unreachable(*q);
    });
    if (first == group.end()) continue;  // an up, non-gateway target: nothing to say
    const ProbeObservation& p = **first;
    std::string label = p.name.empty() ? p.target : p.name;
    Emitter e{out, "upstream", "upstream/" + label, p.display(), {{"target", p.target}}};
    // link_known: the netdev collector reported the probe's interface (it may be disabled,
    // and then the link is not assumed down).
    bool carrier_up = false, link_known = false, all_down = true, gateway = false;
    std::string answering, why;  // why: each probe's down reason ("icmp: host_unreachable")
    for (const ProbeObservation* q : group) {
      gateway |= q->gateway;
      if (auto c = carrier_of.find(q->interface); c != carrier_of.end()) {
        link_known = true;
        carrier_up |= c->second > 0;
      }
      if (!unreachable(*q)) {
        all_down = false;
        answering += (answering.empty() ? "" : ", ") + q->probe;
      } else if (!q->down_reason.empty()) {
        why += (why.empty() ? "" : ", ") + q->probe + ": " + q->down_reason;
      }
    }
    const char* check = gateway ? "gateway_unreachable" : "target_unreachable";
    std::vector<Evidence> ev{{"up", all_down ? 0.0 : 1.0}};
    if (link_known) ev.push_back({"carrier", carrier_up ? 1.0 : 0.0});
    if (all_down && (carrier_up || !link_known)) {
      e.add(check, Severity::kCritical,
            std::string(gateway ? "the gateway" : "the target") + " does not answer any probe" +
                (link_known ? " although the link is up" : "") +
                (why.empty() ? "" : " (" + why + ")"),
            ev,
            gateway ? "The link is up but the gateway does not answer: check the switch "
                      "port's VLAN, the gateway itself and this host's ARP/neighbour table."
                    : "Check that the target is running and reachable from this host.");
    } else {
      e.ok(check, all_down ? "the link is down" : "answers " + answering, ev);
    }
  }
  for (const auto& p : obs.probes) {
    std::string label = p.name.empty() ? p.target : p.name;
    // Several probes (icmp, arp, ndp) of one name: the target and kind keep them apart.
    Emitter e{out,
              "upstream",
              "upstream/" + label,
              p.display(),
              {{"target", p.target}, {"probe", p.probe}}};
    if (p.loss_5m) {
      double loss = *p.loss_5m;
      double warn = p.gateway ? 0.01 : 0.05;
      std::vector<Evidence> ev{{"loss_ratio_5m", loss}};
      std::string check = p.gateway ? "gateway_loss" : "target_loss";
      const char* act =
          "Packets are lost on the way: check this host's NIC counters, then the switch port "
          "(if other hosts on the same switch see loss too, suspect the switch).";
      if (loss > 0.10 && loss < 1.0) {
        e.add(check, Severity::kCritical, fix(loss * 100, 1) + "% loss over 5 minutes", ev, act);
      } else if (loss > warn && loss < 1.0) {
        e.add(check, Severity::kWarning, fix(loss * 100, 1) + "% loss over 5 minutes", ev, act);
      } else if (loss < 1.0) {
        e.ok(check, fix(loss * 100, 1) + "% loss over 5 minutes", ev);
      }
    }
    if (p.last_rtt) {
      const auto* s = h.series("probe", p.identity(), "last_rtt_seconds");
      if (s != nullptr) {
        // Baseline: the median of the last 24 hours without the newest 10 points; now: the
        // median of the last 5 minutes (one slow reply is not a finding).
        auto base = s->median(obs.time, kDay, 10, 20);
        auto now = s->median(obs.time, 5 * kMinute, 0, 3);
        if (base && now) {
          std::vector<Evidence> ev{{"rtt_seconds", *now}, {"baseline_rtt_seconds", *base}};
          if (*now > 3 * *base && *now - *base > 0.020) {
            e.add("latency_baseline", Severity::kWarning,
                  "latency " + fix(*now * 1000, 1) + " ms, its usual is " + fix(*base * 1000, 1) +
                      " ms",
                  ev,
                  "Latency is far above its usual: look for congestion or a changed path "
                  "(traceroute), and for loss on the same link.");
          } else {
            e.ok("latency_baseline", "latency near its usual", ev);
          }
        }
      }
    }
  }
}

}  // namespace foreshock
