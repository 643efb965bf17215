// Typed observations the rules read, extracted from a snapshot's metric families by the names
// in health/signals.h. The same types are filled by `foreshock replay` from Backblaze rows, so
// the agent and the replay run the very same rules.
#pragma once

#include <prometheus/metric_family.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "health/kernel_rules.h"

namespace foreshock {

struct AtaAttribute {
  int id = 0;
  std::string name;
  std::optional<double> raw, value, threshold, worst;
  bool prefail = false;
};

struct DiskObservation {
  std::string device;  // location (sda, nvme0n1); "" when unknown
  std::string serial;  // identity; the device name stands in when the serial is unknown
  std::string model;
  std::string wwn;        // world wide name from foreshock_disk_info; "" when unknown
  std::string transport;  // foreshock_disk_info's transport (ata, nvme, sas, virtio...)
  std::optional<bool> rotational;
  std::optional<bool> up;
  std::string down_reason;  // foreshock_disk_up's reason label while down (gone, open_failed...)
  std::optional<bool> smart_healthy;
  std::vector<AtaAttribute> attributes;        // sorted by id
  std::vector<std::string> nvme_warning_bits;  // names of set critical-warning bits
  std::optional<double> nvme_spare, nvme_spare_threshold, nvme_percentage_used;
  std::optional<double> media_errors, scsi_grown_defects, scsi_uncorrected, scsi_non_medium;
  std::optional<double> temperature, temperature_trip, power_on_seconds;
  std::optional<bool> self_test_passed;

  const AtaAttribute* attribute(int id) const;
  std::optional<double> raw(int id) const;
  bool isAta() const { return !attributes.empty(); }
  bool isNvme() const;
  // Whether the device cannot report SMART at all, by design: a virtual disk (virtio, Xen, a
  // cloud volume) or a device that says it has no SMART. Such a disk is reported as "no SMART",
  // never as a warning.
  bool noSmartByDesign() const;
  bool isVirtual() const;
  // The disk disappeared from the system (foreshock_disk_up{reason="gone"}).
  bool gone() const { return up && !*up && down_reason == "gone"; }
  // The key of this disk's history: model + serial (+ WWN when known), so that disks of
  // different vendors (or redacted dumps) sharing a serial stay apart; the device name when
  // the serial is unknown (then serial == device). See historySerial().
  std::string historyId() const;
};

// The serial inside a history id made by DiskObservation::historyId; the whole id for an id
// without a model part (a device-name stand-in, or an id written before the model and WWN
// were part of the key).
std::string historySerial(std::string_view id);

struct SensorObservation {
  std::string chip, sensor;
  std::optional<double> temperature, max, crit;
};

struct FanObservation {
  std::string chip, sensor;
  double rpm = 0;
};

struct InterfaceObservation {
  std::string name, permanent_mac;
  double physical_errors = 0, link_errors = 0, host_errors = 0;  // summed over directions
  bool has_errors = false;
  std::optional<double> rx_packets, flaps, carrier;
  std::string identity() const { return permanent_mac.empty() ? name : name + "/" + permanent_mac; }
};

struct ProbeObservation {
  std::string target, name, probe, interface;
  bool gateway = false;
  std::optional<double> loss_1m, loss_5m, last_rtt;
  std::optional<bool> up;
  std::string
      down_reason;  // foreshock_probe_up's reason label while down (timeout, host_unreachable...)
  std::string identity() const { return probe.empty() ? target : probe + ":" + target; }
  std::string display() const { return name.empty() ? target : name + " (" + target + ")"; }
};

struct Observations {
  double time = 0;  // Unix seconds
  std::vector<DiskObservation> disks;
  std::vector<SensorObservation> sensors;
  std::vector<FanObservation> fans;
  std::vector<InterfaceObservation> interfaces;
  std::vector<ProbeObservation> probes;
  KernelObservations kernel;  // the kernel collector's series (health/kernel_rules.h)
  // Which families were present at all (a collector not running is not "all clean").
  bool have_disks = false, have_sensors = false, have_network = false, have_probes = false;
};

// Reads the families by the names in health/signals.h. Unknown or missing series are simply
// absent from the result; never throws on odd label values.
Observations observe(const std::vector<prometheus::MetricFamily>& families, double time);

}  // namespace foreshock
