#include "health/observe.h"

#include <algorithm>

#include "core/file_util.h"
#include "core/metric_set.h"
#include "health/signals.h"

namespace foreshock {

const AtaAttribute* DiskObservation::attribute(int id) const {
  for (const auto& a : attributes)
    if (a.id == id) return &a;
  return nullptr;
}

std::optional<double> DiskObservation::raw(int id) const {
  const auto* a = attribute(id);
  return a ? a->raw : std::nullopt;
}

bool DiskObservation::isNvme() const {
  return transport == "nvme" || device.starts_with("nvme") || !nvme_warning_bits.empty() ||
         nvme_spare || nvme_percentage_used;
}

bool DiskObservation::isVirtual() const {
  // virtio-blk (vd*), virtio-scsi (a SCSI disk under a virtio device: transport virtio, e.g.
  // Google's PersistentDisk) and Xen's blkfront (xvd*) pass no SMART through.
  return transport == "virtio" || transport == "xen" || device.starts_with("vd") ||
         device.starts_with("xvd");
}

bool DiskObservation::noSmartByDesign() const {
  if (!up || *up || gone()) return false;
  // not_smart_capable: the device says it has no SMART (Hyper-V and VMware virtual disks, many
  // USB sticks); unknown_device_type: smartctl cannot tell what protocol it speaks (virtio).
  return isVirtual() || down_reason == "not_smart_capable" || down_reason == "unknown_device_type";
}

std::string DiskObservation::historyId() const {
  if (serial.empty() || serial == device) return serial;
  std::string id = serial + '\x1f' + model;
  if (!wwn.empty()) id += '\x1f' + wwn;
  return id;
}

std::string historySerial(std::string_view id) {
  return std::string(id.substr(0, id.find('\x1f')));
}

namespace {

using Fams = std::vector<prometheus::MetricFamily>;

template <class F>
void each(const Fams& fams, std::string_view name, F&& f) {
  const auto* fam = findFamily(fams, name);
  if (fam == nullptr) return;
  for (const auto& m : fam->metric) f(m, sampleValue(*fam, m));
}

// The series of one disk in one snapshot: its model and serial with its device node (unique
// at one instant) (two disks may share a serial: serials are unique per vendor, not across
// vendors, and redacted dumps all say "REDACTED"). Its history identity is
// DiskObservation::historyId.
std::string diskKey(const prometheus::ClientMetric& m) {
  return labelValue(m, "model") + "\x1f" + labelValue(m, "serial") + "\x1f" +
         labelValue(m, "device");
}

}  // namespace

Observations observe(const Fams& fams, double time) {
  Observations o;
  o.time = time;

  // Disks, keyed by device, model and serial (diskKey).
  std::map<std::string, DiskObservation> disks;
  auto disk = [&](const prometheus::ClientMetric& m) -> DiskObservation& {
    auto& d = disks[diskKey(m)];
    if (d.device.empty()) d.device = labelValue(m, "device");
    if (d.serial.empty()) {
      d.serial = labelValue(m, "serial");
      if (d.serial.empty()) d.serial = d.device;
    }
    if (d.model.empty()) d.model = labelValue(m, "model");
    return d;
  };
  each(fams, signals::kDiskInfo, [&](const auto& m, double) {
    auto& d = disk(m);
    d.wwn = labelValue(m, "wwn");
    d.transport = labelValue(m, "transport");
    auto rot = labelValue(m, "rotational");
    if (rot == "1") d.rotational = true;
    if (rot == "0") d.rotational = false;
  });
  each(fams, signals::kDiskUp, [&](const auto& m, double v) {
    auto& d = disk(m);
    d.up = v != 0;
    d.down_reason = v != 0 ? "" : labelValue(m, "reason");
  });
  each(fams, signals::kDiskSmartHealthy,
       [&](const auto& m, double v) { disk(m).smart_healthy = v != 0; });
  auto attr = [&](const prometheus::ClientMetric& m) -> AtaAttribute* {
    auto id = parseInt(labelValue(m, "id"));
    if (!id) return nullptr;
    auto& d = disk(m);
    for (auto& a : d.attributes)
      if (a.id == *id) return &a;
    AtaAttribute a;
    a.id = static_cast<int>(*id);
    a.name = labelValue(m, "name");
    d.attributes.push_back(a);
    return &d.attributes.back();
  };
  auto prefailLabel = [](const prometheus::ClientMetric& m) {
    auto p = labelValue(m, "prefail");
    return p == "1" || p == "true" || labelValue(m, "type") == "prefail" ||
           labelValue(m, "type") == "pre-fail";
  };
  each(fams, signals::kAtaRaw, [&](const auto& m, double v) {
    if (auto* a = attr(m)) a->raw = v, a->prefail = a->prefail || prefailLabel(m);
  });
  each(fams, signals::kAtaValue, [&](const auto& m, double v) {
    if (auto* a = attr(m)) a->value = v, a->prefail = a->prefail || prefailLabel(m);
  });
  each(fams, signals::kAtaThreshold, [&](const auto& m, double v) {
    if (auto* a = attr(m)) a->threshold = v, a->prefail = a->prefail || prefailLabel(m);
  });
  each(fams, signals::kAtaWorst, [&](const auto& m, double v) {
    if (auto* a = attr(m)) a->worst = v;
  });
  each(fams, signals::kAtaPrefail, [&](const auto& m, double v) {
    if (auto* a = attr(m)) a->prefail = a->prefail || v != 0;
  });
  each(fams, signals::kNvmeCriticalWarning, [&](const auto& m, double v) {
    auto& d = disk(m);
    if (v != 0) d.nvme_warning_bits.push_back(labelValue(m, "bit"));
  });
  each(fams, signals::kNvmeSpare, [&](const auto& m, double v) { disk(m).nvme_spare = v; });
  each(fams, signals::kNvmeSpareThreshold,
       [&](const auto& m, double v) { disk(m).nvme_spare_threshold = v; });
  each(fams, signals::kNvmePercentageUsed,
       [&](const auto& m, double v) { disk(m).nvme_percentage_used = v; });
  each(fams, signals::kDiskMediaErrors, [&](const auto& m, double v) { disk(m).media_errors = v; });
  each(fams, signals::kScsiGrownDefects,
       [&](const auto& m, double v) { disk(m).scsi_grown_defects = v; });
  each(fams, signals::kScsiUncorrected, [&](const auto& m, double v) {
    auto& d = disk(m);
    d.scsi_uncorrected = d.scsi_uncorrected.value_or(0) + v;  // summed over read/write/verify
  });
  each(fams, signals::kScsiNonMedium,
       [&](const auto& m, double v) { disk(m).scsi_non_medium = v; });
  each(fams, signals::kDiskTemperature, [&](const auto& m, double v) { disk(m).temperature = v; });
  each(fams, signals::kDiskTemperatureTrip,
       [&](const auto& m, double v) { disk(m).temperature_trip = v; });
  each(fams, signals::kDiskPowerOn, [&](const auto& m, double v) { disk(m).power_on_seconds = v; });
  each(fams, signals::kAtaSelfTestStatus, [&](const auto& m, double v) {
    // 0 means "passed or never run": no failure on record. 1, 2 and 15 (aborted,
    // interrupted, in progress) say nothing either way.
    int code = static_cast<int>(v);
    if (code == 0) disk(m).self_test_passed = true;
    if (code >= 3 && code <= 8) disk(m).self_test_passed = false;  // fatal or a failed element
  });
  for (auto& [_, d] : disks) {
    std::sort(d.attributes.begin(), d.attributes.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    o.disks.push_back(std::move(d));
  }
  o.have_disks = !o.disks.empty();

  // Sensors.
  std::map<std::pair<std::string, std::string>, SensorObservation> sensors;
  auto sensor = [&](const prometheus::ClientMetric& m) -> SensorObservation& {
    auto chip = labelValue(m, "chip"), name = labelValue(m, "sensor");
    auto& s = sensors[{chip, name}];
    s.chip = chip;
    s.sensor = name;
    return s;
  };
  each(fams, signals::kSensorTemp, [&](const auto& m, double v) { sensor(m).temperature = v; });
  each(fams, signals::kSensorTempMax, [&](const auto& m, double v) { sensor(m).max = v; });
  each(fams, signals::kSensorTempCrit, [&](const auto& m, double v) { sensor(m).crit = v; });
  for (auto& [_, s] : sensors) o.sensors.push_back(std::move(s));
  each(fams, signals::kSensorFan, [&](const auto& m, double v) {
    o.fans.push_back({labelValue(m, "chip"), labelValue(m, "sensor"), v});
  });
  o.have_sensors = !o.sensors.empty() || !o.fans.empty();

  // Network interfaces.
  std::map<std::string, InterfaceObservation> ifaces;
  auto iface = [&](const prometheus::ClientMetric& m) -> InterfaceObservation& {
    auto name = labelValue(m, "interface");
    auto& i = ifaces[name];
    i.name = name;
    return i;
  };
  each(fams, signals::kNetInfo,
       [&](const auto& m, double) { iface(m).permanent_mac = labelValue(m, "permanent_mac"); });
  each(fams, signals::kNetErrors, [&](const auto& m, double v) {
    auto& i = iface(m);
    i.has_errors = true;
    auto cls = labelValue(m, "class");
    if (cls == "physical")
      i.physical_errors += v;
    else if (cls == "link")
      i.link_errors += v;
    else if (cls == "host")
      i.host_errors += v;
  });
  each(fams, signals::kNetRxPackets, [&](const auto& m, double v) { iface(m).rx_packets = v; });
  each(fams, signals::kNetFlaps, [&](const auto& m, double v) { iface(m).flaps = v; });
  each(fams, signals::kNetCarrier, [&](const auto& m, double v) { iface(m).carrier = v; });
  for (auto& [_, i] : ifaces) o.interfaces.push_back(std::move(i));
  o.have_network = !o.interfaces.empty();

  // Probes, keyed by probe kind + target.
  std::map<std::string, ProbeObservation> probes;
  auto probe = [&](const prometheus::ClientMetric& m) -> ProbeObservation& {
    auto k = labelValue(m, "probe") + ":" + labelValue(m, "target");
    auto& p = probes[k];
    p.target = labelValue(m, "target");
    p.probe = labelValue(m, "probe");
    if (p.name.empty()) p.name = labelValue(m, "name");
    if (p.interface.empty()) p.interface = labelValue(m, "interface");
    // "default-gateway" is what the probe collector names the gateways it discovers.
    p.gateway = p.gateway || labelValue(m, "role") == "gateway" || p.name == "gateway" ||
                p.name == "default-gateway";
    return p;
  };
  each(fams, signals::kProbeLoss, [&](const auto& m, double v) {
    auto w = labelValue(m, "window");
    if (w == "1m")
      probe(m).loss_1m = v;
    else if (w == "5m")
      probe(m).loss_5m = v;
  });
  each(fams, signals::kProbeLastRtt, [&](const auto& m, double v) { probe(m).last_rtt = v; });
  each(fams, signals::kProbeUp, [&](const auto& m, double v) {
    auto& p = probe(m);
    p.up = v != 0;
    if (v == 0) p.down_reason = labelValue(m, "reason");
  });
  for (auto& [_, p] : probes) o.probes.push_back(std::move(p));
  o.have_probes = !o.probes.empty();
  o.kernel = observeKernel(fams);
  return o;
}

}  // namespace foreshock
