#include "health/kernel_rules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/file_util.h"
#include "core/metric_set.h"
#include "health/finding.h"
#include "health/history.h"
#include "health/observe.h"

namespace foreshock {

namespace {

using Fams = std::vector<prometheus::MetricFamily>;

constexpr double kHour = 3600;
constexpr double kDay = 86400;

// How a kernel collector family maps to a history counter: the component is
// "kernel/<kind>/<label value>" (or a fixed one), the signal is fixed or takes a label value.
struct FamilyMap {
  const char* family;
  const char* kind;       // "disk", "fs", "cpu", "memory", "pcie", "nvme", "ata", "md"
  const char* id_label;   // label naming the component (nullptr: one component)
  const char* signal;     // history signal; "%s" is replaced by sig_label's value
  const char* sig_label;  // nullptr: none
  const char* subject;    // how a person calls the component; "%s" = the id
};

constexpr FamilyMap kFamilies[] = {
    {"foreshock_kernel_block_io_errors_total", "disk", "device", "block_io_errors_total", nullptr,
     "disk %s"},
    {"foreshock_kernel_fs_errors_total", "fs", "device", "fs_errors_total", nullptr,
     "filesystem on %s"},
    {"foreshock_kernel_fs_readonly_total", "fs", "device", "fs_readonly_total", nullptr,
     "filesystem on %s"},
    {"foreshock_kernel_mce_events_total", "cpu", nullptr, "mce_%s_total", "kind",
     "CPUs and memory (machine checks)"},
    {"foreshock_kernel_edac_errors_total", "memory", "controller", "log_edac_%s_total", "class",
     "memory controller %s"},
    {"foreshock_edac_correctable_errors_total", "memory", "controller", "edac_corrected_total",
     nullptr, "memory controller %s"},
    {"foreshock_edac_uncorrectable_errors_total", "memory", "controller", "edac_uncorrected_total",
     nullptr, "memory controller %s"},
    {"foreshock_kernel_pcie_aer_errors_total", "pcie", "device", "log_aer_%s_total", "class",
     "PCIe device %s"},
    {"foreshock_pcie_aer_errors_total", "pcie", "device", "aer_%s_total", "class",
     "PCIe device %s"},
    {"foreshock_kernel_nvme_resets_total", "nvme", "device", "nvme_resets_total", nullptr,
     "NVMe controller %s"},
    {"foreshock_kernel_nvme_timeouts_total", "nvme", "device", "nvme_timeouts_total", nullptr,
     "NVMe controller %s"},
    {"foreshock_kernel_ata_link_resets_total", "ata", "port", "ata_link_resets_total", nullptr,
     "ATA port %s"},
    {"foreshock_kernel_ata_exceptions_total", "ata", "port", "ata_exceptions_total", nullptr,
     "ATA port %s"},
    {"foreshock_kernel_firmware_errors_total", "firmware", nullptr, "firmware_%s_total", "class",
     "firmware-reported hardware errors (APEI/GHES)"},
    {"foreshock_kernel_md_disk_failures_total", "md", "array", "md_disk_failures_total", nullptr,
     "md array %s"},
};

std::string fill(const char* pattern, const std::string& value) {
  std::string p = pattern;
  const auto pos = p.find("%s");
  if (pos != std::string::npos) p.replace(pos, 2, value);
  return p;
}

std::string num(double v) {
  return formatNumber(v, 3);
}

struct Emit {
  std::vector<Finding>* out;
  std::string component, subject;
  void add(const char* check, Severity sev, std::string summary, std::vector<Evidence> ev,
           const char* action) {
    Finding f;
    f.category = "kernel";
    f.component = component;
    f.subject = subject;
    f.check = check;
    f.severity = sev;
    f.summary = std::move(summary);
    f.evidence = std::move(ev);
    if (sev >= Severity::kWarning) f.action = action;
    out->push_back(std::move(f));
  }
};

// The counter's increase over the window. Without two recorded points (first sight, or
// `foreshock check` with no history) the whole current value counts: the log counters start
// at zero when the agent starts, the sysfs counters count since boot.
struct Rise {
  const KernelObservations* obs;
  const HistoryStore* h;
  double now;
  std::string component;
  bool known = false;  // any signal of the component had history
  double operator()(const std::string& signal, double window) {
    const auto* c = obs->counter(component, signal);
    if (c == nullptr) return 0;
    const auto* s = h->series("kernel", component, signal);
    if (s != nullptr && s->size() >= 2) {
      known = true;
      double inc = s->increase(now, window);
      // A log counter was zero before its first recorded point (its first event): when that
      // point lies in the window, its value is part of the increase; without this a read-only
      // filesystem turned back to ok one history sample after the error. A sysfs counter's
      // first value is old (it counts since boot).
      if (!c->since_boot) {
        const auto first = s->oldest();
        if (first && first->t > now - window) inc += first->v;
      }
      return inc;
    }
    return c->value;
  }
  double total(const std::string& signal) {
    const auto* c = obs->counter(component, signal);
    return c == nullptr ? 0 : c->value;
  }
};

void evaluateComponent(const std::string& kind, Emit& e, Rise& rise) {
  if (kind == "disk") {
    const double h1 = rise("block_io_errors_total", kHour);
    const double d1 = rise("block_io_errors_total", kDay);
    std::vector<Evidence> ev{{"io_errors_increase_1h", h1},
                             {"io_errors_increase_24h", d1},
                             {"io_errors_total", rise.total("block_io_errors_total")}};
    const char* act =
        "The kernel got I/O errors from this disk: check its SMART data and cabling, make sure "
        "backups are current and plan to replace it; reads that fail now may lose data.";
    if (h1 > 0) {
      e.add("block_io_errors", Severity::kCritical,
            "disk returning I/O errors: " + num(h1) + " failed requests in the last hour", ev, act);
    } else if (d1 > 0) {
      e.add("block_io_errors", Severity::kWarning,
            num(d1) + " failed requests in the last 24 hours, none in the last hour", ev, act);
    } else {
      e.add("block_io_errors", Severity::kOk, "no I/O errors logged", ev, "");
    }
  } else if (kind == "fs") {
    const double ro = rise("fs_readonly_total", kDay);
    const double err = rise("fs_errors_total", kDay);
    if (ro > 0) {
      e.add("fs_readonly", Severity::kCritical,
            "the kernel took the filesystem out of write service (read-only or shut down) " +
                num(ro) + " time(s) in the last 24 hours",
            {{"readonly_increase_24h", ro}},
            "Writes to this filesystem fail: check the kernel log and the disk under it, run "
            "the filesystem's check (fsck, xfs_repair) from maintenance, then remount.");
    } else {
      e.add("fs_readonly", Severity::kOk, "not taken out of write service",
            {{"readonly_increase_24h", 0}}, "");
    }
    if (err > 0) {
      e.add("fs_errors", Severity::kWarning,
            num(err) + " filesystem error messages in the last 24 hours",
            {{"fs_errors_increase_24h", err}},
            "The filesystem found inconsistencies or failed I/O: look at the disk under it and "
            "schedule a filesystem check.");
    } else {
      e.add("fs_errors", Severity::kOk, "no filesystem errors logged",
            {{"fs_errors_increase_24h", 0}}, "");
    }
  } else if (kind == "cpu") {
    const double logged = rise("mce_logged_total", kDay) + rise("mce_corrected_total", kDay);
    const double uc = rise("mce_uncorrected_total", kDay);
    const double mf = rise("mce_memory_failure_total", kDay);
    std::vector<Evidence> ev{{"corrected_increase_24h", logged},
                             {"uncorrected_increase_24h", uc},
                             {"memory_failure_increase_24h", mf}};
    const char* act =
        "Read the machine-check records (rasdaemon: ras-mc-ctl --errors, or the kernel log) to "
        "find the bank, CPU or DIMM; repeated events mean replacing that part.";
    if (uc > 0 || mf > 0) {
      e.add("machine_checks", Severity::kCritical,
            num(uc) + " uncorrected machine-check records and " + num(mf) +
                " pages taken offline in the last 24 hours",
            ev, act);
    } else if (logged > 0) {
      e.add("machine_checks", Severity::kWarning,
            "corrected machine-check events: " + num(logged) + " in the last 24 hours", ev, act);
    } else {
      e.add("machine_checks", Severity::kOk, "no machine-check events", ev, "");
    }
  } else if (kind == "memory") {
    const double ue =
        std::max(rise("edac_uncorrected_total", kDay), rise("log_edac_uncorrected_total", kDay));
    const double ce =
        std::max(rise("edac_corrected_total", kDay), rise("log_edac_corrected_total", kDay));
    std::vector<Evidence> ev{{"uncorrectable_increase_24h", ue},
                             {"correctable_increase_24h", ce},
                             {"correctable_total", rise.total("edac_corrected_total")}};
    if (ue > 0) {
      e.add("memory_errors", Severity::kCritical,
            num(ue) + " uncorrectable memory errors in the last 24 hours", ev,
            "Uncorrectable memory errors corrupt data or crash the host: find the DIMM "
            "(foreshock_edac_dimm_*, ras-mc-ctl) and replace it now.");
    } else if (ce > 0) {
      e.add("memory_errors", Severity::kWarning,
            "memory correctable errors rising: " + num(ce) + " in the last 24 hours" +
                (rise.known ? "" : " (or since boot: no history yet)"),
            ev,
            "Correctable errors that keep coming announce a failing DIMM: find it by its label "
            "(foreshock_edac_dimm_correctable_errors_total) and plan its replacement.");
    } else {
      e.add("memory_errors", Severity::kOk, "no memory errors growing", ev, "");
    }
  } else if (kind == "pcie") {
    const double unc =
        std::max(rise("aer_fatal_total", kDay) + rise("aer_nonfatal_total", kDay),
                 rise("log_aer_fatal_total", kDay) + rise("log_aer_nonfatal_total", kDay));
    const double cor =
        std::max(rise("aer_corrected_total", kDay), rise("log_aer_corrected_total", kDay));
    std::vector<Evidence> ev{{"uncorrected_increase_24h", unc}, {"corrected_increase_24h", cor}};
    if (unc > 0) {
      e.add("pcie_aer", Severity::kCritical,
            num(unc) + " uncorrectable PCIe errors in the last 24 hours", ev,
            "Uncorrectable PCIe errors reset or drop the device: reseat the card or drive, "
            "check the slot and riser, update the firmware; replace the part if they repeat.");
    } else if (cor > 0) {
      e.add("pcie_aer", Severity::kWarning,
            "PCIe link degraded: " + num(cor) + " corrected errors in the last 24 hours" +
                (rise.known ? "" : " (or since boot: no history yet)"),
            ev,
            "Corrected PCIe errors are a link that retrains (signal integrity): reseat the card "
            "or drive and check the slot; the link may be running at a lower speed.");
    } else {
      e.add("pcie_aer", Severity::kOk, "no PCIe errors growing", ev, "");
    }
  } else if (kind == "nvme") {
    const double resets = rise("nvme_resets_total", kDay);
    const double resets1h = rise("nvme_resets_total", kHour);
    const double timeouts = rise("nvme_timeouts_total", kDay);
    std::vector<Evidence> ev{{"resets_increase_24h", resets},
                             {"resets_increase_1h", resets1h},
                             {"timeouts_increase_24h", timeouts}};
    const char* act =
        "The NVMe controller stopped answering and was reset: check its SMART log and "
        "temperature, update its firmware, reseat it; repeated resets precede a drive that "
        "drops off the bus.";
    if (resets1h >= 3) {
      e.add("nvme_resets", Severity::kCritical,
            num(resets1h) + " controller resets in the last hour", ev, act);
    } else if (resets > 0 || timeouts > 0) {
      e.add("nvme_resets", Severity::kWarning,
            num(resets) + " controller resets and " + num(timeouts) +
                " command timeouts in the last 24 hours",
            ev, act);
    } else {
      e.add("nvme_resets", Severity::kOk, "no resets or timeouts", ev, "");
    }
  } else if (kind == "firmware") {
    const double bad =
        rise("firmware_fatal_total", kDay) + rise("firmware_recoverable_total", kDay);
    const double cor = rise("firmware_corrected_total", kDay);
    std::vector<Evidence> ev{{"uncorrected_increase_24h", bad}, {"corrected_increase_24h", cor}};
    const char* act =
        "The firmware reported hardware errors (APEI/GHES): read the full record in the kernel "
        "log or the BMC's event log (SEL) to find the DIMM, CPU or PCIe device, and replace it "
        "if the errors repeat or are uncorrected.";
    if (bad > 0) {
      e.add("firmware_errors", Severity::kCritical,
            num(bad) +
                " uncorrected (fatal or recoverable) firmware-reported errors in the last "
                "24 hours",
            ev, act);
    } else if (cor > 0) {
      e.add("firmware_errors", Severity::kWarning,
            num(cor) + " corrected firmware-reported errors in the last 24 hours", ev, act);
    } else {
      e.add("firmware_errors", Severity::kOk, "no firmware-reported errors", ev, "");
    }
  } else if (kind == "ata") {
    const double resets = rise("ata_link_resets_total", kDay);
    const double exc = rise("ata_exceptions_total", kDay);
    std::vector<Evidence> ev{{"link_resets_increase_24h", resets},
                             {"exceptions_increase_24h", exc}};
    if (resets > 0 || exc > 0) {
      e.add("ata_link_resets", Severity::kWarning,
            num(resets) + " link resets and " + num(exc) +
                " error-handler exceptions in the last 24 hours",
            ev,
            "The SATA link is unstable: replace the cable (the commonest cause), try another "
            "port; if it follows the disk, check the disk's SMART data.");
    } else {
      e.add("ata_link_resets", Severity::kOk, "link stable", ev, "");
    }
  }
}

}  // namespace

const KernelCounter* KernelObservations::counter(const std::string& component,
                                                 const std::string& signal) const {
  for (const auto& c : counters)
    if (c.component == component && c.signal == signal) return &c;
  return nullptr;
}

KernelObservations observeKernel(const Fams& fams) {
  KernelObservations o;
  std::map<std::pair<std::string, std::string>, KernelCounter> counters;
  for (const auto& fm : kFamilies) {
    const auto* fam = findFamily(fams, fm.family);
    if (fam == nullptr) continue;
    o.present = true;
    for (const auto& m : fam->metric) {
      const std::string id = fm.id_label ? labelValue(m, fm.id_label) : "";
      const std::string component = std::string("kernel/") + fm.kind + (id.empty() ? "" : "/" + id);
      const std::string signal =
          fm.sig_label ? fill(fm.signal, labelValue(m, fm.sig_label)) : fm.signal;
      auto& c = counters[{component, signal}];
      c.component = component;
      c.subject = fill(fm.subject, id);
      c.signal = signal;
      c.since_boot = !startsWith(fm.family, "foreshock_kernel_");
      c.value += sampleValue(*fam, m);  // e.g. fs errors of one device summed over fs types
    }
  }
  for (auto& [_, c] : counters) o.counters.push_back(std::move(c));
  if (const auto* up = findFamily(fams, "foreshock_kernel_source_up")) {
    o.present = true;
    for (const auto& m : up->metric) {
      if (labelValue(m, "source") != "kmsg") continue;
      o.kmsg_up = sampleValue(*up, m) != 0;
      o.kmsg_reason = labelValue(m, "reason");
    }
  }
  std::map<std::string, KernelMdArray> md;
  if (const auto* f = findFamily(fams, "foreshock_md_degraded")) {
    for (const auto& m : f->metric) {
      auto& a = md[labelValue(m, "array")];
      a.degraded = sampleValue(*f, m);
    }
  }
  if (const auto* f = findFamily(fams, "foreshock_md_members")) {
    for (const auto& m : f->metric) {
      if (labelValue(m, "state") != "faulty") continue;
      md[labelValue(m, "array")].faulty = sampleValue(*f, m);
    }
  }
  if (const auto* f = findFamily(fams, "foreshock_md_info")) {
    for (const auto& m : f->metric)
      md[labelValue(m, "array")].array_state = labelValue(m, "array_state");
  }
  for (auto& [name, a] : md) {
    a.array = name;
    o.md_arrays.push_back(std::move(a));
    o.present = true;
  }
  return o;
}

void recordKernel(HistoryStore& h, const KernelObservations& obs, double t) {
  for (const auto& c : obs.counters) {
    h.record("kernel", c.component, c.signal, SeriesKind::kCounter, t, c.value);
  }
}

void evaluateKernel(const Observations& all, const HistoryStore& h, std::vector<Finding>* out) {
  const KernelObservations& obs = all.kernel;
  if (!obs.present) return;
  if (obs.kmsg_up && !*obs.kmsg_up) {
    Finding f;
    f.category = "kernel";
    f.component = "kernel/log";
    f.subject = "kernel log";
    f.check = "kernel_log";
    f.severity = Severity::kInfo;  // a blind spot, not a hardware fault
    f.summary = "the kernel log is not readable (" + obs.kmsg_reason +
                "): disk, memory and PCIe errors it reports are not seen; needs CAP_SYSLOG "
                "when kernel.dmesg_restrict=1";
    out->push_back(std::move(f));
  }
  // Components in counter order; md arrays also from their state series.
  std::vector<std::pair<std::string, std::string>> components;  // component, subject
  for (const auto& c : obs.counters) {
    if (!components.empty() && components.back().first == c.component) continue;
    // PCIe: only devices that ever counted an error (sysfs lists every AER-capable device).
    if (c.component.rfind("kernel/pcie/", 0) == 0) {
      bool any = false;
      for (const auto& d : obs.counters)
        if (d.component == c.component && d.value > 0) any = true;
      if (!any) continue;
    }
    components.emplace_back(c.component, c.subject);
  }
  for (const auto& [component, subject] : components) {
    const std::string rest = component.substr(7);  // after "kernel/"
    const std::string kind = rest.substr(0, rest.find('/'));
    if (kind == "md") continue;  // below, with the array state
    Emit e{out, component, subject};
    Rise rise{&obs, &h, all.time, component};
    evaluateComponent(kind, e, rise);
  }
  std::map<std::string, KernelMdArray> arrays;
  for (const auto& a : obs.md_arrays) arrays[a.array] = a;
  for (const auto& c : obs.counters)
    if (c.signal == "md_disk_failures_total")
      arrays[c.component.substr(10)].array = c.component.substr(10);
  for (const auto& [name, a] : arrays) {
    const std::string component = "kernel/md/" + name;
    Emit e{out, component, "md array " + name};
    Rise rise{&obs, &h, all.time, component};
    const double failures = rise("md_disk_failures_total", kDay);
    std::vector<Evidence> ev{{"missing_members", a.degraded},
                             {"faulty_members", a.faulty},
                             {"disk_failures_increase_24h", failures}};
    if (a.degraded > 0 || a.faulty > 0 || failures > 0) {
      e.add("md_degraded", Severity::kCritical,
            "array degraded: " + num(a.degraded) + " member(s) missing, " + num(a.faulty) +
                " faulty, " + num(failures) + " failed out in the last 24 hours",
            ev,
            "The array runs without full redundancy: one more failure loses data. Replace the "
            "failed disk (mdadm --manage --remove / --add) and watch the rebuild.");
    } else {
      e.add("md_degraded", Severity::kOk, "all members in sync", ev, "");
    }
  }
}

}  // namespace foreshock
